/**
 * Named selections of test262 and a programmatic way to run them in-process
 * with the real agent executor (used by the CI tests, the flake check and the
 * benchmark):
 *
 *   const t262 = resolveTest262(undefined, process.env, process.cwd());
 *   const { summary } = await runInProcess(t262, await sharedMemorySelectors(t262));
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentExecutor } from './host/agent-executor.js';
import { DEFAULT_TIMEOUT_MS } from './runner/cli.js';
import { discover, type Test262Paths } from './runner/discover.js';
import type { Executor } from './runner/executor.js';
import { loadExpectations, type Expectations } from './runner/expectations.js';
import type { Reporter } from './runner/results.js';
import { runTests, type RunOutput } from './runner/run.js';

/** Directories of the shared-memory subset (relative to `<test262>/test`). */
export const SHARED_MEMORY_DIRS: readonly string[] = [
  'built-ins/Atomics',
  'built-ins/SharedArrayBuffer',
  'built-ins/ArrayBuffer', // all of it: detach/resize/transfer cases are spread over the directory, and it takes seconds
  'built-ins/TypedArray', // every method, on shared, resizable and detached storage
  'built-ins/TypedArrayConstructors',
];

/** Marks a test that drives agents: `$262.agent` in its text, or the atomicsHelper.js include (which uses it). */
const AGENT_USE = /\$262\.agent|atomicsHelper\.js/;

/**
 * Every test file (relative path, sorted) anywhere under `<test262>/test`
 * that uses `$262.agent`. Computed from the snapshot each time (no list is
 * kept in the repository); ~54k files, a couple of seconds.
 */
export function agentTests(t262: Test262Paths): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.js') && !e.name.includes('_FIXTURE')) {
        // latin1: a byte-wise scan, no UTF-8 decoding needed for ASCII needles.
        if (AGENT_USE.test(readFileSync(p, 'latin1'))) found.push(path.relative(t262.testDir, p).split(path.sep).join('/'));
      }
    }
  };
  walk(t262.testDir);
  return found.sort();
}

/** Selectors of the shared-memory subset: {@link SHARED_MEMORY_DIRS} plus every {@link agentTests} file. */
export function sharedMemorySelectors(t262: Test262Paths): string[] {
  const dirs = [...SHARED_MEMORY_DIRS];
  const extra = agentTests(t262).filter((f) => !dirs.some((d) => f.startsWith(`${d}/`)));
  return [...dirs, ...extra];
}

/** The repository's expectations file (source tree or dist/). */
export function defaultExpectationsPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // test262/subsets.ts -> test262/expectations; dist/test262/subsets.js -> ../../test262/expectations
  return path.basename(path.dirname(here)) === 'dist'
    ? path.resolve(here, '..', '..', 'test262', 'expectations')
    : path.resolve(here, 'expectations');
}

export interface InProcessOptions {
  /** Scenarios in flight (default: 4 x CPUs, as the CLI). */
  threads?: number;
  timeoutMs?: number;
  expectations?: Expectations;
  executor?: Executor;
  reporters?: readonly Reporter[];
  signal?: AbortSignal;
}

export function cpuCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Discovers `selectors` and runs them in agents, like `agentcluster test262 <selectors>`. */
export async function runInProcess(
  t262: Test262Paths,
  selectors: readonly string[],
  options: InProcessOptions = {},
): Promise<RunOutput & { scenarios: number }> {
  const cases = await discover(t262, selectors);
  const out = await runTests({
    t262,
    cases,
    executor: options.executor ?? new AgentExecutor(),
    expectations: options.expectations ?? loadExpectations(defaultExpectationsPath()),
    threads: options.threads ?? cpuCount() * 4,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    reporters: options.reporters ?? [],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { ...out, scenarios: cases.length };
}
