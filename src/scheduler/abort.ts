// Cancellation sources of a task: an AbortSignal and a deadline. Both are
// armed when the task is submitted (a timeout counts from run(), queue time
// included) and disarmed when it settles; what cancelling means (leave the
// queue, or stop the agent running it) is the pool's business.
import { abortError, timeoutError } from './errors.js';
import type { Task } from './task.js';

export type Cancel = (task: Task, error: Error) => void;

export function watch(task: Task, signal: AbortSignal | undefined, timeout: number | undefined, cancel: Cancel): void {
  if (signal !== undefined) {
    const onAbort = () => cancel(task, abortError(signal.reason));
    task.signal = signal;
    task.onAbort = onAbort;
    signal.addEventListener('abort', onAbort, { once: true });
  }
  if (timeout !== undefined) {
    task.timer = setTimeout(() => cancel(task, timeoutError(timeout)), timeout);
    task.timer.unref();
  }
}

export function unwatch(task: Task): void {
  if (task.onAbort !== undefined) {
    task.signal!.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
    task.signal = undefined;
  }
  if (task.timer !== undefined) {
    clearTimeout(task.timer);
    task.timer = undefined;
  }
}
