/**
 * Shared low-level helpers for `agentcluster:atomics`: typed errors, blocking
 * and asynchronous futex waits, deadlines, and placement of synchronisation
 * objects inside a SharedArrayBuffer.
 *
 * Everything under src/atomics/ is also loaded inside bare V8 isolates
 * (agents) that have no Node APIs, so only ECMAScript is used here; timers,
 * `performance` and `Atomics.waitAsync` are feature-detected on `globalThis`.
 */

export type AtomicsErrorCode =
  /** A constructor/method argument has the wrong type or is not an integer. */
  | 'ERR_ATOMICS_INVALID_ARGUMENT'
  /** A number (offset, count, capacity...) is outside its allowed range. */
  | 'ERR_OUT_OF_RANGE'
  /** `Mutex.unlock()` on a mutex that is not locked. */
  | 'ERR_MUTEX_NOT_LOCKED'
  /** A blocking method was called on a thread where `Atomics.wait` is forbidden. */
  | 'ERR_CANNOT_BLOCK'
  /** An async method was called but the engine has no `Atomics.waitAsync`. */
  | 'ERR_WAIT_ASYNC_UNSUPPORTED'
  /** A Latch/WaitGroup counter would become negative. */
  | 'ERR_COUNTER_UNDERFLOW'
  /** Push onto a closed SharedQueue. */
  | 'ERR_QUEUE_CLOSED'
  /** A bytes chunk larger than the SharedQueue's `chunkBytes`. */
  | 'ERR_CHUNK_TOO_LARGE';

/** Every error thrown on purpose by `agentcluster:atomics` is an AtomicsError. */
export class AtomicsError extends Error {
  readonly code: AtomicsErrorCode;
  constructor(code: AtomicsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AtomicsError';
  }
}

/** Result of a futex wait, as returned by `Atomics.wait`. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * What a synchronisation object becomes after structured clone (postMessage):
 * its only own enumerable fields. Pass it to the class's static `from()`.
 */
export interface SharedHandle {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
}

type WaitAsyncFn = (
  typedArray: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) =>
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

interface MaybeTimers {
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  performance?: { now?: () => number };
}

const g = globalThis as unknown as MaybeTimers;
// Typed locally: lib ES2022 (our target) does not declare Atomics.waitAsync.
const nativeWaitAsync = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

/** Monotonic milliseconds when `performance.now` exists, else `Date.now()`. */
export const now: () => number =
  typeof g.performance?.now === 'function'
    ? () => (g.performance as { now: () => number }).now()
    : () => Date.now();

/**
 * Validate a user timeout in milliseconds. `undefined`, `Infinity` and NaN mean
 * "forever" (as for `Atomics.wait`); negative values mean 0.
 */
export function normalizeTimeout(timeout: number | undefined): number {
  if (timeout === undefined) return Infinity;
  if (typeof timeout !== 'number') {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `timeout must be a number of milliseconds, got ${typeof timeout}`);
  }
  if (Number.isNaN(timeout)) return Infinity;
  return timeout < 0 ? 0 : timeout;
}

/** Absolute deadline (in `now()` time) for a user timeout. */
export function deadlineFrom(timeout: number | undefined): number {
  const t = normalizeTimeout(timeout);
  return t === Infinity ? Infinity : now() + t;
}

/** Milliseconds left until `deadline` (never negative). */
export function remaining(deadline: number): number {
  if (deadline === Infinity) return Infinity;
  const left = deadline - now();
  return left > 0 ? left : 0;
}

let canBlockCache: boolean | undefined;

/**
 * Whether this thread may call `Atomics.wait` ([[CanBlock]] is true). False on
 * e.g. browser main threads or agents created with blocking disabled; the
 * blocking methods of this module throw ERR_CANNOT_BLOCK there, use the
 * `...Async` forms instead.
 */
export function canBlock(): boolean {
  if (canBlockCache === undefined) {
    // Probe with a value that never matches: returns at once where allowed,
    // throws a TypeError where the agent cannot suspend.
    const probe = new Int32Array(new SharedArrayBuffer(4));
    try {
      Atomics.wait(probe, 0, 1, 0);
      canBlockCache = true;
    } catch {
      canBlockCache = false;
    }
  }
  return canBlockCache;
}

function cannotBlock(cause?: unknown): AtomicsError {
  return new AtomicsError(
    'ERR_CANNOT_BLOCK',
    'Atomics.wait is not allowed on this thread; use the async form (lockAsync, waitAsync, ...) instead',
    cause === undefined ? undefined : { cause },
  );
}

/** Throw ERR_CANNOT_BLOCK unless this thread may block. */
export function assertCanBlock(): void {
  if (!canBlock()) throw cannotBlock();
}

/**
 * Blocking futex wait: `Atomics.wait` with a normalised timeout, rethrowing
 * the engine's "cannot block" TypeError as AtomicsError ERR_CANNOT_BLOCK.
 */
export function wait(i32: Int32Array, index: number, value: number, timeout?: number): WaitResult {
  const t = normalizeTimeout(timeout);
  try {
    return Atomics.wait(i32, index, value, t);
  } catch (err) {
    if (err instanceof TypeError && !canBlock()) throw cannotBlock(err);
    throw err;
  }
}

// Keep-alive for pending async waits. On Node's main thread (and workers) a
// pending Atomics.waitAsync does not keep the event loop alive
// (nodejs/node#44729), so the process could exit under e.g. a pending
// lockAsync(). While at least one wait is pending we hold one ref'd timer.
const MAX_TIMER_MS = 0x7fffffff; // larger delays overflow to 1 ms in Node
let pendingAsyncWaits = 0;
let keepAliveTimer: unknown;

function keepAliveTick(): void {
  // Re-arm: a wait may outlive one ~24.8-day timer.
  keepAliveTimer = (g.setTimeout as NonNullable<MaybeTimers['setTimeout']>)(keepAliveTick, MAX_TIMER_MS);
}

function holdEventLoop(): () => void {
  if (typeof g.setTimeout !== 'function' || typeof g.clearTimeout !== 'function') return () => {};
  if (pendingAsyncWaits++ === 0) keepAliveTick();
  return () => {
    if (--pendingAsyncWaits === 0) {
      (g.clearTimeout as NonNullable<MaybeTimers['clearTimeout']>)(keepAliveTimer);
      keepAliveTimer = undefined;
    }
  };
}

/** Whether the engine provides `Atomics.waitAsync`. */
export function hasWaitAsync(): boolean {
  return typeof nativeWaitAsync === 'function';
}

/**
 * Non-blocking futex wait: like `Atomics.wait` but returns a promise, so it
 * works on threads that cannot block and on the host's event loop. While the
 * wait is pending and `setTimeout` exists, a ref'd timer keeps the event loop
 * alive; it is cleared when the wait settles.
 */
export function waitAsync(i32: Int32Array, index: number, value: number, timeout?: number): Promise<WaitResult> {
  if (typeof nativeWaitAsync !== 'function') {
    return Promise.reject(
      new AtomicsError('ERR_WAIT_ASYNC_UNSUPPORTED', 'Atomics.waitAsync is not available in this engine'),
    );
  }
  let result: ReturnType<WaitAsyncFn>;
  try {
    result = nativeWaitAsync.call(Atomics, i32, index, value, normalizeTimeout(timeout));
  } catch (err) {
    return Promise.reject(err);
  }
  if (!result.async) return Promise.resolve(result.value);
  const release = holdEventLoop();
  return result.value.then(
    (v) => {
      release();
      return v;
    },
    (err: unknown) => {
      release();
      throw err;
    },
  );
}

const sabByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')?.get;

/** Brand check that also works for buffers from another realm (unlike instanceof). */
export function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  if (value === null || typeof value !== 'object' || sabByteLength === undefined) return false;
  try {
    sabByteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validate (or allocate) the memory region of a synchronisation object and
 * return where it lives. `buffer === undefined` allocates a fresh, zeroed SAB.
 */
export function placeRegion(
  what: string,
  buffer: SharedArrayBuffer | undefined,
  byteOffset: number,
  byteLength: number,
  alignment: number,
): SharedHandle {
  if (buffer === undefined) {
    if (byteOffset !== 0) {
      throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}: byteOffset given without a buffer`);
    }
    return { buffer: new SharedArrayBuffer(byteLength), byteOffset: 0 };
  }
  if (!isSharedArrayBuffer(buffer)) {
    throw new AtomicsError(
      'ERR_ATOMICS_INVALID_ARGUMENT',
      `${what}: buffer must be a SharedArrayBuffer, got ${Object.prototype.toString.call(buffer)}`,
    );
  }
  if (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset < 0) {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}: byteOffset must be a non-negative integer`);
  }
  if (byteOffset % alignment !== 0) {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}: byteOffset ${byteOffset} is not a multiple of ${alignment}`);
  }
  if (byteOffset + byteLength > buffer.byteLength) {
    throw new AtomicsError(
      'ERR_OUT_OF_RANGE',
      `${what}: needs ${byteLength} bytes at offset ${byteOffset} but the buffer has ${buffer.byteLength}`,
    );
  }
  return { buffer, byteOffset };
}

/** Validate the argument of a static `from()` (an instance or its clone). */
export function handleOf(what: string, cloned: SharedHandle, byteLength: number, alignment: number): SharedHandle {
  if (cloned === null || typeof cloned !== 'object') {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}.from() expects { buffer, byteOffset }`);
  }
  if (!isSharedArrayBuffer(cloned.buffer)) {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what}.from(): buffer must be a SharedArrayBuffer`);
  }
  return placeRegion(what, cloned.buffer, cloned.byteOffset, byteLength, alignment);
}

/** Validate an integer argument in [min, max]. */
export function checkInt(what: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AtomicsError('ERR_ATOMICS_INVALID_ARGUMENT', `${what} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new AtomicsError('ERR_OUT_OF_RANGE', `${what} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export const INT32_MAX = 0x7fffffff;
