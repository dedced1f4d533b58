/**
 * SharedQueue: a bounded multi-producer multi-consumer FIFO ring buffer in a
 * SharedArrayBuffer, holding either Float64 numbers or byte chunks of at most
 * `chunkBytes` bytes each.
 *
 * A Mutex guards the ring; two Conditions ("not empty", "not full") park
 * consumers/producers (the async forms wait on the same condition words with
 * Atomics.waitAsync and never hold the mutex across an await, so sync and
 * async calls can be mixed on one thread). Every push/pop is a critical section, so there is one
 * global order of operations: FIFO overall (hence per producer) and nothing
 * lost or duplicated. Waiter counts (kept under the mutex) let push/pop skip
 * the notify when nobody waits. A woken waiter re-checks the ring before its
 * deadline, so a notify racing with a timeout is never lost.
 *
 * Layout (byte offsets from byteOffset, all Int32 unless noted):
 *   0 mutex | 4 not-empty seq | 8 not-full seq | 12 head | 16 count
 *   20 capacity | 24 kind | 28 chunkBytes | 32 closed | 36 waiting consumers
 *   40 waiting producers | 44 magic | 48.. data:
 *   float64: Float64Array[capacity]
 *   bytes:   Int32Array lengths[capacity], then Uint8Array[capacity * chunkBytes]
 */
import { attaching } from './attach.js';
import { Condition } from './condition.js';
import { Mutex, lockNowOrWaitAsync } from './mutex.js';
import { SharedRegion } from './shared-region.js';
import {
  AtomicsError,
  canBlock,
  checkInt,
  deadlineFrom,
  remaining,
  waitAsync,
  type SharedHandle,
} from './wait.js';

export type QueueKind = 'float64' | 'bytes';
/** What pop() returns: a number, or a fresh (non-shared) Uint8Array copy. */
export type QueueItem<K extends QueueKind> = K extends 'bytes' ? Uint8Array : number;
/** What push() accepts: a number, or any ArrayBufferView (its bytes are copied). */
export type QueueInput<K extends QueueKind> = K extends 'bytes' ? ArrayBufferView : number;

export interface SharedQueueOptions<K extends QueueKind = QueueKind> {
  /** Maximum number of items (1 .. 2^28). */
  capacity: number;
  /** 'float64' (default) or 'bytes'. */
  kind?: K;
  /** For kind 'bytes': maximum bytes per chunk (>= 1). */
  chunkBytes?: number;
}

// Int32 indices of the header (the Mutex and the two Conditions' words first).
const NOT_EMPTY_SEQ = 1;
const NOT_FULL_SEQ = 2;
const HEAD = 3;
const COUNT = 4;
const CAPACITY = 5;
const KIND = 6;
const CHUNK_BYTES = 7;
const CLOSED = 8;
const WAIT_CONSUMERS = 9;
const WAIT_PRODUCERS = 10;
const MAGIC_INDEX = 11;
const HEADER_BYTES = 48;
const MAGIC = 0x51756575; // "Queu"
const KIND_FLOAT64 = 0;
const KIND_BYTES = 1;
const MAX_CAPACITY = 1 << 28;
const ALIGNMENT = 8;

const NOT_YET: unique symbol = Symbol('not yet');

interface Shape {
  capacity: number;
  bytes: boolean;
  chunkBytes: number;
}

function shapeOf(options: SharedQueueOptions): Shape {
  if (options === null || typeof options !== 'object') {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', 'SharedQueue: options { capacity, kind?, chunkBytes? } required');
  }
  const capacity = checkInt('SharedQueue capacity', options.capacity, 1, MAX_CAPACITY);
  const kind = options.kind ?? 'float64';
  if (kind === 'float64') return { capacity, bytes: false, chunkBytes: 0 };
  if (kind !== 'bytes') {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `SharedQueue kind must be 'float64' or 'bytes', got ${String(kind)}`);
  }
  const chunkBytes = checkInt('SharedQueue chunkBytes', options.chunkBytes as number, 1, 0x7fffffff);
  return { capacity, bytes: true, chunkBytes };
}

function byteLengthOf(shape: Shape): number {
  const data = shape.bytes ? shape.capacity * 4 + shape.capacity * shape.chunkBytes : shape.capacity * 8;
  // Round up so that objects packed after this one stay 8-aligned.
  return HEADER_BYTES + Math.ceil(data / ALIGNMENT) * ALIGNMENT;
}

/**
 * One direction of the queue, as seen by its blocking and async loops:
 * producers sleep on "not full" and wake consumers, consumers the reverse.
 */
interface Side {
  /** The condition this side sleeps on, and the Int32 index of its sequence word. */
  readonly sleep: Condition;
  readonly seq: number;
  /** Index of this side's waiter count. */
  readonly waiters: number;
  /** The condition that wakes the other side, and the index of the other side's waiter count. */
  readonly wake: Condition;
  readonly otherWaiters: number;
}

function closedError(): AtomicsError {
  return new AtomicsError('ERR_QUEUE_CLOSED', 'SharedQueue: push on a closed queue');
}

export class SharedQueue<K extends QueueKind = 'float64'> extends SharedRegion {
  /** Required alignment of `byteOffset`. */
  static readonly alignment = ALIGNMENT;

  /** Bytes needed inside a SharedArrayBuffer for a queue with these options. */
  static byteLengthFor(options: SharedQueueOptions): number {
    return byteLengthOf(shapeOf(options));
  }

  readonly #mutex: Mutex;
  readonly #notEmpty: Condition;
  readonly #notFull: Condition;
  readonly #producers: Side;
  readonly #consumers: Side;
  readonly #capacity: number;
  readonly #chunkBytes: number;
  readonly #f64: Float64Array | undefined;
  readonly #lengths: Int32Array | undefined;
  readonly #bytes: Uint8Array | undefined;

  /**
   * Create an empty queue in a new SAB (of `SharedQueue.byteLengthFor(options)`
   * bytes) or at `byteOffset` (multiple of 8) of `buffer`. Use
   * `SharedQueue.from()` on other threads.
   */
  constructor(options: SharedQueueOptions<K>, buffer?: SharedArrayBuffer, byteOffset = 0) {
    const shape = shapeOf(options);
    super('SharedQueue', { byteLength: byteLengthOf(shape), alignment: ALIGNMENT }, buffer, byteOffset);
    const sab = this.buffer;
    const off = this.byteOffset;
    if (attaching()) {
      this.#mutex = Mutex.from({ buffer: sab, byteOffset: off });
      this.#notEmpty = Condition.from({ buffer: sab, byteOffset: off + 4 });
      this.#notFull = Condition.from({ buffer: sab, byteOffset: off + 8 });
    } else {
      this.#mutex = new Mutex(sab, off);
      this.#notEmpty = new Condition(sab, off + 4);
      this.#notFull = new Condition(sab, off + 8);
      const h = this.words;
      for (let i = HEAD; i < MAGIC_INDEX; i++) Atomics.store(h, i, 0);
      Atomics.store(h, CAPACITY, shape.capacity);
      Atomics.store(h, KIND, shape.bytes ? KIND_BYTES : KIND_FLOAT64);
      Atomics.store(h, CHUNK_BYTES, shape.chunkBytes);
      Atomics.store(h, MAGIC_INDEX, MAGIC);
    }
    this.#producers = {
      sleep: this.#notFull,
      seq: NOT_FULL_SEQ,
      waiters: WAIT_PRODUCERS,
      wake: this.#notEmpty,
      otherWaiters: WAIT_CONSUMERS,
    };
    this.#consumers = {
      sleep: this.#notEmpty,
      seq: NOT_EMPTY_SEQ,
      waiters: WAIT_CONSUMERS,
      wake: this.#notFull,
      otherWaiters: WAIT_PRODUCERS,
    };
    this.#capacity = shape.capacity;
    this.#chunkBytes = shape.chunkBytes;
    const data = off + HEADER_BYTES;
    if (shape.bytes) {
      this.#lengths = new Int32Array(sab, data, shape.capacity);
      this.#bytes = new Uint8Array(sab, data + 4 * shape.capacity, shape.capacity * shape.chunkBytes);
    } else {
      this.#f64 = new Float64Array(sab, data, shape.capacity);
    }
  }

  /**
   * Re-attach to an existing queue from an instance or its structured clone
   * `{ buffer, byteOffset }`; capacity and kind are read from shared memory.
   * Throws ERR_ATOMICS_INVALID_ARGUMENT if no initialised queue lives there.
   */
  static from<K extends QueueKind = QueueKind>(cloned: SharedHandle): SharedQueue<K> {
    const header = { byteLength: HEADER_BYTES, alignment: ALIGNMENT };
    return SharedRegion.reattach('SharedQueue', header, cloned, (buffer, byteOffset) => {
      const h = new Int32Array(buffer, byteOffset, HEADER_BYTES / 4);
      if (Atomics.load(h, MAGIC_INDEX) !== MAGIC) {
        throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', 'SharedQueue.from(): no initialised SharedQueue at this offset');
      }
      const bytes = Atomics.load(h, KIND) === KIND_BYTES;
      const options = {
        capacity: Atomics.load(h, CAPACITY),
        kind: bytes ? 'bytes' : 'float64',
        chunkBytes: Atomics.load(h, CHUNK_BYTES),
      } as SharedQueueOptions<K>;
      return new SharedQueue<K>(options, buffer, byteOffset);
    });
  }

  /** Maximum number of items. */
  get capacity(): number {
    return this.#capacity;
  }

  /** 'float64' or 'bytes'. */
  get kind(): K {
    return (this.#bytes === undefined ? 'float64' : 'bytes') as K;
  }

  /** Maximum bytes per chunk (0 for 'float64' queues). */
  get chunkBytes(): number {
    return this.#chunkBytes;
  }

  /** Number of queued items (a racy snapshot). */
  get size(): number {
    return Atomics.load(this.words, COUNT);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return Atomics.load(this.words, CLOSED) !== 0;
  }

  /** Validate an item before taking the lock; returns what #write stores. */
  #check(value: QueueInput<K>): number | Uint8Array {
    if (this.#bytes === undefined) {
      if (typeof value !== 'number') {
        throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `SharedQueue<'float64'>: expected a number, got ${typeof value}`);
      }
      return value;
    }
    if (!ArrayBuffer.isView(value)) {
      throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', "SharedQueue<'bytes'>: expected an ArrayBufferView (e.g. Uint8Array)");
    }
    if (value.byteLength > this.#chunkBytes) {
      throw new AtomicsError(
        'ERR_CHUNK_TOO_LARGE',
        `SharedQueue: chunk of ${value.byteLength} bytes exceeds chunkBytes ${this.#chunkBytes}`,
      );
    }
    // A view on a detached buffer (transferred away) or out of bounds of a
    // shrunk resizable one reads as byteLength 0, and constructing a view on
    // it throws an uncoded TypeError/RangeError: refuse it as a bad item.
    try {
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    } catch (cause) {
      throw new AtomicsError(
        'ERR_ATOMICS_INVALID_ARGUMENT',
        "SharedQueue<'bytes'>: the view's buffer is detached (or the view is out of its bounds)",
        { cause },
      );
    }
  }

  // The following helpers run with the mutex held.

  /** Append (the caller checked there is room). */
  #write(item: number | Uint8Array): void {
    const h = this.words;
    const count = Atomics.load(h, COUNT);
    const slot = (Atomics.load(h, HEAD) + count) % this.#capacity;
    if (typeof item === 'number') {
      (this.#f64 as Float64Array)[slot] = item;
    } else {
      (this.#lengths as Int32Array)[slot] = item.byteLength;
      (this.#bytes as Uint8Array).set(item, slot * this.#chunkBytes);
    }
    Atomics.store(h, COUNT, count + 1);
  }

  #read(): QueueItem<K> {
    const h = this.words;
    const head = Atomics.load(h, HEAD);
    let item: number | Uint8Array;
    if (this.#f64 !== undefined) {
      item = this.#f64[head];
    } else {
      const len = (this.#lengths as Int32Array)[head];
      const start = head * this.#chunkBytes;
      item = (this.#bytes as Uint8Array).slice(start, start + len);
    }
    Atomics.store(h, HEAD, head + 1 === this.#capacity ? 0 : head + 1);
    Atomics.store(h, COUNT, Atomics.load(h, COUNT) - 1);
    return item as QueueItem<K>;
  }

  /** One push: true once `item` is appended, NOT_YET while full; throws ERR_QUEUE_CLOSED. */
  #offer(item: number | Uint8Array): true | typeof NOT_YET {
    if (this.closed) throw closedError();
    if (Atomics.load(this.words, COUNT) >= this.#capacity) return NOT_YET;
    this.#write(item);
    return true;
  }

  /** One pop: the oldest item, undefined if closed and drained, NOT_YET while empty. */
  #take(): QueueItem<K> | undefined | typeof NOT_YET {
    if (Atomics.load(this.words, COUNT) !== 0) return this.#read();
    if (this.closed) return undefined;
    return NOT_YET;
  }

  /**
   * Whether `r`, the outcome of an operation on `side`, must wake a waiter of
   * the other side: it changed the ring (`r` is not `none`, the "nothing
   * happened" value) and that side has counted waiters. Read under the mutex;
   * the notify itself follows the unlock.
   */
  #wakesOther<R>(side: Side, r: R | typeof NOT_YET, none: R): boolean {
    return r !== NOT_YET && r !== none && Atomics.load(this.words, side.otherWaiters) > 0;
  }

  /** Lock for the try* forms: they must not wait for room/items, only for the short critical section. */
  #lockBriefly(): void {
    if (canBlock()) {
      this.#mutex.lock();
    } else {
      while (!this.#mutex.tryLock()) {
        // Spin: critical sections are a few loads/stores plus one chunk copy.
      }
    }
  }

  /** Shared body of tryPush/tryPop: one `attempt` under the mutex; `none` if it must wait. */
  #now<R>(side: Side, none: R, attempt: () => R | typeof NOT_YET): R {
    this.#lockBriefly();
    let wake = false;
    try {
      const r = attempt();
      wake = this.#wakesOther(side, r, none);
      return r === NOT_YET ? none : r;
    } finally {
      this.#mutex.unlock();
      if (wake) side.wake.notifyOne();
    }
  }

  /**
   * Shared loop of the blocking forms: take the mutex (bounded by the
   * deadline), then run `attempt` with it held until it returns a result;
   * while it returns NOT_YET, sleep on `side.sleep` (counted in
   * `side.waiters`, so the other side knows to notify). Returns `none` when
   * the deadline passes.
   */
  #blocking<R>(timeout: number | undefined, side: Side, none: R, attempt: () => R | typeof NOT_YET): R {
    const deadline = deadlineFrom(timeout);
    const h = this.words;
    const m = this.#mutex;
    if (!m.lock(remaining(deadline))) return none;
    let wake = false;
    try {
      for (;;) {
        const r = attempt();
        if (r !== NOT_YET) {
          wake = this.#wakesOther(side, r, none);
          return r;
        }
        const left = remaining(deadline);
        if (left <= 0) return none;
        Atomics.add(h, side.waiters, 1);
        try {
          side.sleep.wait(m, left);
        } finally {
          Atomics.sub(h, side.waiters, 1);
        }
      }
    } finally {
      m.unlock();
      if (wake) side.wake.notifyOne();
    }
  }

  /**
   * Shared loop of the async forms. The queue's mutex is only ever held in
   * synchronous stretches (taken with lockNowOrWaitAsync, released before
   * any await), so other code of this thread may use the queue while an
   * async push/pop is pending (e.g. `q.popAsync(); q.push(1)`). `attempt`
   * runs with the mutex held and returns a result, or NOT_YET to sleep on
   * the condition word of `side` (waiters counted in `side.waiters`).
   */
  async #async<R>(timeout: number | undefined, side: Side, none: R, attempt: () => R | typeof NOT_YET): Promise<R> {
    const deadline = deadlineFrom(timeout);
    const h = this.words;
    const m = this.#mutex;
    let registered = false;
    let woken = false;
    try {
      for (;;) {
        const left = remaining(deadline);
        const locked = lockNowOrWaitAsync(m, left, woken);
        if (locked !== true) {
          if (left <= 0) return none;
          await locked;
          woken = true;
          continue;
        }
        woken = false;
        let seq: number;
        let wake = false;
        try {
          if (registered) {
            Atomics.sub(h, side.waiters, 1);
            registered = false;
          }
          const r = attempt();
          if (r !== NOT_YET) {
            wake = this.#wakesOther(side, r, none);
            return r;
          }
          if (left <= 0) return none;
          // Read the sequence under the mutex: a notify after our unlock
          // changes it, so the wait below cannot miss it (as in Condition).
          seq = Atomics.load(h, side.seq);
          Atomics.add(h, side.waiters, 1);
          registered = true;
        } finally {
          m.unlock();
          if (wake) side.wake.notifyOne();
        }
        await waitAsync(h, side.seq, seq, left);
      }
    } finally {
      // Counted waiters only cause extra notifies; give the count back
      // without the mutex rather than wait for it here.
      if (registered) Atomics.sub(h, side.waiters, 1);
    }
  }

  /**
   * Append `value`, blocking while the queue is full. Returns false if
   * `timeout` ms (default: forever) elapse first. Throws ERR_QUEUE_CLOSED if
   * the queue is (or gets) closed, ERR_CHUNK_TOO_LARGE / ERR_ATOMICS_INVALID_ARGUMENT
   * for bad items, ERR_CANNOT_BLOCK on threads that cannot block.
   */
  push(value: QueueInput<K>, timeout?: number): boolean {
    const item = this.#check(value);
    return this.#blocking(timeout, this.#producers, false, () => this.#offer(item));
  }

  /**
   * Remove the oldest item, blocking while the queue is empty. Returns
   * undefined if `timeout` ms elapse first, or if the queue is closed and
   * drained (check `closed` to tell them apart).
   */
  pop(timeout?: number): QueueItem<K> | undefined {
    return this.#blocking(timeout, this.#consumers, undefined, () => this.#take());
  }

  /** Append if there is room right now; false if full. Throws ERR_QUEUE_CLOSED if closed. */
  tryPush(value: QueueInput<K>): boolean {
    const item = this.#check(value);
    return this.#now(this.#producers, false, () => this.#offer(item));
  }

  /** Remove the oldest item if any; undefined if empty. */
  tryPop(): QueueItem<K> | undefined {
    return this.#now(this.#consumers, undefined, () => this.#take());
  }

  /** Async form of `push()` (Atomics.waitAsync): resolves true, or false on timeout. */
  async pushAsync(value: QueueInput<K>, timeout?: number): Promise<boolean> {
    // A copy: the caller's code runs while this waits for room, and could
    // detach or shrink the view's buffer before the item is written.
    const checked = this.#check(value);
    const item = typeof checked === 'number' ? checked : checked.slice();
    return await this.#async(timeout, this.#producers, false, () => this.#offer(item));
  }

  /** Async form of `pop()`: resolves the item, or undefined on timeout / closed and drained. */
  async popAsync(timeout?: number): Promise<QueueItem<K> | undefined> {
    return await this.#async(timeout, this.#consumers, undefined, () => this.#take());
  }

  /**
   * Close the queue: later pushes throw ERR_QUEUE_CLOSED, pops drain the
   * remaining items then return undefined, and all waiters wake. Idempotent.
   */
  close(): void {
    this.#lockBriefly();
    try {
      Atomics.store(this.words, CLOSED, 1);
    } finally {
      this.#mutex.unlock();
    }
    this.#notEmpty.notifyAll();
    this.#notFull.notifyAll();
  }
}
