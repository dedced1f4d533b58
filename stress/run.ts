// npm run stress -- [--duration 60s] [--seed N] [--only a,b] [--quick] [--verbose] [--json out.json] [--list] [--in-process]
//
// Runs every scenario of stress/index.ts within the time budget (split by
// weight, time left over by one carried to the next), prints a table, and
// exits non-zero if any scenario failed. Each scenario runs in a child
// process of its own (this script with --child), so that a crash or an abort
// of the process is one scenario's failure, with its output, rather than the
// end of the report; --in-process runs them all here. Terminates every agent
// it started and exits by itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveAgentCount } from '../src/index.js';
import { scenarios } from './index.js';
import { CRASH_PATTERN, describeChild, runNode } from './lib/child.js';
import { createContext } from './lib/context.js';
import { rssMB } from './lib/memory.js';
import type { Failure, Scenario, ScenarioResult } from './lib/types.js';
import { delay, describeError, within } from './lib/util.js';

interface Args {
  durationMs: number;
  seed: number;
  only: string[] | undefined;
  quick: boolean;
  verbose: boolean;
  json: string | undefined;
  list: boolean;
  /** Run every scenario in this process (default: one child process per scenario). */
  inProcess: boolean;
  /** Internal: this is the child process of one scenario; write its row to --json. */
  child: boolean;
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected e.g. 600, 90s, 10m, 1500ms; got "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { durationMs: -1, seed: -1, only: undefined, quick: false, verbose: false, json: undefined, list: false, inProcess: false, child: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--duration':
        args.durationMs = parseDuration(value());
        break;
      case '--seed': {
        const seed = Number(value());
        if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('--seed: an integer in [0, 2^32)');
        args.seed = seed;
        break;
      }
      case '--only':
        args.only = value().split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case '--quick':
        args.quick = true;
        break;
      case '--verbose':
      case '-v':
        args.verbose = true;
        break;
      case '--json':
        args.json = value();
        break;
      case '--list':
        args.list = true;
        break;
      case '--in-process':
        args.inProcess = true;
        break;
      case '--child':
        args.child = true;
        break;
      case '--help':
      case '-h':
        console.log('npm run stress -- [--duration 60s] [--seed N] [--only name[,name]] [--quick] [--verbose] [--json file] [--list] [--in-process]');
        process.exit(0);
      default:
        throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  if (args.durationMs < 0) args.durationMs = args.quick ? 45_000 : 60_000;
  if (args.seed < 0) args.seed = (Date.now() ^ (process.pid << 16)) >>> 0;
  return args;
}

interface Row {
  name: string;
  result: ScenarioResult;
  ms: number;
  budgetMs: number;
}

const fmtMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)}s` : `${(ms / 1000).toFixed(1)}s`);

function table(rows: Row[], seed: number): string {
  const header = ['scenario', 'iterations', 'failures', 'time', 'budget', 'seed', 'status'];
  const lines = rows.map((row) => [
    row.name,
    String(row.result.iterations),
    String(Math.max(row.result.failureCount ?? 0, row.result.failures.length)),
    fmtMs(row.ms),
    fmtMs(row.budgetMs),
    String(seed),
    row.result.skipped !== undefined ? 'skipped' : row.result.failures.length > 0 ? 'FAIL' : 'ok',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 || i === 6 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [fmt(header), rule, ...lines.map(fmt)].join('\n');
}

/** Runs one scenario in this process: budget, watchdog, leftover agents, liveAgentCount(). */
async function runHere(scenario: Scenario, budgetMs: number, args: Args, charge: (sink: Sink | undefined) => void): Promise<Row> {
  const ctx = createContext({ name: scenario.name, runSeed: args.seed, budgetMs, quick: args.quick, verbose: args.verbose });
  charge({ failures: ctx.failures, iteration: () => ctx.iteration });
  if (args.child && args.json) {
    // If this process dies, the parent still learns how far the scenario got.
    let last = 0;
    ctx.progress = (iterations) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      writeFileSync(`${args.json}.progress`, JSON.stringify({ iterations, failures: ctx.failures }));
    };
  }
  const baseline = liveAgentCount();
  const started = Date.now();
  let result: ScenarioResult;
  try {
    // A scenario may overrun its budget to finish a fixed workload, but not forever.
    result = await within(scenario.run(ctx), watchdogMs(budgetMs), `${scenario.name} to return (hang?)`);
  } catch (error) {
    ctx.failures.push({ message: `scenario threw: ${describeError(error)}`, seed: args.seed, iteration: ctx.iteration });
    result = { iterations: ctx.iteration + 1, failures: ctx.failures };
  }
  if (result.failures !== ctx.failures) {
    for (const f of ctx.failures) if (!result.failures.includes(f)) result.failures.push(f);
  }
  // Leftover agents: stop them, then every agent this scenario started must be gone.
  const stillTracked = await ctx.terminateAll();
  if (stillTracked > 0) result.failures.push({ message: `${stillTracked} agent(s) did not exit within 30 s of terminate()`, seed: args.seed, iteration: -1 });
  let live = liveAgentCount();
  for (let waited = 0; live > baseline && waited < 5000; waited += 50) {
    await delay(50);
    live = liveAgentCount();
  }
  if (live > baseline) result.failures.push({ message: `liveAgentCount() is ${live} after the scenario (was ${baseline})`, seed: args.seed, iteration: -1 });
  charge(undefined);
  return { name: scenario.name, result, ms: Date.now() - started, budgetMs };
}

const watchdogMs = (budgetMs: number): number => Math.max(120_000, 3 * budgetMs);

interface Sink {
  failures: Failure[];
  iteration: () => number;
}

/**
 * Runs one scenario in a child process (`run.ts --child`), so that a crash,
 * an abort or a hang costs that scenario, not the whole report.
 */
async function runInChild(scenario: Scenario, budgetMs: number, args: Args): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'agentcluster-stress-'));
  const json = join(dir, 'row.json');
  const argv = ['--only', scenario.name, '--duration', `${budgetMs}ms`, '--seed', String(args.seed), '--child', '--json', json];
  if (args.quick) argv.push('--quick');
  if (args.verbose) argv.push('--verbose');
  const started = Date.now();
  const child = await runNode([...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    timeoutMs: watchdogMs(budgetMs) + 60_000,
    onStdout: (chunk) => process.stdout.write(chunk),
  });
  try {
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Row[];
    if (child.stderr.trim() !== '' && args.verbose) process.stderr.write(child.stderr);
    const row = rows[0]!;
    if (CRASH_PATTERN.test(child.stderr) || child.signal !== null) {
      row.result.failures.push({ message: `the scenario's process ended badly after reporting: ${describeChild(child, 1500)}`, seed: args.seed, iteration: -1 });
    }
    return row;
  } catch {
    const how = child.timedOut ? 'hung (killed)' : child.signal ? `was killed by ${child.signal}` : `exited with code ${child.code}`;
    console.log(`✗ ${how}`);
    let progress: { iterations: number; failures: Failure[] } = { iterations: 0, failures: [] };
    try {
      progress = JSON.parse(readFileSync(`${json}.progress`, 'utf8')) as typeof progress;
    } catch {
      // died before its first iteration ended
    }
    const failure = { message: `the scenario's process ${how} after ${progress.iterations} iteration(s), before reporting: ${describeChild(child, 3000)}`, seed: args.seed, iteration: progress.iterations };
    return {
      name: scenario.name,
      budgetMs,
      ms: Date.now() - started,
      result: { iterations: progress.iterations, failures: [...progress.failures, failure] },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(18)} ${s.description}`);
    return 0;
  }
  let selected: Scenario[] = scenarios;
  if (args.only) {
    const unknown = args.only.filter((name) => !scenarios.some((s) => s.name === name));
    if (unknown.length > 0) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
    selected = scenarios.filter((s) => args.only!.includes(s.name));
  }

  if (!args.child) {
    console.log(
      `agentcluster stress: ${selected.length} scenario(s), duration ${fmtMs(args.durationMs)}, seed ${args.seed}${args.quick ? ', quick' : ''}` +
        `${args.inProcess ? ', in one process' : ', one process per scenario'} (node ${process.version}, pid ${process.pid})`,
    );
  }

  // Errors that escape a scenario land here and are charged to it.
  let current: Sink | undefined;
  const stray = (kind: string) => (error: unknown) => {
    const message = `${kind} outside the scenario's control: ${describeError(error)}`;
    if (current) current.failures.push({ message, seed: args.seed, iteration: current.iteration() });
    else console.error(message);
  };
  process.on('uncaughtException', stray('uncaught exception'));
  process.on('unhandledRejection', stray('unhandled rejection'));

  const runStart = Date.now();
  const runDeadline = runStart + args.durationMs;
  const rows: Row[] = [];
  const totalWeight = (list: Scenario[]) => list.reduce((sum, s) => sum + (s.weight ?? 1), 0);

  for (let i = 0; i < selected.length; i++) {
    const scenario = selected[i]!;
    const remaining = selected.slice(i);
    const left = Math.max(0, runDeadline - Date.now());
    const budgetMs = args.child ? args.durationMs : Math.max(1000, Math.round((left * (scenario.weight ?? 1)) / totalWeight(remaining)));
    if (!args.child) process.stdout.write(`▶ ${scenario.name} (budget ${fmtMs(budgetMs)}) … `);
    const row = args.child || args.inProcess ? await runHere(scenario, budgetMs, args, (sink) => (current = sink)) : await runInChild(scenario, budgetMs, args);
    rows.push(row);
    const { result, ms } = row;
    if (args.child) continue;
    const status = result.skipped !== undefined ? `skipped: ${result.skipped}` : result.failures.length > 0 ? `FAIL (${Math.max(result.failureCount ?? 0, result.failures.length)})` : 'ok';
    console.log(`${status}, ${result.iterations} iterations in ${fmtMs(ms)}`);
    if (args.verbose || result.failures.length > 0) {
      for (const f of result.failures.slice(0, 5)) console.log(`    ✗ [iteration ${f.iteration}] ${f.message.split('\n').join('\n      ')}`);
      if (result.failures.length > 5) console.log(`    … and ${result.failures.length - 5} more`);
    }
  }
  current = undefined;
  if (args.child) {
    writeFileSync(args.json!, JSON.stringify(rows));
    return 0;
  }

  console.log('');
  console.log(table(rows, args.seed));
  const withStats = rows.filter((row) => row.result.stats && Object.keys(row.result.stats).length > 0);
  if (withStats.length > 0) {
    console.log('');
    for (const row of withStats) {
      console.log(`  ${row.name}: ${Object.entries(row.result.stats!).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    }
  }
  const failed = rows.filter((row) => row.result.failures.length > 0);
  const totalMs = Date.now() - runStart;
  console.log('');
  if (failed.length > 0) {
    console.log(`FAILED: ${failed.map((r) => r.name).join(', ')} — reproduce with: npm run stress -- --seed ${args.seed} --only ${failed.map((r) => r.name).join(',')}${args.quick ? ' --quick' : ''}`);
  } else {
    console.log(`all ${rows.length} scenario(s) passed in ${fmtMs(totalMs)} (seed ${args.seed}, rss ${rssMB().toFixed(0)} MB, live agents ${liveAgentCount()})`);
  }
  if (args.json) {
    writeFileSync(
      args.json,
      JSON.stringify({ seed: args.seed, quick: args.quick, durationMs: args.durationMs, totalMs, scenarios: rows.map((r) => ({ name: r.name, ms: r.ms, budgetMs: r.budgetMs, ...r.result })) }, null, 2),
    );
  }
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was terminated; if some handle still holds the loop, do not hang on it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error) => {
    console.error(`stress: ${describeError(error)}`);
    process.exit(2);
  },
);
