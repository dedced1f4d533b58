/**
 * Semaphore: a counting semaphore in 4 bytes of a SharedArrayBuffer.
 *
 * The permits live in the counter, never in the wake-up: acquirers decrement
 * with CAS only while the count is positive and sleep only while it is 0
 * (Atomics.wait compares atomically), and release adds then notifies. A woken
 * thread always retries the CAS before looking at its deadline, so a wake-up
 * racing with a timeout is not lost.
 */
import { attach, attaching } from './attach.js';
import {
  AtomicsError,
  INT32_MAX,
  checkInt,
  deadlineFrom,
  handleOf,
  placeRegion,
  remaining,
  wait,
  waitAsync,
  type SharedHandle,
} from './wait.js';


export class Semaphore {
  static readonly byteLength = 4;
  static readonly alignment = 4;

  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly #count: Int32Array;

  /**
   * Create a semaphore with `initial` permits (integer in [0, 2^31-1]) in a
   * new SAB or at `byteOffset` of `buffer`. Use `Semaphore.from()` on other
   * threads.
   */
  constructor(initial = 0, buffer?: SharedArrayBuffer, byteOffset = 0) {
    if (!attaching()) checkInt('Semaphore initial permits', initial, 0, INT32_MAX);
    const at = placeRegion('Semaphore', buffer, byteOffset, Semaphore.byteLength, Semaphore.alignment);
    this.buffer = at.buffer;
    this.byteOffset = at.byteOffset;
    this.#count = new Int32Array(at.buffer, at.byteOffset, 1);
    if (!attaching()) Atomics.store(this.#count, 0, initial);
  }

  /** Re-attach to an existing semaphore from an instance or its structured clone. */
  static from(cloned: SharedHandle): Semaphore {
    const at = handleOf('Semaphore', cloned, Semaphore.byteLength, Semaphore.alignment);
    return attach(() => new Semaphore(0, at.buffer, at.byteOffset));
  }

  /** Permits currently available (a racy snapshot). */
  get value(): number {
    return Atomics.load(this.#count, 0);
  }

  /** Take one permit if available; never blocks. */
  tryAcquire(): boolean {
    const s = this.#count;
    let c = Atomics.load(s, 0);
    while (c > 0) {
      const prev = Atomics.compareExchange(s, 0, c, c - 1);
      if (prev === c) return true;
      c = prev;
    }
    return false;
  }

  /**
   * Block until a permit is taken; false if `timeout` ms (default: forever)
   * elapse first. Throws ERR_CANNOT_BLOCK on threads that cannot block.
   */
  acquire(timeout?: number): boolean {
    const deadline = deadlineFrom(timeout);
    for (;;) {
      if (this.tryAcquire()) return true;
      const left = remaining(deadline);
      if (left <= 0) return false;
      wait(this.#count, 0, 0, left);
    }
  }

  /** Async form of `acquire()`: resolves true once a permit is taken, false on timeout. */
  async acquireAsync(timeout?: number): Promise<boolean> {
    const deadline = deadlineFrom(timeout);
    for (;;) {
      if (this.tryAcquire()) return true;
      const left = remaining(deadline);
      if (left <= 0) return false;
      await waitAsync(this.#count, 0, 0, left);
    }
  }

  /**
   * Return `n` permits (default 1) and wake up to `n` waiters. Throws
   * ERR_OUT_OF_RANGE if the count would exceed 2^31-1.
   */
  release(n = 1): void {
    checkInt('Semaphore.release(n)', n, 1, INT32_MAX);
    const s = this.#count;
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
