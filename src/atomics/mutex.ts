/**
 * Mutex: the classic three-state futex mutex (U. Drepper, "Futexes Are
 * Tricky", mutex #3) living in 4 bytes of a SharedArrayBuffer.
 *
 * state 0 = unlocked, 1 = locked with no waiters, 2 = locked, maybe waiters.
 * A thread only sleeps after setting the state to 2, and unlocking from 2
 * always notifies, so no wake-up is lost; a waiter that gives up (timeout)
 * leaves 2 behind, which at worst costs one spurious notify.
 *
 * Not re-entrant and not owner-checked: any thread may unlock (like a binary
 * semaphore); unlocking an unlocked mutex throws ERR_MUTEX_NOT_LOCKED.
 */
import { SharedRegion } from './shared-region.js';
import {
  AtomicsError,
  deadlineFrom,
  normalizeTimeout,
  remaining,
  wait,
  waitAsync,
  type SharedHandle,
  type WaitResult,
} from './wait.js';

const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;
// Short critical sections usually end within a few hundred loads; spinning
// first avoids a futex round-trip. Kept small: the waiter may share a core.
const SPIN = 100;


export class Mutex extends SharedRegion {
  /** Bytes needed inside a SharedArrayBuffer. */
  static readonly byteLength = 4;
  /** Required alignment of `byteOffset`. */
  static readonly alignment = 4;

  /**
   * Create an unlocked mutex in a new SAB, or at `byteOffset` of `buffer`
   * (the region is initialised to "unlocked"). To use an existing mutex from
   * another thread call `Mutex.from(cloned)` instead.
   */
  constructor(buffer?: SharedArrayBuffer, byteOffset = 0) {
    super('Mutex', Mutex, buffer, byteOffset, (s) => Atomics.store(s, 0, UNLOCKED));
  }

  /**
   * Re-attach to an existing mutex: `cloned` is a Mutex or its structured
   * clone `{ buffer, byteOffset }` received in a message. Does not reset it.
   */
  static from(cloned: SharedHandle): Mutex {
    return SharedRegion.reattach('Mutex', Mutex, cloned, (buffer, byteOffset) => new Mutex(buffer, byteOffset));
  }

  /** Whether some thread holds the lock (a racy snapshot). */
  get locked(): boolean {
    return Atomics.load(this.words, 0) !== UNLOCKED;
  }

  /** Take the lock if it is free; never blocks. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.words, 0, UNLOCKED, LOCKED) === UNLOCKED;
  }

  /**
   * Block until the lock is taken (Atomics.wait). Returns false if `timeout`
   * milliseconds (default: forever) elapse first. Throws ERR_CANNOT_BLOCK on
   * threads that cannot block when the lock is contended.
   */
  lock(timeout?: number): boolean {
    if (timeout !== undefined) normalizeTimeout(timeout); // validate even on the fast path
    const s = this.words;
    let c = Atomics.compareExchange(s, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return true;
    for (let i = 0; i < SPIN && c !== CONTENDED; i++) {
      if (c === UNLOCKED) {
        c = Atomics.compareExchange(s, 0, UNLOCKED, LOCKED);
        if (c === UNLOCKED) return true;
      } else {
        c = Atomics.load(s, 0);
      }
    }
    const deadline = deadlineFrom(timeout);
    if (c !== CONTENDED) c = Atomics.exchange(s, 0, CONTENDED);
    while (c !== UNLOCKED) {
      const left = remaining(deadline);
      if (left <= 0) return false;
      wait(s, 0, CONTENDED, left);
      // Take it as CONTENDED: other sleepers may exist, so our unlock must notify.
      c = Atomics.exchange(s, 0, CONTENDED);
    }
    return true;
  }

  /**
   * Take the lock without blocking the thread (Atomics.waitAsync). Resolves
   * true once held, false if `timeout` ms elapse first. Works on threads that
   * cannot block and keeps the Node event loop alive while pending.
   */
  async lockAsync(timeout?: number): Promise<boolean> {
    if (timeout !== undefined) normalizeTimeout(timeout);
    const s = this.words;
    let c = Atomics.compareExchange(s, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return true;
    const deadline = deadlineFrom(timeout);
    if (c !== CONTENDED) c = Atomics.exchange(s, 0, CONTENDED);
    while (c !== UNLOCKED) {
      const left = remaining(deadline);
      if (left <= 0) return false;
      await waitAsync(s, 0, CONTENDED, left);
      c = Atomics.exchange(s, 0, CONTENDED);
    }
    return true;
  }

  /** Release the lock and wake one waiter. Throws ERR_MUTEX_NOT_LOCKED if unlocked. */
  unlock(): void {
    const s = this.words;
    const c = Atomics.compareExchange(s, 0, LOCKED, UNLOCKED);
    if (c === LOCKED) return;
    if (c === UNLOCKED) {
      throw new AtomicsError('ERR_MUTEX_NOT_LOCKED', 'Mutex.unlock(): the mutex is not locked');
    }
    // CONTENDED: others only ever exchange it to CONTENDED, so a plain store is safe.
    Atomics.store(s, 0, UNLOCKED);
    Atomics.notify(s, 0, 1);
  }

  /** Run `fn` holding the lock (blocking acquire); always unlocks. */
  withLock<T>(fn: () => T): T {
    this.lock();
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }

  /** Run `fn` (sync or async) holding the lock acquired with lockAsync; always unlocks. */
  async withLockAsync<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    await this.lockAsync();
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }
}

/**
 * Internal (not exported from index.ts), for objects built on a Mutex whose
 * async forms must never hold it across an `await` (SharedQueue): take the
 * lock if that needs no waiting and return true (the caller then holds it
 * and must release it before its next await), else return a promise that
 * settles when the lock may have been released or `timeout` ms passed, after
 * which the caller retries with `woken` true. Holding an internal lock across an await would
 * deadlock other code of the same thread that uses the object meanwhile
 * (e.g. `q.popAsync(); q.push(1)` on one event loop).
 */
export function lockNowOrWaitAsync(mutex: Mutex, timeout: number, woken: boolean): true | Promise<WaitResult> {
  const s = new Int32Array(mutex.buffer, mutex.byteOffset, 1);
  // A caller retrying after it waited (`woken`) must take the lock as
  // CONTENDED, never as LOCKED: it may have consumed the notify that others
  // sleeping on the word were owed, and an unlock from LOCKED notifies nobody.
  let c = woken ? Atomics.exchange(s, 0, CONTENDED) : Atomics.compareExchange(s, 0, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return true;
  if (c !== CONTENDED) c = Atomics.exchange(s, 0, CONTENDED);
  // Taken as CONTENDED: other sleepers may exist, so the unlock must notify.
  if (c === UNLOCKED) return true;
  return waitAsync(s, 0, CONTENDED, timeout);
}

/** proposal-structs style `Atomics.Mutex.lock(mutex, fn)`: same as `mutex.withLock(fn)`. */
export function lock<T>(mutex: Mutex, fn: () => T): T {
  return mutex.withLock(fn);
}

/** proposal-structs style `Atomics.Mutex.lockAsync(mutex, fn)`: same as `mutex.withLockAsync(fn)`. */
export function lockAsync<T>(mutex: Mutex, fn: () => T | PromiseLike<T>): Promise<T> {
  return mutex.withLockAsync(fn);
}
