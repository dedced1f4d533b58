/**
 * agentcluster:atomics: synchronisation objects that live in a
 * SharedArrayBuffer and work the same on the Node host and inside agents.
 *
 * - Every object allocates its own SAB (`new Mutex()`) or is placed in a
 *   caller's SAB (`new Mutex(sab, byteOffset)`); `X.byteLength` (for the queue
 *   `SharedQueue.byteLengthFor(options)`) and `X.alignment` let several share
 *   one buffer. Constructors initialise the region.
 * - Sending one to another thread: postMessage/structuredClone turns it into a
 *   plain `{ buffer, byteOffset }` (its only own enumerable fields; the SAB is
 *   shared, not copied). Re-attach with `X.from(cloned)`, which never resets
 *   the state.
 * - Blocking methods use Atomics.wait (throw ERR_CANNOT_BLOCK where that is
 *   forbidden); `...Async` methods use Atomics.waitAsync and keep the Node
 *   event loop alive while pending.
 * - Timeouts are milliseconds (default: forever) and are reported by the
 *   return value (false / null / undefined), never by throwing.
 * - Errors thrown on purpose are `AtomicsError` with a `code`.
 *
 * Only ECMAScript is used (no Node APIs), so this module runs in bare isolates.
 */
export {
  AtomicsError,
  canBlock,
  hasWaitAsync,
  waitAsync,
  type AtomicsErrorCode,
  type SharedHandle,
  type WaitResult,
} from './wait.js';
export { Mutex, lock, lockAsync } from './mutex.js';
export { Condition } from './condition.js';
export { Semaphore } from './semaphore.js';
export { Barrier } from './barrier.js';
export { Latch, WaitGroup } from './latch.js';
export {
  SharedQueue,
  type QueueInput,
  type QueueItem,
  type QueueKind,
  type SharedQueueOptions,
} from './shared-queue.js';
