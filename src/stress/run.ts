// Running every test of some files, one after another (each test has the
// machine to itself: overlapping tests would only measure each other).
import { StressError } from './define.js';
import { loadTests, type FoundTest } from './load.js';
import { runLitmus } from './litmus-runner.js';
import { runLinearizable } from './history-runner.js';
import type { StressReport } from './report.js';

/** The most agents a linearizability test may run operations on. */
export const MAX_STRESS_AGENTS = 64;
/** The most litmus iterations per batch (between two barriers). */
export const MAX_STRESS_BATCH = 1 << 20;

export interface RunOptions {
  /** Seed of the random choices (default: random, and reported). */
  seed?: number;
  /** Per test: run this long (ms; default 1000 for litmus tests unless iterations is given). */
  durationMs?: number;
  /** Litmus: iterations per test; linearizability: histories per test. */
  iterations?: number;
  /** Linearizability: agents running operations (default: the cores, 2 to 4). */
  agents?: number;
  /** Litmus iterations per batch (default 1024). */
  batch?: number;
  /** Force perturbation on or off (default: each test's own choice). */
  perturb?: boolean;
  /** Litmus: end a test early once an outcome of one of these grades is seen. */
  stopOn?: Array<'ok' | 'interesting' | 'forbidden'>;
  /** Only tests whose id or name includes this text. */
  filter?: string;
  /** Called with each report as it is ready. */
  onReport?(report: StressReport): void;
}

/** One check of the numeric options for the API and the CLI alike: a NaN, 0 or fractional count would run forever or test nothing. */
function checkRunOptions(options: RunOptions): void {
  const whole = (name: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new StressError('ERR_STRESS_INVALID_OPTION', `${name} must be a whole number from ${min} to ${max}, not ${String(value)}`);
    }
  };
  whole('iterations', options.iterations, 1, Number.MAX_SAFE_INTEGER);
  whole('batch', options.batch, 1, MAX_STRESS_BATCH);
  whole('agents', options.agents, 1, MAX_STRESS_AGENTS);
  const duration = options.durationMs;
  if (duration !== undefined && (typeof duration !== 'number' || Number.isNaN(duration) || duration < 1)) {
    throw new StressError('ERR_STRESS_INVALID_OPTION', `durationMs must be a number of milliseconds of at least 1, not ${String(duration)}`);
  }
}

export async function runStressTest(found: FoundTest, options: RunOptions & { seed: number }): Promise<StressReport> {
  checkRunOptions(options);
  const { file, id, test } = found;
  if (test.kind === 'agentcluster.stress.litmus') {
    return runLitmus(file, id, test, {
      seed: options.seed, iterations: options.iterations, durationMs: options.durationMs, batch: options.batch, perturb: options.perturb, stopOn: options.stopOn,
    });
  }
  return runLinearizable(file, id, test, {
    seed: options.seed, histories: options.iterations, durationMs: options.durationMs, agents: options.agents, perturb: options.perturb,
  });
}

export async function runStressFiles(files: string[], options: RunOptions = {}): Promise<StressReport[]> {
  const seed = options.seed ?? (Math.random() * 2 ** 32) >>> 0;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new StressError('ERR_STRESS_INVALID_OPTION', `seed must be a whole number from 0 to 2^32-1, not ${seed}`);
  checkRunOptions(options);
  const reports: StressReport[] = [];
  for (const file of files) {
    for (const found of await loadTests(file)) {
      if (options.filter !== undefined && !found.id.includes(options.filter) && !found.test.name.includes(options.filter)) continue;
      const report = await runStressTest(found, { ...options, seed });
      options.onReport?.(report);
      reports.push(report);
    }
  }
  return reports;
}
