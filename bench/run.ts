// Runs the benchmarks in sequence and prints a summary of every ratio
// (agents vs worker_threads) and target.
//   npm run bench                      # everything
//   npm run bench -- --quick           # fewer iterations: a smoke check
//   npm run bench -- --only clone      # one (or a comma-separated list)
//
// A bench file is bench/<name>.ts exporting
//   run(options: BenchOptions): Promise<BenchReport | void>
// (see bench/lib.ts) that does not start by itself when imported (guard its
// self-run with `isMain(import.meta.url)`). Files that are not there yet are
// skipped with a note.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  benchDir,
  fmtRatio,
  fmtValue,
  machineInfo,
  outDir,
  parseOptions,
  printTable,
  type BenchOptions,
  type BenchReport,
  type Check,
  type Ratio,
} from './lib.js';

const benches = ['spawn', 'roundtrip', 'clone', 'transfer-receive', 'pool', 'atomics', 'flood', 'host-call', 'modules'] as const;

interface BenchModule {
  run?: (options: BenchOptions) => Promise<unknown>;
  default?: unknown;
}

function isReport(value: unknown): value is BenchReport {
  return typeof value === 'object' && value !== null && Array.isArray((value as BenchReport).ratios);
}

function parseOnly(argv: readonly string[]): Set<string> | undefined {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only' && argv[i + 1] !== undefined) names.push(...argv[++i]!.split(','));
    else if (arg.startsWith('--only=')) names.push(...arg.slice('--only='.length).split(','));
  }
  if (names.length === 0) return undefined;
  const unknown = names.filter((n) => !(benches as readonly string[]).includes(n));
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.join(', ')}; known: ${benches.join(', ')}`);
    process.exit(2);
  }
  return new Set(names);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const only = parseOnly(argv);
  const machine = machineInfo();
  console.log(
    `agentcluster benchmarks${options.quick ? ' (--quick: smoke check, not a measurement)' : ''}\n` +
      `${machine.date} · node ${machine.node} (V8 ${machine.v8}) · ${machine.platform} · ${machine.cpus} cores (${machine.cpuModel}) · ${machine.memGiB} GiB · load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  const reports: BenchReport[] = [];
  const notes: string[] = [];
  let failed = 0;
  const started = Date.now();
  for (const name of benches) {
    if (only && !only.has(name)) continue;
    const file = join(benchDir, `${name}.ts`);
    if (!existsSync(file)) {
      notes.push(`${name}: skipped, bench/${name}.ts does not exist (yet)`);
      console.log(`\n=== ${name}: skipped, bench/${name}.ts does not exist (yet) ===`);
      continue;
    }
    const t0 = Date.now();
    try {
      const mod = (await import(`./${name}.js`)) as BenchModule;
      const entry = typeof mod.run === 'function' ? mod.run : typeof mod.default === 'function' ? (mod.default as BenchModule['run']) : undefined;
      let result: unknown;
      if (entry) result = await entry(options);
      else notes.push(`${name}: bench/${name}.ts exports no run(); it ran on import, its ratios are not in this summary`);
      if (isReport(result)) reports.push(result);
      else if (entry) notes.push(`${name}: ran, but returned no BenchReport; its ratios are not in this summary`);
    } catch (error) {
      failed++;
      notes.push(`${name}: FAILED (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
      console.error(`\n${name} failed:`, error);
    }
    console.log(`  (${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const ratios: Ratio[] = reports.flatMap((r) => r.ratios);
  const checks: Check[] = reports.flatMap((r) => r.checks);
  if (ratios.length > 0) {
    printTable(
      `Summary: agent vs worker_threads (ratio > 1: the agent is better; ${options.quick ? 'QUICK run' : 'full run'})`,
      ['bench', 'metric', 'agent', 'worker_threads', 'ratio', 'target'],
      ratios.map((r) => [
        r.bench,
        r.metric,
        fmtValue(r.ours, r.unit),
        fmtValue(r.peer, r.unit),
        fmtRatio(r.ratio),
        r.target === undefined ? '' : `${r.met ? 'MET' : 'MISSED'} (≥ ${r.target}x)`,
      ]),
      2,
    );
  }
  if (checks.length > 0) {
    console.log('\nOther checks:');
    for (const c of checks) console.log(`  ${c.met ? 'MET   ' : 'MISSED'} [${c.bench}] ${c.name}: ${c.detail}`);
  }
  if (notes.length > 0) {
    console.log('\nNotes:');
    for (const n of notes) console.log(`  ${n}`);
  }
  const targeted = ratios.filter((r) => r.target !== undefined);
  const missed = targeted.filter((r) => !r.met).length + checks.filter((c) => !c.met).length;
  console.log(
    `\n${targeted.length + checks.length - missed} of ${targeted.length + checks.length} targets met` +
      `${failed ? `, ${failed} bench file(s) failed` : ''} · ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );

  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'summary.json'),
    JSON.stringify({ machine, quick: options.quick, loadavg: loadavg(), ratios, checks, notes }, null, 2) + '\n',
  );
  // Missed targets are results, not failures: only a crashing bench fails the run.
  return failed > 0 ? 1 : 0;
}

const code = await main();
process.exitCode = code;
// Every bench terminates its agents and workers; should one be left running
// (a bench file that leaks), do not hang.
setTimeout(() => {
  console.error('bench: something is still running 5 s after the summary; exiting');
  process.exit(code);
}, 5000).unref();
