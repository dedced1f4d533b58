// Typed errors of AgentPool. Every error carries a stable `code`; an abort
// is named 'AbortError' (code ABORT_ERR, as Node's own) and a timeout
// 'TimeoutError', so both can be told apart without importing this module.
import { describeValue } from '../options/limits.js';

export type PoolErrorCode =
  | 'ERR_POOL_INVALID_OPTION'
  | 'ERR_POOL_QUEUE_FULL'
  | 'ERR_POOL_CLOSED'
  | 'ERR_POOL_DESTROYED'
  | 'ERR_POOL_AGENT_EXITED'
  | 'ERR_POOL_AGENT_START_FAILED'
  | 'ERR_POOL_JOB_NOT_FOUND'
  | 'ERR_POOL_NOT_MOVABLE'
  | 'ERR_POOL_RESULT_UNREADABLE'
  | 'ERR_TASK_TIMEOUT'
  | 'ABORT_ERR';

export class PoolError extends Error {
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string, options?: { cause?: unknown; name?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = options?.name ?? 'PoolError';
    this.code = code;
  }
}

/** `value`, when given, is shown in the message (`got ...`). */
export function invalidOption(name: string, expected: string, ...value: [unknown?]): PoolError {
  return new PoolError('ERR_POOL_INVALID_OPTION', `The "${name}" option must be ${expected}${value.length > 0 ? `; got ${describeValue(value[0])}` : ''}`);
}

export function unknownOption(message: string): PoolError {
  return new PoolError('ERR_POOL_INVALID_OPTION', message);
}

export function abortError(reason: unknown): PoolError {
  return new PoolError('ABORT_ERR', 'The task has been aborted', { cause: reason, name: 'AbortError' });
}

export function timeoutError(ms: number): PoolError {
  return new PoolError('ERR_TASK_TIMEOUT', `The task timed out after ${ms} ms`, { name: 'TimeoutError' });
}

export function closedError(): PoolError {
  return new PoolError('ERR_POOL_CLOSED', 'The pool is closed; it accepts no new tasks');
}

export function destroyedError(): PoolError {
  return new PoolError('ERR_POOL_DESTROYED', 'The pool was destroyed before the task finished');
}

export function queueFullError(maxQueue: number): PoolError {
  return new PoolError('ERR_POOL_QUEUE_FULL', `The task queue is full (maxQueue: ${maxQueue})`);
}

// ---------------------------------------------------------------- errors crossing from agents

/**
 * How the bootstrap sends a thrown value: `[1, {name, message, stack, props, cause}]`
 * for an Error (so `code` and other own properties survive the clone), `[0, value]`
 * for anything else that was thrown.
 */
export type ErrorEnvelope =
  | readonly [1, { name: string; message: string; stack?: string; props?: Record<string, unknown>; cause?: ErrorEnvelope }]
  | readonly [0, unknown];

const constructors: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds on the host what a job threw inside an agent. */
export function fromEnvelope(envelope: unknown): unknown {
  if (!Array.isArray(envelope)) return envelope;
  if (envelope[0] !== 1) return envelope[1];
  const data = envelope[1] as { name?: unknown; message?: unknown; stack?: unknown; props?: unknown; cause?: unknown };
  const name = typeof data.name === 'string' ? data.name : 'Error';
  const Ctor = constructors[name] ?? Error;
  const error = new Ctor(typeof data.message === 'string' ? data.message : '');
  if (error.name !== name) {
    Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  }
  if (typeof data.stack === 'string') {
    Object.defineProperty(error, 'stack', { value: data.stack, writable: true, configurable: true, enumerable: false });
  }
  if (data.props !== null && typeof data.props === 'object') Object.assign(error, data.props);
  if (data.cause !== undefined) {
    Object.defineProperty(error, 'cause', { value: fromEnvelope(data.cause), writable: true, configurable: true, enumerable: false });
  }
  return error;
}
