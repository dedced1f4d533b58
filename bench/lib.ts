// Shared helpers of the benchmarks: timing, statistics, tables, ratios,
// RSS measurement in fresh child processes and the JSON summaries written to
// .bench-out/<name>.json.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(benchDir, '..');
export const outDir = join(repoRoot, '.bench-out');

// ---------------------------------------------------------------- options

export interface BenchOptions {
  /** Fewer iterations: a smoke check, not a measurement. */
  quick: boolean;
}

export function parseOptions(argv: readonly string[] = process.argv.slice(2)): BenchOptions {
  return { quick: argv.includes('--quick') };
}

/** True when `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

// ---------------------------------------------------------------- timing

/** Monotonic time in nanoseconds (as a float; 2^53 ns is 104 days). */
export function now(): number {
  return Number(process.hrtime.bigint());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for a promise, failing after `ms` with a message naming `what`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- statistics

export interface Stats {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    mean: sum / Math.max(1, sorted.length),
    min: sorted[0] ?? NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

// ---------------------------------------------------------------- formatting

/** A duration given in nanoseconds, in the unit that suits it. */
export function fmtTime(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a';
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes.toFixed(0)} B`;
  if (abs < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  return ratio >= 100 ? `${ratio.toFixed(0)}x` : ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}

export function fmtThroughput(bytes: number, ns: number): string {
  if (!(ns > 0)) return 'n/a';
  const perSecond = bytes / (ns / 1e9);
  return `${fmtBytes(perSecond)}/s`;
}

/** Prints a Markdown table with a title; the first `leftColumns` columns are left-aligned, the others right-aligned. */
export function printTable(title: string, headers: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    '| ' + cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log('|' + widths.map((w, i) => (i < leftColumns ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------- ratios and targets

/**
 * One comparison between our agents and the worker_threads peer.
 * `ratio` is always "how many times better ours is" (> 1 means ours wins):
 * peer/ours for times and sizes.
 */
export interface Ratio {
  bench: string;
  metric: string;
  ours: number;
  peer: number;
  unit: 'ns' | 'bytes';
  ratio: number;
  /** The ratio the issue asks for (ours at least `target` times better), if any. */
  target?: number;
  met?: boolean;
}

export function ratio(
  bench: string,
  metric: string,
  ours: number,
  peer: number,
  unit: Ratio['unit'],
  target?: number,
): Ratio {
  const r = peer / ours;
  return target === undefined ? { bench, metric, ours, peer, unit, ratio: r } : { bench, metric, ours, peer, unit, ratio: r, target, met: r >= target };
}

/** A check that is not a ratio against the peer (e.g. "transfer time independent of size"). */
export interface Check {
  bench: string;
  name: string;
  detail: string;
  met: boolean;
}

export interface BenchReport {
  name: string;
  ratios: Ratio[];
  checks: Check[];
  /** Anything else worth keeping in the JSON summary. */
  data?: unknown;
}

export function fmtValue(value: number, unit: Ratio['unit']): string {
  return unit === 'ns' ? fmtTime(value) : fmtBytes(value);
}

export function targetText(r: Ratio): string {
  if (r.target === undefined) return '';
  return `${r.met ? 'MET' : 'MISSED'} (target ≥ ${r.target}x)`;
}

/** Prints the "targets" lines of one benchmark. */
export function printTargets(report: BenchReport): void {
  const targeted = report.ratios.filter((r) => r.target !== undefined);
  if (targeted.length === 0 && report.checks.length === 0) return;
  console.log(`\nTargets (${report.name}):`);
  for (const r of targeted) {
    console.log(
      `  ${r.met ? 'MET   ' : 'MISSED'} ${r.metric}: agent ${fmtValue(r.ours, r.unit)} vs worker_threads ${fmtValue(r.peer, r.unit)} = ${fmtRatio(r.ratio)} (target ≥ ${r.target}x)`,
    );
  }
  for (const c of report.checks) console.log(`  ${c.met ? 'MET   ' : 'MISSED'} ${c.name}: ${c.detail}`);
}

export function machineInfo(): { date: string; node: string; v8: string; cpus: number; cpuModel: string; memGiB: number; platform: string } {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 1024 ** 3),
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Writes `.bench-out/<name>.json`. */
export function writeSummary(name: string, options: BenchOptions, report: BenchReport): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...report, quick: options.quick, machine: machineInfo() }, null, 2) + '\n');
  return path;
}

/** The end of every bench: targets printed, JSON summary written, report returned. */
export function publish(report: BenchReport, options: BenchOptions): BenchReport {
  printTargets(report);
  console.log(`  summary: ${writeSummary(report.name, options, report)}`);
  return report;
}

// ---------------------------------------------------------------- memory

/** Resident set size of this process, from /proc when available (exact, not cached). */
export function rssBytes(): number {
  return process.memoryUsage.rss();
}

/** Runs a bench/ script in a fresh `node --import tsx` process and parses the JSON it prints last. */
export function runChild<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = [], timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // Children run in the same snapshot mode as this process (see docs/benchmarks.md).
      [...process.execArgv.filter((flag) => flag === '--no-node-snapshot'), ...nodeFlags, '--import', 'tsx', join(benchDir, script), ...args],
      { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
          return;
        }
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${script} printed no JSON result:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}
