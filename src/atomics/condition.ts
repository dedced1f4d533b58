/**
 * Condition: a sequence-number condition variable in 4 bytes of a
 * SharedArrayBuffer, used with a Mutex (cf. proposal-structs
 * `Atomics.Condition`).
 *
 * A waiter reads the sequence number while still holding the mutex, unlocks,
 * then futex-waits for the number to change. Every notify increments it
 * before waking, so a notify that lands between the unlock and the sleep makes
 * the wait return at once ("not-equal"): no lost wake-ups. As with any
 * condition variable, wake-ups may be spurious: re-check the predicate in a
 * loop.
 */
import { Mutex } from './mutex.js';
import { SharedRegion } from './shared-region.js';
import {
  AtomicsError,
  assertCanBlock,
  normalizeTimeout,
  wait,
  waitAsync,
  type SharedHandle,
  type WaitResult,
} from './wait.js';

/**
 * The condition is bound to no particular mutex (its state is only the
 * sequence number), so any Mutex, of any region, will do; anything else is
 * refused before the caller's lock is touched.
 */
function checkMutex(what: string, mutex: unknown): asserts mutex is Mutex {
  if (!(mutex instanceof Mutex)) {
    const got = mutex === null ? 'null' : typeof mutex === 'object' ? Object.prototype.toString.call(mutex) : typeof mutex;
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}: the mutex must be a Mutex (use Mutex.from() on a cloned one), got ${got}`);
  }
}

export class Condition extends SharedRegion {
  static readonly byteLength = 4;
  static readonly alignment = 4;

  /** Create a condition in a new SAB or at `byteOffset` of `buffer` (initialised). */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super('Condition', Condition, buffer, byteOffset, (seq) => Atomics.store(seq, 0, 0));
  }

  /** Re-attach to an existing condition from an instance or its structured clone. */
  static from(cloned: SharedHandle): Condition {
    return SharedRegion.reattach('Condition', Condition, cloned, (buffer, byteOffset) => new Condition(buffer, byteOffset));
  }

  /**
   * Atomically unlock `mutex` and block until notified or `timeout` ms
   * elapse, then re-lock `mutex` (always, even on timeout; the re-lock itself
   * is not bounded by the timeout). The caller must hold `mutex`.
   * Returns false if the wait timed out, true otherwise (notified or spurious).
   */
  wait(mutex: Mutex, timeout?: number): boolean {
    checkMutex('Condition.wait()', mutex);
    const t = normalizeTimeout(timeout);
    // Fail before unlocking, so the caller still holds the mutex on error.
    assertCanBlock();
    const seq = Atomics.load(this.words, 0);
    mutex.unlock();
    let r: WaitResult;
    try {
      r = wait(this.words, 0, seq, t);
    } finally {
      mutex.lock();
    }
    return r !== 'timed-out';
  }

  /**
   * Async form of `wait()` for threads that cannot block or event loops:
   * unlocks `mutex`, waits with Atomics.waitAsync, re-locks with lockAsync.
   * Resolves false on timeout, true otherwise.
   */
  async waitAsync(mutex: Mutex, timeout?: number): Promise<boolean> {
    checkMutex('Condition.waitAsync()', mutex);
    const t = normalizeTimeout(timeout);
    const seq = Atomics.load(this.words, 0);
    mutex.unlock();
    let r: WaitResult;
    try {
      r = await waitAsync(this.words, 0, seq, t);
    } finally {
      await mutex.lockAsync();
    }
    return r !== 'timed-out';
  }

  /** Wake up to `count` waiters (default: all). Returns how many were woken. */
  notify(count = Infinity): number {
    Atomics.add(this.words, 0, 1);
    return Atomics.notify(this.words, 0, count);
  }

  /** Wake one waiter. Returns 1 if a waiter was woken, else 0. */
  notifyOne(): number {
    return this.notify(1);
  }

  /** Wake all current waiters. Returns how many were woken. */
  notifyAll(): number {
    return this.notify(Infinity);
  }
}
