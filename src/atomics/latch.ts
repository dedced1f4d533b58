/**
 * Latch (one-shot count-down, cf. C++ std::latch / Java CountDownLatch) and
 * WaitGroup (reusable, cf. Go sync.WaitGroup), each in 8 bytes of a
 * SharedArrayBuffer.
 *
 * Layout (Int32): [0] count, [1] epoch. Whoever moves the count to 0 bumps
 * the epoch and notifies all; waiters sleep on the epoch, not on the count.
 * So waiters are released when the count *reaches* zero even if a WaitGroup
 * is re-armed (add()) before they get to run, and count changes that do not
 * reach zero never wake anybody.
 */
import { attaching } from './attach.js';
import { SharedRegion } from './shared-region.js';
import { AtomicsError, INT32_MAX, assertCanBlock, checkInt, deadlineFrom, remaining, type SharedHandle } from './wait.js';
import { runAsync, runBlocking, type WaitLoop } from './wait-loop.js';

const COUNT = 0;
const EPOCH = 1;
const BYTE_LENGTH = 8;
const ALIGNMENT = 4;

/** Add `delta` to the counter (never below 0); wakes all waiters on reaching 0. */
function addCount(what: string, s: Int32Array, delta: number): number {
  let c = Atomics.load(s, COUNT);
  let n: number;
  for (;;) {
    n = c + delta;
    if (n < 0) {
      throw new AtomicsError('ERR_COUNTER_UNDERFLOW', `${what}: counter ${c} cannot go down by ${-delta}`);
    }
    if (n > INT32_MAX) throw new AtomicsError('ERR_OUT_OF_RANGE', `${what}: counter ${c} + ${delta} overflows`);
    const prev = Atomics.compareExchange(s, COUNT, c, n);
    if (prev === c) break;
    c = prev;
  }
  if (n === 0 && c !== 0) {
    Atomics.add(s, EPOCH, 1);
    Atomics.notify(s, EPOCH);
  }
  return n;
}

/** What Latch and WaitGroup share: the 8-byte region, the count and the waits for zero. */
abstract class ZeroWaitCounter extends SharedRegion {
  static readonly byteLength = BYTE_LENGTH;
  static readonly alignment = ALIGNMENT;

  protected constructor(what: string, count: number, buffer: SharedArrayBuffer | undefined, byteOffset: number) {
    if (!attaching()) checkInt(`${what} count`, count, 0, INT32_MAX);
    super(what, ZeroWaitCounter, buffer, byteOffset, (s) => {
      Atomics.store(s, COUNT, count);
      Atomics.store(s, EPOCH, 0);
    });
  }

  /** The current count (a racy snapshot). */
  get count(): number {
    return Atomics.load(this.words, COUNT);
  }

  /** Sleep until the count reaches 0, for at most `timeout` ms. */
  *#untilZero(timeout: number | undefined): WaitLoop<boolean> {
    const s = this.words;
    const deadline = deadlineFrom(timeout);
    // Read the epoch before the count: if the count is non-zero now, reaching 0
    // later changes the epoch, so the futex wait below cannot miss it.
    const epoch = Atomics.load(s, EPOCH);
    if (Atomics.load(s, COUNT) === 0) return true;
    for (;;) {
      const left = remaining(deadline);
      if (left <= 0) return false;
      yield { index: EPOCH, value: epoch, timeout: left };
      if (Atomics.load(s, EPOCH) !== epoch || Atomics.load(s, COUNT) === 0) return true;
    }
  }

  /** Block until the count is 0. Returns false if `timeout` ms elapse first. */
  wait(timeout?: number): boolean {
    return runBlocking(this.words, this.#untilZero(timeout));
  }

  /** Async form of `wait()`. */
  waitAsync(timeout?: number): Promise<boolean> {
    return runAsync(this.words, this.#untilZero(timeout));
  }
}

export class Latch extends ZeroWaitCounter {
  /** Create a latch that opens after `count` (>= 0) count-downs. */
  constructor(count: number, buffer?: SharedArrayBuffer, byteOffset = 0) {
    super('Latch', count, buffer, byteOffset);
  }

  /** Re-attach to an existing latch from an instance or its structured clone. */
  static from(cloned: SharedHandle): Latch {
    return SharedRegion.reattach('Latch', Latch, cloned, (buffer, byteOffset) => new Latch(0, buffer, byteOffset));
  }

  /** Decrement by `n` (default 1); throws ERR_COUNTER_UNDERFLOW below zero. Returns the new count. */
  countDown(n = 1): number {
    checkInt('Latch.countDown(n)', n, 0, INT32_MAX);
    return addCount('Latch.countDown', this.words, -n);
  }

  /** Whether the latch is open (count is 0); never blocks. */
  tryWait(): boolean {
    return this.count === 0;
  }

  /**
   * `countDown(n)` then `wait(timeout)`. Throws ERR_CANNOT_BLOCK before
   * counting down on threads that cannot block (a count-down cannot be taken
   * back): use `arriveAndWaitAsync()` there.
   */
  arriveAndWait(n = 1, timeout?: number): boolean {
    assertCanBlock();
    this.countDown(n);
    return this.wait(timeout);
  }

  /** `countDown(n)` then `waitAsync(timeout)`. */
  arriveAndWaitAsync(n = 1, timeout?: number): Promise<boolean> {
    this.countDown(n);
    return this.waitAsync(timeout);
  }
}

export class WaitGroup extends ZeroWaitCounter {
  /** Create a wait group with counter `count` (default 0) in a new SAB or at `byteOffset` of `buffer`. */
  constructor(count = 0, buffer?: SharedArrayBuffer, byteOffset = 0) {
    super('WaitGroup', count, buffer, byteOffset);
  }

  /** Re-attach to an existing wait group from an instance or its structured clone. */
  static from(cloned: SharedHandle): WaitGroup {
    return SharedRegion.reattach('WaitGroup', WaitGroup, cloned, (buffer, byteOffset) => new WaitGroup(0, buffer, byteOffset));
  }

  /**
   * Add `delta` (default 1, may be negative) to the counter; reaching 0
   * releases all waiters. Throws ERR_COUNTER_UNDERFLOW below zero. Returns
   * the new counter.
   */
  add(delta = 1): number {
    checkInt('WaitGroup.add(delta)', delta, -INT32_MAX, INT32_MAX);
    return addCount('WaitGroup.add', this.words, delta);
  }

  /** `add(-1)`. */
  done(): number {
    return addCount('WaitGroup.done', this.words, -1);
  }
}
