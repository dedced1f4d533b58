// AgentPool jobs: `move` is a global inside pool agents.
export { inc, rendezvous, work } from './common.mjs';

export function touch(buffer) {
  new Uint8Array(buffer)[0]++;
  return move(buffer);
}
