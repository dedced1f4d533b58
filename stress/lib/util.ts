// Small async helpers shared by scenarios.
import type { Agent } from '../../src/index.js';

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves after the current macrotask queue drained (setImmediate). */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`timed out after ${ms} ms waiting for ${what}`);
    this.name = 'TimeoutError';
  }
}

/** `promise`, or a TimeoutError naming `what` after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `message` of an agent (rejects on error/exit/timeout). */
export function nextMessage<T = unknown>(agent: Agent, ms = 10_000, filter: (value: unknown) => boolean = () => true): Promise<T> {
  return within(
    new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        agent.off('message', onMessage);
        agent.off('error', onError);
        agent.off('exit', onExit);
      };
      const onMessage = (value: unknown) => {
        if (!filter(value)) return;
        cleanup();
        resolve(value as T);
      };
      const onError = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const onExit = (info: unknown) => {
        cleanup();
        reject(new Error(`${agent.name} exited before the message: ${JSON.stringify(info)}`));
      };
      agent.on('message', onMessage);
      agent.on('error', onError);
      agent.on('exit', onExit);
    }),
    ms,
    `a message from ${agent.name}`,
  );
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** "Name: message" of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (error !== null && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

/** The `code` property of a thrown value, if any. */
export function errorCode(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
