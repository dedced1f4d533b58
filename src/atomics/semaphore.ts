/**
 * Semaphore: a counting semaphore in 4 bytes of a SharedArrayBuffer.
 *
 * The permits live in the counter, never in the wake-up: acquirers decrement
 * with CAS only while the count is positive and sleep only while it is 0
 * (Atomics.wait compares atomically), and release adds then notifies. A woken
 * thread always retries the CAS before looking at its deadline, so a wake-up
 * racing with a timeout is not lost.
 */
import { attaching } from './attach.js';
import { SharedRegion } from './shared-region.js';
import {
  AtomicsError,
  INT32_MAX,
  checkInt,
  deadlineFrom,
  remaining,
  type SharedHandle,
} from './wait.js';
import { runAsync, runBlocking, type WaitLoop } from './wait-loop.js';

export class Semaphore extends SharedRegion {
  static readonly byteLength = 4;
  static readonly alignment = 4;

  /**
   * Create a semaphore with `initial` permits (integer in [0, 2^31-1]) in a
   * new SAB or at `byteOffset` of `buffer`. Use `Semaphore.from()` on other
   * threads.
   */
  constructor(initial = 0, buffer?: SharedArrayBuffer, byteOffset = 0) {
    if (!attaching()) checkInt('Semaphore initial permits', initial, 0, INT32_MAX);
    super('Semaphore', Semaphore, buffer, byteOffset, (count) => Atomics.store(count, 0, initial));
  }

  /** Re-attach to an existing semaphore from an instance or its structured clone. */
  static from(cloned: SharedHandle): Semaphore {
    return SharedRegion.reattach('Semaphore', Semaphore, cloned, (buffer, byteOffset) => new Semaphore(0, buffer, byteOffset));
  }

  /** Permits currently available (a racy snapshot). */
  get value(): number {
    return Atomics.load(this.words, 0);
  }

  /** Take one permit if available; never blocks. */
  tryAcquire(): boolean {
    const s = this.words;
    let c = Atomics.load(s, 0);
    while (c > 0) {
      const prev = Atomics.compareExchange(s, 0, c, c - 1);
      if (prev === c) return true;
      c = prev;
    }
    return false;
  }

  /** Take a permit, sleeping while there is none, for at most `timeout` ms. */
  *#acquire(timeout: number | undefined): WaitLoop<boolean> {
    const deadline = deadlineFrom(timeout);
    for (;;) {
      if (this.tryAcquire()) return true;
      const left = remaining(deadline);
      if (left <= 0) return false;
      yield { index: 0, value: 0, timeout: left };
    }
  }

  /**
   * Block until a permit is taken; false if `timeout` ms (default: forever)
   * elapse first. Throws ERR_CANNOT_BLOCK on threads that cannot block.
   */
  acquire(timeout?: number): boolean {
    return runBlocking(this.words, this.#acquire(timeout));
  }

  /** Async form of `acquire()`: resolves true once a permit is taken, false on timeout. */
  acquireAsync(timeout?: number): Promise<boolean> {
    return runAsync(this.words, this.#acquire(timeout));
  }

  /**
   * Return `n` permits (default 1) and wake up to `n` waiters. Throws
   * ERR_OUT_OF_RANGE if the count would exceed 2^31-1.
   */
  release(n = 1): void {
    checkInt('Semaphore.release(n)', n, 1, INT32_MAX);
    const s = this.words;
    let c = Atomics.load(s, 0);
    for (;;) {
      if (c > INT32_MAX - n) {
        throw new AtomicsError('ERR_OUT_OF_RANGE', `Semaphore.release(${n}): count ${c} would overflow`);
      }
      const prev = Atomics.compareExchange(s, 0, c, c + n);
      if (prev === c) break;
      c = prev;
    }
    Atomics.notify(s, 0, n);
  }
}
