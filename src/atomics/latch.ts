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
import {
  AtomicsError,
  INT32_MAX,
  assertCanBlock,
  checkInt,
  deadlineFrom,
  handleOf,
  placeRegion,
  remaining,
  wait,
  waitAsync,
  type SharedHandle,
} from './wait.js';
import { attach, attaching } from './attach.js';

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

function waitZero(s: Int32Array, timeout: number | undefined): boolean {
  const deadline = deadlineFrom(timeout);
  // Read the epoch before the count: if the count is non-zero now, reaching 0
  // later changes the epoch, so the futex wait below cannot miss it.
  const epoch = Atomics.load(s, EPOCH);
  if (Atomics.load(s, COUNT) === 0) return true;
  for (;;) {
    const left = remaining(deadline);
    if (left <= 0) return false;
    wait(s, EPOCH, epoch, left);
    if (Atomics.load(s, EPOCH) !== epoch || Atomics.load(s, COUNT) === 0) return true;
  }
}

async function waitZeroAsync(s: Int32Array, timeout: number | undefined): Promise<boolean> {
  const deadline = deadlineFrom(timeout);
  const epoch = Atomics.load(s, EPOCH);
  if (Atomics.load(s, COUNT) === 0) return true;
  for (;;) {
    const left = remaining(deadline);
    if (left <= 0) return false;
    await waitAsync(s, EPOCH, epoch, left);
    if (Atomics.load(s, EPOCH) !== epoch || Atomics.load(s, COUNT) === 0) return true;
  }
}

/** The words of a counter, for the subclasses' methods (kept off the instances, which clone as `{ buffer, byteOffset }`). */
let wordsOf: (counter: ZeroWaitCounter) => Int32Array;

/** What Latch and WaitGroup share: the 8-byte region, its placement and re-attachment, the count and the waits for zero. */
abstract class ZeroWaitCounter {
  static readonly byteLength = BYTE_LENGTH;
  static readonly alignment = ALIGNMENT;

  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly #s: Int32Array;

  static {
    wordsOf = (counter) => counter.#s;
  }

  protected constructor(what: string, count: number, buffer: SharedArrayBuffer | undefined, byteOffset: number) {
    if (!attaching()) checkInt(`${what} count`, count, 0, INT32_MAX);
    const at = placeRegion(what, buffer, byteOffset, BYTE_LENGTH, ALIGNMENT);
    this.buffer = at.buffer;
    this.byteOffset = at.byteOffset;
    const s = (this.#s = new Int32Array(at.buffer, at.byteOffset, 2));
    if (!attaching()) {
      Atomics.store(s, COUNT, count);
      Atomics.store(s, EPOCH, 0);
    }
  }

  /** Re-attach `Kind` to an existing region from an instance or its structured clone. */
  protected static attach<C>(what: string, Kind: new (count: number, buffer: SharedArrayBuffer, byteOffset: number) => C, cloned: SharedHandle): C {
    const at = handleOf(what, cloned, BYTE_LENGTH, ALIGNMENT);
    return attach(() => new Kind(0, at.buffer, at.byteOffset));
  }

  /** The current count (a racy snapshot). */
  get count(): number {
    return Atomics.load(this.#s, COUNT);
  }

  /** Block until the count is 0. Returns false if `timeout` ms elapse first. */
  wait(timeout?: number): boolean {
    return waitZero(this.#s, timeout);
  }

  /** Async form of `wait()`. */
  waitAsync(timeout?: number): Promise<boolean> {
    return waitZeroAsync(this.#s, timeout);
  }
}

export class Latch extends ZeroWaitCounter {
  /** Create a latch that opens after `count` (>= 0) count-downs. */
  constructor(count: number, buffer?: SharedArrayBuffer, byteOffset = 0) {
    super('Latch', count, buffer, byteOffset);
  }

  /** Re-attach to an existing latch from an instance or its structured clone. */
  static from(cloned: SharedHandle): Latch {
    return ZeroWaitCounter.attach('Latch', Latch, cloned);
  }

  /** Decrement by `n` (default 1); throws ERR_COUNTER_UNDERFLOW below zero. Returns the new count. */
  countDown(n = 1): number {
    checkInt('Latch.countDown(n)', n, 0, INT32_MAX);
    return addCount('Latch.countDown', wordsOf(this), -n);
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
    return ZeroWaitCounter.attach('WaitGroup', WaitGroup, cloned);
  }

  /**
   * Add `delta` (default 1, may be negative) to the counter; reaching 0
   * releases all waiters. Throws ERR_COUNTER_UNDERFLOW below zero. Returns
   * the new counter.
   */
  add(delta = 1): number {
    checkInt('WaitGroup.add(delta)', delta, -INT32_MAX, INT32_MAX);
    return addCount('WaitGroup.add', wordsOf(this), delta);
  }

  /** `add(-1)`. */
  done(): number {
    return addCount('WaitGroup.done', wordsOf(this), -1);
  }
}
