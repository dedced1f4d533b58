/**
 * Result types shared by the runner and the reporters, and the tallying of a
 * run into a summary (totals and per-directory groups).
 */
import type { Scenario } from './executor.js';
import type { Expected, PathEntry } from './expectations.js';

export type Status = 'pass' | 'fail' | 'skip';

/**
 * - `pass`: passed as expected;             - `fail`: failed although expected to pass (fails the run);
 * - `xfail`: failed as expected;            - `xpass`: passed although expected to fail (reported);
 * - `skip`: not run.
 */
export type Outcome = 'pass' | 'fail' | 'xfail' | 'xpass' | 'skip';

export interface TestResult {
  id: string;
  relPath: string;
  scenario: Scenario;
  status: Status;
  expected: Expected;
  outcome: Outcome;
  /** Failure message (status `fail`). */
  error?: string;
  /** Expectation/skip reason, if any. */
  reason?: string;
  /** Wall time spent on the test (0 for skips). */
  ms: number;
  /** Expectation entry that applied (not serialised). */
  entry?: PathEntry;
}

export function outcomeOf(status: Status, expected: Expected): Outcome {
  if (status === 'skip') return 'skip';
  if (expected === 'fail') return status === 'fail' ? 'xfail' : 'xpass';
  return status === 'fail' ? 'fail' : 'pass';
}

export interface Counts {
  total: number;
  pass: number;
  fail: number;
  skip: number;
  /** Failed and expected to fail (included in `fail`). */
  expectedFail: number;
  unexpectedFail: number;
  unexpectedPass: number;
}

export function emptyCounts(): Counts {
  return { total: 0, pass: 0, fail: 0, skip: 0, expectedFail: 0, unexpectedFail: 0, unexpectedPass: 0 };
}

export function addToCounts(c: Counts, r: Pick<TestResult, 'status' | 'outcome'>): void {
  c.total++;
  c[r.status]++;
  if (r.outcome === 'xfail') c.expectedFail++;
  else if (r.outcome === 'fail') c.unexpectedFail++;
  else if (r.outcome === 'xpass') c.unexpectedPass++;
}

/** Directory grouping used by the summary table and JUnit suites: `built-ins/Atomics`. */
export function groupOf(relPath: string, depth = 2): string {
  const dirs = relPath.split('/').slice(0, -1);
  return dirs.length === 0 ? '.' : dirs.slice(0, depth).join('/');
}

export interface RunSummary extends Counts {
  seconds: number;
  /** The run was interrupted (signal) before every scenario finished. */
  interrupted: boolean;
  /** Scenarios whose executor ignored the abort and was abandoned. */
  abandoned: number;
  groups: Map<string, Counts>;
  unexpectedFailures: TestResult[];
  unexpectedPasses: TestResult[];
  /** `[fail]`/`[skip]` entries that matched nothing; only filled for a full-suite run. */
  unusedEntries: PathEntry[];
}

export interface RunInfo {
  total: number;
  threads: number;
  timeoutMs: number;
  test262Dir: string;
}

export interface Progress {
  done: number;
  total: number;
  counts: Counts;
  elapsedMs: number;
}

/** Receives events from the runner. All methods are called synchronously, in order. */
export interface Reporter {
  start?(info: RunInfo): void;
  result?(r: TestResult, progress: Progress): void;
  /** May flush to files; awaited before `main` returns. */
  end?(summary: RunSummary, results: readonly TestResult[]): void | Promise<void>;
}
