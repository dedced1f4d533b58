// Host-side structured clone on the same native path agents use (V8's
// ValueSerializer with our delegates), for tests and for users who want the
// exact semantics without an agent.
import { native } from '../native.js';

export interface CloneOptions {
  /** ArrayBuffers to move into the clone (the originals are detached). */
  transfer?: readonly ArrayBuffer[];
}

export function clone<T>(value: T, options?: CloneOptions): T {
  return native.clone(value, options?.transfer) as T;
}
