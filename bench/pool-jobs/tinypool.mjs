// tinypool jobs.
import { Tinypool } from 'tinypool';
export { inc, rendezvous, work } from './common.mjs';

export function touch(buffer) {
  new Uint8Array(buffer)[0]++;
  return Tinypool.move(buffer);
}
