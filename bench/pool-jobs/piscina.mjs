// piscina jobs.
import { move } from 'piscina';
export { inc, rendezvous, work } from './common.mjs';

export function touch(buffer) {
  new Uint8Array(buffer)[0]++;
  return move(buffer);
}
