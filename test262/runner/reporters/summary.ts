/**
 * End-of-run summary: a per-directory table (e.g. `built-ins/Atomics`),
 * totals, unexpected failures and unexpected passes.
 */
import type { Counts, Reporter, RunSummary } from '../results.js';

export interface SummaryOptions {
  /** Unexpected failures listed in full (the rest are counted). Default 200. */
  maxFailures?: number;
  /** Print the per-directory table. Default true. */
  table?: boolean;
}

const COLUMNS: Array<[string, (c: Counts) => number]> = [
  ['total', (c) => c.total],
  ['pass', (c) => c.pass],
  ['fail', (c) => c.fail],
  ['skip', (c) => c.skip],
  ['exp.fail', (c) => c.expectedFail],
  ['UNEXP.FAIL', (c) => c.unexpectedFail],
  ['unexp.pass', (c) => c.unexpectedPass],
];

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function formatTable(groups: ReadonlyMap<string, Counts>, totals: Counts): string {
  const names = [...groups.keys()].sort();
  const rows: string[][] = names.map((n) => [n, ...COLUMNS.map(([, f]) => String(f(groups.get(n)!)))]);
  const header = ['directory', ...COLUMNS.map(([h]) => h)];
  const total = ['TOTAL', ...COLUMNS.map(([, f]) => String(f(totals)))];
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(header), rule, ...rows.map(fmt), rule, fmt(total)].join('\n');
}

export function formatSummary(s: RunSummary, opts: SummaryOptions = {}): string {
  const maxFailures = opts.maxFailures ?? 200;
  const out: string[] = [];
  if (opts.table !== false && s.groups.size > 0) out.push(formatTable(s.groups, s), '');

  if (s.unexpectedFailures.length > 0) {
    out.push(`Unexpected failures (${s.unexpectedFailures.length}):`);
    const sorted = [...s.unexpectedFailures].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const r of sorted.slice(0, maxFailures)) {
      out.push(`  FAIL ${r.relPath} (${r.scenario})`, `       ${oneLine(r.error ?? '')}`);
    }
    if (sorted.length > maxFailures) out.push(`  ... and ${sorted.length - maxFailures} more`);
    out.push('');
  }
  if (s.unexpectedPasses.length > 0) {
    out.push(`Unexpected passes (${s.unexpectedPasses.length}) - remove or narrow their expectations:`);
    for (const r of [...s.unexpectedPasses].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const where = r.entry ? ` [expectations line ${r.entry.line}: ${r.entry.pattern}]` : '';
      out.push(`  PASS ${r.relPath} (${r.scenario})${where}`);
    }
    out.push('');
  }
  if (s.unusedEntries.length > 0) {
    out.push(`Expectation entries that matched no scenario (${s.unusedEntries.length}):`);
    for (const e of s.unusedEntries) out.push(`  line ${e.line}: [${e.kind}] ${e.pattern}${e.scenario ? ` ${e.scenario}` : ''}`);
    out.push('');
  }
  if (s.abandoned > 0) {
    out.push(`WARNING: ${s.abandoned} scenario(s) were abandoned because the executor ignored the abort signal.`, '');
  }
  const verdict =
    s.unexpectedFail > 0 ? 'FAILED' : s.interrupted ? 'INTERRUPTED' : 'OK';
  out.push(
    `${verdict}: ${s.total} scenarios in ${formatDuration(s.seconds)} - ${s.pass} passed, ${s.fail} failed ` +
      `(${s.expectedFail} expected, ${s.unexpectedFail} unexpected), ${s.skip} skipped, ` +
      `${s.unexpectedPass} unexpected passes${s.interrupted ? ' (run interrupted)' : ''}`,
  );
  return out.join('\n') + '\n';
}

function oneLine(s: string): string {
  const flat = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

export function summaryReporter(out: NodeJS.WritableStream, opts: SummaryOptions = {}): Reporter {
  return {
    end(summary) {
      out.write(formatSummary(summary, opts));
    },
  };
}
