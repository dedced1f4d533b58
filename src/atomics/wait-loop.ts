/**
 * Wait loops written once for the blocking and the async form of a method.
 *
 * A protocol's loop is a generator over the object's words: it returns its
 * result, or yields a Sleep when it must wait for a word to change. The
 * blocking driver sleeps with Atomics.wait, the async one with
 * Atomics.waitAsync, and both resume the generator after every wake-up
 * (notified, value already changed, or timed out: the loop re-reads the state
 * and its deadline itself). An error from a wait is thrown into the
 * generator at its `yield`: a loop may catch it to undo its own effects, and
 * an uncaught one reaches the caller of the driver.
 *
 * A generator's body (its deadline and argument checks included) first runs
 * inside the driver, so a bad timeout throws from the blocking form and
 * rejects the async one, as in a plain `async` method.
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
  let step = loop.next();
  while (step.done !== true) {
    const { index, value, timeout } = step.value;
    try {
      wait(words, index, value, timeout);
    } catch (err) {
      step = loop.throw(err);
      continue;
    }
    step = loop.next();
  }
  return step.value;
}

/** Run `loop` with Atomics.waitAsync: never blocks the thread. */
export async function runAsync<R>(words: Int32Array, loop: WaitLoop<R>): Promise<R> {
  let step = loop.next();
  while (step.done !== true) {
    const { index, value, timeout } = step.value;
    try {
      await waitAsync(words, index, value, timeout);
    } catch (err) {
      step = loop.throw(err);
      continue;
    }
    step = loop.next();
  }
  return step.value;
}
