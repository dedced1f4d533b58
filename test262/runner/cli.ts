/**
 * Command-line front end of the in-process test262 runner:
 *
 *   main(process.argv.slice(2), executor)  // resolves to the exit code
 *
 * The executor (which actually runs JS in agentcluster agents) is injected by
 * the caller; see executor.ts.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discover, resolveTest262, type TestCase } from './discover.js';
import type { Executor } from './executor.js';
import { describeExpectations, emptyExpectations, expectationFor, loadExpectations, type Expectations } from './expectations.js';
import { jsonReporter } from './reporters/json.js';
import { junitReporter } from './reporters/junit.js';
import { progressReporter, type ProgressStream } from './reporters/progress.js';
import { openOutput } from './reporters/stream.js';
import { summaryReporter } from './reporters/summary.js';
import type { Reporter } from './results.js';
import { runTests } from './run.js';
import { mergeMain } from './merge.js';
import { describeShard, parseShardSpec, selectShard, ShardSpecError, type ShardHeader } from './shard.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Default concurrency: 4 scenarios per CPU. Most time in the shared-memory
 * tests (Atomics.wait/notify, agents) is spent sleeping in `$262.agent.sleep`
 * or blocked in `Atomics.wait`, not computing, so oversubscribing the CPUs
 * keeps them busy; CPU-bound suites can pass `--threads <cpus>`.
 */
export function defaultThreads(): number {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, cpus) * 4;
}

export const USAGE = `Usage: agentcluster test262 [options] [path|glob ...]

Runs test262 scenarios in agentcluster agents. Paths and globs are relative to
<test262>/test (or absolute); with none, the whole suite runs. Examples:
  built-ins/Atomics   'built-ins/Atomics/**/bigint/*.js'   language/expressions/await

Options:
  --test262 <dir>            test262 checkout (default: $TEST262_DIR, else ../shared/test262)
  -t, --threads <n>          scenarios in flight (default: 4 x CPUs = ${defaultThreads()})
  --timeout <ms>             per-scenario timeout (default: ${DEFAULT_TIMEOUT_MS})
  -r, --reporter <list>      progress, json, junit; comma separated or repeated (default: progress)
  --json-out <file>          write the json reporter's lines to <file> instead of stdout
  --junit-out <file>         write the JUnit XML to <file> instead of stdout
  --expectations <file>      expectations file (default: test262/expectations)
  --no-expectations          expect every scenario to pass
  --features-exclude <list>  skip tests using any of these features (comma separated)
  --features <list>          only run tests using at least one of these features
  --fail-on-unexpected-pass  exit non-zero when an expected failure passes
  --list                     print the selected scenarios and their expectations, run nothing
  --shard <i/n>              run only slice i of n (deterministic; see docs/distributed.md)
  --durations <file>         balance the shards by an earlier run's --reporter json output
  -v, --verbose              print every result
  -h, --help                 this help

Exit status: 0 = no unexpected failure, 1 = unexpected failures (or unexpected
passes with --fail-on-unexpected-pass), 2 = usage/configuration error,
130 = interrupted.

  agentcluster test262 merge [--json-out f] [--junit-out f] <shard.jsonl> ...
merges the JSON outputs of the shards of one run (see merge --help).`;

export interface CliIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Interrupts the run when aborted. Without it, SIGINT does. */
  signal?: AbortSignal;
}

class UsageError extends Error {}

function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function positiveInt(name: string, v: string | undefined, def: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  // Decimal digits only: "1.5", "0x10", "1e3" and " 4" are mistakes, not numbers.
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  if (n > max) throw new UsageError(`--${name} must be at most ${max}, got ${v}`);
  return n;
}

/** setTimeout's limit: a longer timeout would fire at once (TimeoutOverflowWarning). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function defaultExpectationsFile(cwd: string): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '..', 'expectations'), // running from source: test262/runner/
    path.resolve(here, '..', '..', '..', 'test262', 'expectations'), // built: dist/test262/runner/
    path.resolve(cwd, 'test262', 'expectations'),
  ];
  return candidates.find((c) => existsSync(c));
}

export async function main(argv: string[], executor: Executor, ioIn: Partial<CliIO> = {}): Promise<number> {
  const io: CliIO = {
    stdout: ioIn.stdout ?? process.stdout,
    stderr: ioIn.stderr ?? process.stderr,
    env: ioIn.env ?? process.env,
    cwd: ioIn.cwd ?? process.cwd(),
    ...(ioIn.signal ? { signal: ioIn.signal } : {}),
  };
  if (argv[0] === 'merge') return mergeMain(argv.slice(1), io);
  try {
    return await mainInner(argv, executor, io);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr.write(`test262: ${msg}\n`);
    if (err instanceof UsageError || err instanceof ShardSpecError) io.stderr.write('Run with --help for usage.\n');
    return 2;
  }
}

async function mainInner(argv: string[], executor: Executor, io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      tokens: true,
      options: {
        test262: { type: 'string' },
        threads: { type: 'string', short: 't' },
        timeout: { type: 'string' },
        reporter: { type: 'string', short: 'r', multiple: true },
        'json-out': { type: 'string' },
        'junit-out': { type: 'string' },
        expectations: { type: 'string' },
        'no-expectations': { type: 'boolean' },
        'features-exclude': { type: 'string', multiple: true },
        features: { type: 'string', multiple: true },
        'fail-on-unexpected-pass': { type: 'boolean' },
        list: { type: 'boolean' },
        shard: { type: 'string' },
        durations: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // A single-valued flag given twice, or an empty value (`--json-out=`), is a mistake, not "the last one".
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (token.value === '') throw new UsageError(`${token.rawName} needs a value`);
    if (['reporter', 'features-exclude', 'features'].includes(token.name)) continue;
    if (seen.has(token.name)) throw new UsageError(`${token.rawName} given more than once`);
    seen.add(token.name);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    io.stdout.write(USAGE + '\n');
    return 0;
  }

  const threads = positiveInt('threads', o.threads, defaultThreads());
  const timeoutMs = positiveInt('timeout', o.timeout, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
  const reporterNames = list(o.reporter);
  if (reporterNames.length === 0) reporterNames.push('progress');
  for (const r of reporterNames) {
    if (!['progress', 'json', 'junit'].includes(r)) throw new UsageError(`unknown reporter ${JSON.stringify(r)}`);
  }
  const wants = (n: string): boolean => reporterNames.includes(n);
  if (o['junit-out'] !== undefined && !wants('junit')) reporterNames.push('junit');
  if (o['json-out'] !== undefined && !wants('json')) reporterNames.push('json');
  const jsonToStdout = wants('json') && o['json-out'] === undefined;
  const junitToStdout = wants('junit') && o['junit-out'] === undefined;
  if (jsonToStdout && junitToStdout) {
    throw new UsageError('json and junit cannot both write to stdout; use --json-out or --junit-out');
  }
  if (o['no-expectations'] && o.expectations !== undefined) {
    throw new UsageError('--expectations and --no-expectations cannot be combined');
  }
  const shardSpec = o.shard !== undefined ? parseShardSpec(o.shard) : undefined;
  if (o.durations !== undefined && !shardSpec) throw new UsageError('--durations only applies with --shard');
  const featuresExclude = new Set(list(o['features-exclude']));
  const featuresOnly = new Set(list(o.features));

  const t262 = resolveTest262(o.test262, io.env, io.cwd);

  let expectations: Expectations;
  if (o['no-expectations']) {
    expectations = emptyExpectations();
  } else if (o.expectations !== undefined) {
    expectations = loadExpectations(path.resolve(io.cwd, o.expectations));
  } else {
    const file = defaultExpectationsFile(io.cwd);
    if (file) expectations = loadExpectations(file);
    else {
      io.stderr.write('test262: warning: no expectations file found; expecting every scenario to pass\n');
      expectations = emptyExpectations();
    }
  }
  // Which set applies depends on the engine of this Node line: say which.
  io.stderr.write(`test262: expectations ${describeExpectations(expectations)}\n`);

  let cases: TestCase[] = await discover(t262, positionals);
  if (featuresOnly.size > 0) cases = cases.filter((c) => c.attrs.features.some((f) => featuresOnly.has(f)));
  if (cases.length === 0) {
    throw new Error(`no test matched ${positionals.length ? positionals.join(' ') : 'the whole suite'}`);
  }
  let shard: ShardHeader | undefined;
  if (shardSpec) {
    const slice = selectShard(cases, shardSpec, o.durations !== undefined ? path.resolve(io.cwd, o.durations) : undefined);
    cases = slice.cases;
    shard = slice.header;
    io.stderr.write(describeShard(shard));
  }

  if (o.list) {
    for (const c of cases) {
      const e = expectationFor(expectations, c.relPath, c.scenario, c.attrs.features, { featuresExclude });
      io.stdout.write(`${c.relPath}\t${c.scenario}\t${e.expected}${e.reason ? `\t${e.reason}` : ''}\n`);
    }
    return 0;
  }

  // The human-readable stream: stdout unless a machine-readable reporter owns it.
  const human: ProgressStream = jsonToStdout || junitToStdout ? io.stderr : io.stdout;
  const reporters: Reporter[] = [];
  if (wants('progress')) reporters.push(progressReporter(human, { verbose: o.verbose === true }));
  if (wants('json')) {
    const out = o['json-out'] !== undefined ? openOutput(path.resolve(io.cwd, o['json-out'])) : io.stdout;
    reporters.push(jsonReporter(out, o['json-out'] !== undefined, shard ? { shard } : undefined));
  }
  if (wants('junit')) {
    const out = o['junit-out'] !== undefined ? openOutput(path.resolve(io.cwd, o['junit-out'])) : io.stdout;
    reporters.push(
      junitReporter(out, { close: o['junit-out'] !== undefined, xpassIsFailure: o['fail-on-unexpected-pass'] === true }),
    );
  }
  reporters.push(summaryReporter(human));

  const ac = new AbortController();
  const onSigint = (): void => {
    io.stderr.write('\ntest262: interrupted, stopping running scenarios (Ctrl-C again to force)\n');
    process.removeListener('SIGINT', onSigint);
    ac.abort(new Error('interrupted'));
  };
  const onOuter = (): void => ac.abort(io.signal?.reason);
  if (io.signal) {
    if (io.signal.aborted) ac.abort(io.signal.reason);
    else io.signal.addEventListener('abort', onOuter, { once: true });
  } else {
    process.on('SIGINT', onSigint);
  }
  try {
    const { summary } = await runTests({
      t262,
      cases,
      executor,
      expectations,
      featuresExclude,
      threads,
      timeoutMs,
      reporters,
      signal: ac.signal,
      reportUnused: !shard && positionals.length === 0 && featuresOnly.size === 0 && featuresExclude.size === 0,
    });
    if (summary.unexpectedFail > 0) return 1;
    if (summary.interrupted) return 130;
    if (o['fail-on-unexpected-pass'] && summary.unexpectedPass > 0) return 1;
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onOuter);
  }
}
