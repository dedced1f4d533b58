// pool.map(): bulk submission with a bounded window. At most `concurrency`
// items are ever taken from the iterable and not yet yielded (running,
// queued, or finished and waiting for their turn in ordered mode), so a huge
// or endless input never sits in memory.
import { setMaxListeners } from 'node:events';
import { invalidOption, PoolError } from './errors.js';
import type { RunOptions } from './pool.js';
import { badTaskOptions } from './options.js';

export interface MapOptions extends Omit<RunOptions, 'transferList'> {
  /** Window: items taken and not yet yielded (default: max(16, 4 x maxAgents x concurrentTasksPerAgent)). */
  concurrency?: number;
  /** Yield in input order (default true) or as tasks finish. */
  ordered?: boolean;
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function* mapTasks<I, R>(
  run: (item: I, options: RunOptions) => Promise<R>,
  iterable: Iterable<I> | AsyncIterable<I>,
  options: MapOptions | undefined,
  defaultWindow: number,
): AsyncGenerator<R, void, undefined> {
  const badOptions = badTaskOptions(options, 'map');
  if (badOptions !== undefined) throw badOptions;
  const window = options?.concurrency ?? defaultWindow;
  if (!Number.isInteger(window) || window < 1) throw invalidOption('concurrency', 'an integer >= 1', window);
  const isIterable = (value: unknown, key: symbol) => value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as Record<symbol, unknown>)[key] === 'function';
  if (!isIterable(iterable, Symbol.asyncIterator) && !isIterable(iterable, Symbol.iterator)) {
    throw new PoolError('ERR_POOL_INVALID_OPTION', 'map() needs an iterable or an async iterable');
  }
  const ordered = options?.ordered ?? true;
  const controller = new AbortController();
  const outer = options?.signal;
  const signal = outer === undefined ? controller.signal : AbortSignal.any([controller.signal, outer]);
  setMaxListeners(0, signal); // one listener per task in the window: not a leak
  const runOptions: RunOptions = { signal, name: options?.name, priority: options?.priority, timeout: options?.timeout };

  const iterator: Iterator<I> | AsyncIterator<I> =
    isIterable(iterable, Symbol.asyncIterator) ? (iterable as AsyncIterable<I>)[Symbol.asyncIterator]() : (iterable as Iterable<I>)[Symbol.iterator]();
  let exhausted = false;

  // Ordered: a FIFO of outcome promises. Unordered: outcomes as they land.
  const inOrder: Promise<Outcome<R>>[] = [];
  const landed: Outcome<R>[] = [];
  let outstanding = 0; // unordered: submitted, not landed
  let wake: (() => void) | undefined;

  const submit = (item: I) => {
    const outcome = run(item, runOptions).then(
      (value): Outcome<R> => ({ ok: true, value }),
      (error: unknown): Outcome<R> => ({ ok: false, error }),
    );
    if (ordered) {
      inOrder.push(outcome);
    } else {
      outstanding++;
      void outcome.then((result) => {
        outstanding--;
        landed.push(result);
        wake?.();
      });
    }
  };
  const held = () => (ordered ? inOrder.length : outstanding + landed.length);

  try {
    for (;;) {
      while (!exhausted && held() < window) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else submit(next.value);
      }
      let result: Outcome<R>;
      if (ordered) {
        const head = inOrder.shift();
        if (head === undefined) return;
        result = await head;
      } else {
        if (landed.length === 0) {
          if (outstanding === 0) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        result = landed.shift()!;
      }
      if (!result.ok) throw result.error;
      yield result.value;
    }
  } finally {
    // Leaving early (break, a failure, an abort): cancel what is left.
    controller.abort();
    if (!exhausted) await iterator.return?.();
  }
}
