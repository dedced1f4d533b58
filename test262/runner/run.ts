/**
 * The runner: feeds discovered scenarios to the executor with bounded
 * concurrency, enforces the per-test timeout through an AbortSignal, judges
 * each result and streams it to the reporters. Nothing a single test (or the
 * executor, for a single test) does can bring the run down: load errors,
 * executor rejections/throws and ignored aborts all become that test's
 * failure.
 */
import { errorText, loadScenarioSource, type Test262Paths, type TestCase } from './discover.js';
import type { ExecResult, Executor } from './executor.js';
import { expectationFor, type Expectation, type Expectations, type PathEntry } from './expectations.js';
import {
  addToCounts,
  emptyCounts,
  groupOf,
  outcomeOf,
  type Counts,
  type Reporter,
  type RunSummary,
  type TestResult,
} from './results.js';
import { toExecRequest } from './scenarios.js';
import { validate, type Verdict } from './validate.js';

export interface RunOptions {
  t262: Test262Paths;
  cases: readonly TestCase[];
  executor: Executor;
  expectations: Expectations;
  featuresExclude?: ReadonlySet<string>;
  /** Maximum scenarios in flight. */
  threads: number;
  /** Per-scenario budget; the signal handed to the executor aborts when it elapses. */
  timeoutMs: number;
  /**
   * How long the executor may take to settle after its signal aborted before
   * the scenario is abandoned (recorded as timed out, slot freed).
   * Default: min(timeoutMs, 5000).
   */
  abortGraceMs?: number;
  reporters?: readonly Reporter[];
  /** Aborting it interrupts the run: no new scenarios start, running ones are aborted. */
  signal?: AbortSignal;
  /** Whole suite selected: report expectation entries that affected no scenario. */
  reportUnused?: boolean;
  /** Override how the runnable source is produced (tests). */
  loadSource?: (tc: TestCase) => Promise<string>;
}

export interface RunOutput {
  summary: RunSummary;
  results: TestResult[];
}

type Settled =
  | { kind: 'ok'; result: ExecResult }
  | { kind: 'threw'; error: unknown }
  | { kind: 'abandoned' };

interface Executed {
  verdict: Verdict;
  abandoned: boolean;
  /** Aborted because the whole run was interrupted (result is discarded). */
  interrupted: boolean;
}

async function execute(
  opts: RunOptions,
  tc: TestCase,
  source: string,
): Promise<Executed> {
  const { timeoutMs } = opts;
  const grace = opts.abortGraceMs ?? Math.min(timeoutMs, 5000);
  const req = toExecRequest(tc, source, timeoutMs);
  const ac = new AbortController();
  let timedOutByRunner = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let resolveAbandon!: (s: Settled) => void;
  const abandoned = new Promise<Settled>((resolve) => (resolveAbandon = resolve));
  const onAbort = (): void => {
    graceTimer = setTimeout(() => resolveAbandon({ kind: 'abandoned' }), grace);
  };
  ac.signal.addEventListener('abort', onAbort, { once: true });
  const onOuterAbort = (): void => ac.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => {
    timedOutByRunner = true;
    ac.abort(new Error(`timeout after ${timeoutMs} ms`));
  }, timeoutMs);

  let running: Promise<ExecResult>;
  try {
    running = Promise.resolve(opts.executor.run(req, ac.signal));
  } catch (error) {
    running = Promise.reject(error);
  }
  const settled = running.then(
    (result): Settled => ({ kind: 'ok', result }),
    (error: unknown): Settled => ({ kind: 'threw', error }),
  );
  let out: Settled;
  try {
    out = await Promise.race([settled, abandoned]);
  } finally {
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    ac.signal.removeEventListener('abort', onAbort);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }

  const interrupted = !timedOutByRunner && opts.signal?.aborted === true;
  const timeoutText = `Test timed out after ${timeoutMs} ms`;
  switch (out.kind) {
    case 'abandoned':
      return {
        verdict: {
          status: 'fail',
          error: `${timeoutText}; executor did not stop within ${grace} ms of the abort (abandoned)`,
        },
        abandoned: true,
        interrupted,
      };
    case 'threw':
      return {
        verdict: { status: 'fail', error: `Crashed: executor error: ${errorText(out.error)}` },
        abandoned: false,
        interrupted,
      };
    case 'ok': {
      const result = sanitize(out.result);
      // Like test262-harness: a test that outlived its budget is a timeout,
      // whatever the executor made of the abort.
      if (timedOutByRunner || result.timedOut) {
        const partial = result.crashed ?? (result.error ? `${result.error.name}: ${result.error.message}` : undefined);
        return {
          verdict: { status: 'fail', error: partial ? `${timeoutText} (${partial})` : timeoutText },
          abandoned: false,
          interrupted,
        };
      }
      return { verdict: validate(tc.attrs, result), abandoned: false, interrupted };
    }
  }
}

/** Defends against executors returning malformed results. */
function sanitize(r: ExecResult | null | undefined): ExecResult {
  if (!r || typeof r !== 'object') {
    return { stdout: '', error: null, timedOut: false, crashed: `executor returned ${String(r)}` };
  }
  const error =
    r.error && typeof r.error === 'object'
      ? { name: String(r.error.name), message: String(r.error.message), phase: r.error.phase }
      : null;
  return {
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    error,
    timedOut: r.timedOut === true,
    ...(r.crashed !== undefined ? { crashed: String(r.crashed) } : {}),
  };
}

export async function runTests(opts: RunOptions): Promise<RunOutput> {
  const reporters = opts.reporters ?? [];
  const cases = opts.cases;
  const threads = Math.max(1, Math.floor(opts.threads));
  const loadSource = opts.loadSource ?? ((tc: TestCase) => loadScenarioSource(opts.t262, tc));
  const started = performance.now();
  const counts = emptyCounts();
  const groups = new Map<string, Counts>();
  const results: TestResult[] = [];
  const usedEntries = new Set<PathEntry>();
  let abandonedCount = 0;
  let done = 0;

  for (const r of reporters) {
    r.start?.({ total: cases.length, threads, timeoutMs: opts.timeoutMs, test262Dir: opts.t262.root });
  }

  const record = (tc: TestCase, exp: Expectation, verdict: Verdict | 'skip', ms: number): void => {
    const status = verdict === 'skip' ? 'skip' : verdict.status;
    const result: TestResult = {
      id: tc.id,
      relPath: tc.relPath,
      scenario: tc.scenario,
      status,
      expected: exp.expected,
      outcome: outcomeOf(status, exp.expected),
      ms,
    };
    if (verdict !== 'skip' && verdict.error !== undefined) result.error = verdict.error;
    if (exp.reason !== undefined) result.reason = exp.reason;
    if (exp.entry) {
      result.entry = exp.entry;
      usedEntries.add(exp.entry);
    }
    results.push(result);
    addToCounts(counts, result);
    const g = groupOf(tc.relPath);
    let gc = groups.get(g);
    if (!gc) groups.set(g, (gc = emptyCounts()));
    addToCounts(gc, result);
    done++;
    const progress = { done, total: cases.length, counts, elapsedMs: performance.now() - started };
    for (const rep of reporters) rep.result?.(result, progress);
  };

  const runOne = async (tc: TestCase): Promise<void> => {
    const exp = expectationFor(opts.expectations, tc.relPath, tc.scenario, tc.attrs.features, {
      featuresExclude: opts.featuresExclude,
    });
    if (exp.expected === 'skip') {
      record(tc, exp, 'skip', 0);
      return;
    }
    const t0 = performance.now();
    if (tc.loadError !== undefined) {
      record(tc, exp, { status: 'fail', error: tc.loadError }, 0);
      return;
    }
    let source: string;
    try {
      source = await loadSource(tc);
    } catch (err) {
      record(tc, exp, { status: 'fail', error: `cannot load test: ${errorText(err)}` }, performance.now() - t0);
      return;
    }
    if (opts.signal?.aborted) return;
    const ex = await execute(opts, tc, source);
    if (ex.abandoned) abandonedCount++;
    if (ex.interrupted) return;
    record(tc, exp, ex.verdict, performance.now() - t0);
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length && !opts.signal?.aborted) {
      const tc = cases[next++]!;
      try {
        await runOne(tc);
      } catch (err) {
        // Bug in the runner itself for this case: keep going, but make it visible.
        record(tc, { expected: 'pass' }, { status: 'fail', error: `runner error: ${errorText(err)}` }, 0);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(threads, Math.max(cases.length, 1)) }, worker));

  const interrupted = opts.signal?.aborted === true && done < cases.length;
  const summary: RunSummary = {
    ...counts,
    seconds: (performance.now() - started) / 1000,
    interrupted,
    abandoned: abandonedCount,
    groups,
    unexpectedFailures: results.filter((r) => r.outcome === 'fail'),
    unexpectedPasses: results.filter((r) => r.outcome === 'xpass'),
    unusedEntries:
      opts.reportUnused && !interrupted ? opts.expectations.paths.filter((e) => !usedEntries.has(e)) : [],
  };
  for (const r of reporters) await r.end?.(summary, results);
  return { summary, results };
}
