/**
 * Wait loops written once for the blocking and the async form of a method.
 *
 * A protocol's loop is a generator over the object's words: it returns its
 * result, or yields a Sleep when it must wait for a word to change. The
 * blocking driver sleeps with Atomics.wait, the async one with
 * Atomics.waitAsync, and both resume the generator after every wake-up
 * (notified, value already changed, or timed out: the loop re-reads the state
 * and its deadline itself). An error from a wait propagates to the caller of
 * the driver, not into the generator.
 */
import { wait, waitAsync } from './wait.js';

/** One futex wait a loop asks for: sleep while `words[index] === value`, at most `timeout` ms. */
export interface Sleep {
  readonly index: number;
  readonly value: number;
  readonly timeout: number;
}

/** A protocol's wait loop (see the file comment). */
export type WaitLoop<R> = Generator<Sleep, R, void>;

/** Run `loop` on this thread, blocking in Atomics.wait (throws ERR_CANNOT_BLOCK where that is forbidden). */
export function runBlocking<R>(words: Int32Array, loop: WaitLoop<R>): R {
  for (;;) {
    const step = loop.next();
    if (step.done === true) return step.value;
    wait(words, step.value.index, step.value.value, step.value.timeout);
  }
}

/** Run `loop` with Atomics.waitAsync: never blocks the thread. */
export async function runAsync<R>(words: Int32Array, loop: WaitLoop<R>): Promise<R> {
  for (;;) {
    const step = loop.next();
    if (step.done === true) return step.value;
    await waitAsync(words, step.value.index, step.value.value, step.value.timeout);
  }
}
