// iterate(): the loop every scenario runs — one seeded iteration after
// another until the deadline, each failure stamped with its iteration.
import { deriveSeed, Rng } from './rng.js';
import type { ScenarioResult, StressContext } from './types.js';
import { describeError, within } from './util.js';

export interface Iteration {
  /** 0, 1, 2, ... */
  index: number;
  /** deriveSeed(scenario seed, index): the iteration's own seed. */
  seed: number;
  /** Seeded by `seed`: the same draws on every replay. */
  rng: Rng;
}

export interface IterateOptions {
  /** Iterations to run even past the deadline (default 1). */
  min?: number;
  /** Stop after this many (default: unlimited). */
  max?: number;
  /** An iteration still running after this many ms is a failure ("hang"), and the loop stops (default 60 s). */
  timeoutMs?: number;
  /**
   * Failed iterations whose failures are recorded one by one (default 10).
   * Past that, the loop goes on (the other checks still run) and only counts
   * further failures, summarised in one entry at the end.
   */
  maxFailures?: number;
  /** Do not start a new iteration with less than this many ms left (default 0). */
  reserveMs?: number;
}

export async function iterate(ctx: StressContext, body: (it: Iteration) => Promise<void>, options: IterateOptions = {}): Promise<ScenarioResult> {
  const min = options.min ?? 1;
  const max = options.max ?? Infinity;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxFailures = options.maxFailures ?? 10;
  const reserve = options.reserveMs ?? 0;
  let index = 0;
  let failedIterations = 0;
  let unrecorded = 0;
  let lastUnrecorded = '';
  while (index < max && (index < min || ctx.timeLeft() > reserve)) {
    const seed = deriveSeed(ctx.seed, index);
    ctx.iteration = index;
    const before = ctx.failures.length;
    let hung = false;
    try {
      await within(body({ index, seed, rng: new Rng(seed) }), timeoutMs, `iteration ${index} to finish (hang?)`);
    } catch (error) {
      hung = error instanceof Error && error.name === 'TimeoutError' && /hang\?/.test(error.message);
      ctx.failures.push({ message: describeError(error), seed: ctx.runSeed, iteration: index });
    }
    index++;
    if (ctx.failures.length > before) {
      failedIterations++;
      if (failedIterations > maxFailures) {
        const extra = ctx.failures.splice(before);
        unrecorded += extra.length;
        lastUnrecorded = extra[0]!.message;
      }
    }
    ctx.progress?.(index);
    if (hung) break;
  }
  if (unrecorded > 0) {
    ctx.failures.push({
      message: `…and ${unrecorded} more failure(s) in ${failedIterations - maxFailures} more failed iteration(s), not recorded one by one; the last: ${lastUnrecorded}`,
      seed: ctx.runSeed,
      iteration: index - 1,
    });
  }
  return { iterations: index, failures: ctx.failures, ...(unrecorded > 0 ? { failureCount: ctx.failures.length - 1 + unrecorded } : {}) };
}
