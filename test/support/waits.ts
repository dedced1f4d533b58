// Waiting helpers of every test file (defines no tests): a promise with a
// deadline, an agent's next message, polling a condition. `within` and
// `nextMessage` are the stress suite's (stress/lib/util.ts), so tests and
// stress scenarios time out and report the same way.
import type { Agent } from '../../src/index.js';
import { delay, nextMessage, within } from '../../stress/lib/util.js';

export { delay, nextMessage, within };

/** The next `n` messages of `agent`, in order. */
export function collectMessages<T = unknown>(agent: Agent, n: number, ms = 10_000): Promise<T[]> {
  const values: T[] = [];
  return within(
    new Promise<T[]>((resolve) => {
      const onMessage = (value: unknown) => {
        values.push(value as T);
        if (values.length === n) {
          agent.off('message', onMessage);
          resolve(values);
        }
      };
      agent.on('message', onMessage);
    }),
    ms,
    `${n} messages from ${agent.name}`,
  );
}

/** The first emission of `event` on `agent`, with its arguments. */
export function once<T extends unknown[] = unknown[]>(agent: Agent, event: string, ms = 10_000): Promise<T> {
  return within(
    new Promise<T>((resolve) => (agent as unknown as NodeJS.EventEmitter).once(event, (...args: unknown[]) => resolve(args as T))),
    ms,
    `'${event}' from ${agent.name}`,
  );
}

/** Polls `check` (on the host's event loop) until it is true; throws after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(1);
  }
}
