/**
 * `agentcluster test262 merge a.jsonl b.jsonl …`: the JSON outputs of the n
 * shards of one run (see shard.ts) become one summary, one JSON stream and
 * one JUnit file, as if the selection had run on one machine.
 *
 * Every shard file starts with its `{"shard":…}` header. The merge fails
 * (exit 2, nothing written) unless the headers agree (shard count, selection
 * size and fingerprint, durations), every shard 1..n is there exactly once,
 * each file holds as many scenarios as its header announced, no scenario
 * appears twice, and the union's fingerprint is the selection's.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { scenarioId } from './discover.js';
import type { Scenario } from './executor.js';
import type { Expected } from './expectations.js';
import { jsonReporter } from './reporters/json.js';
import { junitXml } from './reporters/junit.js';
import type { ProgressStream } from './reporters/progress.js';
import { closeStream, openOutput } from './reporters/stream.js';
import { formatSummary } from './reporters/summary.js';
import { addToCounts, emptyCounts, groupOf, outcomeOf, type Counts, type RunSummary, type Status, type TestResult } from './results.js';
import { selectionFingerprint, type ShardHeader } from './shard.js';

export const MERGE_USAGE = `Usage: agentcluster test262 merge [options] <shard.jsonl> ...

Merges the --reporter json outputs of the shards of one --shard i/n run into
one summary (stdout), one JSON stream and one JUnit file. Fails (exit 2) if a
shard is missing or repeated, a file is truncated, or a scenario is missing or
duplicated.

Options:
  --json-out <file>          write the merged JSON lines (ordered by scenario id)
  --junit-out <file>         write the merged JUnit XML
  --fail-on-unexpected-pass  exit 1 when an expected failure passed
  -h, --help                 this help

Exit status: 0 = no unexpected failure, 1 = unexpected failures, 2 = usage error
or inconsistent shards.`;

export class MergeError extends Error {}

export interface ShardFile {
  file: string;
  header: ShardHeader;
  results: TestResult[];
  seconds: number;
}

const STATUSES: ReadonlySet<string> = new Set(['pass', 'fail', 'skip']);
const SCENARIOS: ReadonlySet<string> = new Set(['default', 'strict mode']);

function resultOf(file: string, lineNo: number, v: Record<string, unknown>): TestResult {
  const { file: rel, scenario, status, expected, error, ms, reason } = v;
  if (
    typeof rel !== 'string' ||
    typeof scenario !== 'string' ||
    !SCENARIOS.has(scenario) ||
    typeof status !== 'string' ||
    !STATUSES.has(status) ||
    typeof expected !== 'string' ||
    !STATUSES.has(expected)
  ) {
    throw new MergeError(`${file}:${lineNo}: not a test262 result line`);
  }
  const r: TestResult = {
    id: scenarioId(rel, scenario as Scenario),
    relPath: rel,
    scenario: scenario as Scenario,
    status: status as Status,
    expected: expected as Expected,
    outcome: outcomeOf(status as Status, expected as Expected),
    ms: typeof ms === 'number' && Number.isFinite(ms) ? ms : 0,
  };
  if (typeof error === 'string') r.error = error;
  if (typeof reason === 'string') r.reason = reason;
  return r;
}

/** Parses one shard's JSON output. */
export function parseShardFile(file: string, text: string): ShardFile {
  let header: ShardHeader | undefined;
  let seconds = 0;
  const results: TestResult[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new MergeError(`${file}:${i + 1}: not JSON (truncated file?)`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new MergeError(`${file}:${i + 1}: not a JSON object`);
    const o = v as Record<string, unknown>;
    if ('shard' in o) {
      if (header) throw new MergeError(`${file}:${i + 1}: a second shard header`);
      const h = o['shard'] as Record<string, unknown> | null;
      if (h === null || typeof h !== 'object' || Array.isArray(h)) throw new MergeError(`${file}:${i + 1}: the shard header is not an object`);
      header = h as unknown as ShardHeader;
      for (const k of ['index', 'count', 'total', 'selected']) {
        if (!Number.isSafeInteger(h[k])) throw new MergeError(`${file}:${i + 1}: shard header without a valid ${k}`);
      }
      if (typeof h['fingerprint'] !== 'string') throw new MergeError(`${file}:${i + 1}: shard header without a fingerprint`);
    } else if ('summary' in o) {
      const s = o['summary'] as Record<string, unknown> | null;
      if (s && s['interrupted'] === true) throw new MergeError(`${file}: that shard's run was interrupted`);
      if (s && typeof s['seconds'] === 'number') seconds = s['seconds'];
    } else {
      results.push(resultOf(file, i + 1, o));
    }
  }
  if (!header) throw new MergeError(`${file}: no {"shard":…} header; run the shards with --shard i/n --reporter json`);
  return { file, header, results, seconds };
}

export interface Merged {
  header: ShardHeader;
  results: TestResult[];
  summary: RunSummary;
}

function compareIds(a: TestResult, b: TestResult): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Checks the shards against each other and their headers; throws MergeError listing what is wrong. */
export function mergeShards(shards: readonly ShardFile[]): Merged {
  if (shards.length === 0) throw new MergeError('no shard files given');
  const first = shards[0]!.header;
  const problems: string[] = [];
  const byIndex = new Map<number, string>();
  for (const s of shards) {
    const h = s.header;
    if (h.count !== first.count || h.total !== first.total || h.fingerprint !== first.fingerprint || h.durations !== first.durations) {
      problems.push(
        `${s.file} is shard ${h.index}/${h.count} of a different selection or partition ` +
          `(${h.total} scenarios, ${h.fingerprint}, durations ${h.durations}) than ${shards[0]!.file} ` +
          `(${first.total}, ${first.fingerprint}, durations ${first.durations})`,
      );
    }
    const other = byIndex.get(h.index);
    if (other !== undefined) problems.push(`shard ${h.index}/${h.count} given twice: ${other} and ${s.file}`);
    byIndex.set(h.index, s.file);
    if (s.results.length !== h.selected) {
      problems.push(`${s.file}: shard ${h.index}/${h.count} announced ${h.selected} scenarios but holds ${s.results.length}`);
    }
  }
  // The first few missing indexes, found without walking 1..count: a header
  // may claim any count (a corrupted file, `--shard 1/4000000000`).
  const missing: number[] = [];
  for (let i = 1; i <= first.count && missing.length < 10; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    const given = [...byIndex.keys()].filter((i) => i >= 1 && i <= first.count).length;
    const more = first.count - given - missing.length;
    problems.push(`missing shard(s) ${missing.map((i) => `${i}/${first.count}`).join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
  }

  const seen = new Map<string, string>();
  const duplicated: string[] = [];
  const results: TestResult[] = [];
  for (const s of shards) {
    for (const r of s.results) {
      const where = seen.get(r.id);
      if (where !== undefined) duplicated.push(`${r.id} (${where} and ${s.file})`);
      else {
        seen.set(r.id, s.file);
        results.push(r);
      }
    }
  }
  if (duplicated.length > 0) {
    problems.push(`${duplicated.length} scenario(s) in more than one shard: ${duplicated.slice(0, 10).join(', ')}${duplicated.length > 10 ? ', …' : ''}`);
  }
  if (problems.length === 0) {
    if (results.length !== first.total) {
      problems.push(`the shards hold ${results.length} scenarios, the selection has ${first.total}`);
    } else if (selectionFingerprint(results.map((r) => r.id)) !== first.fingerprint) {
      problems.push('the shards hold other scenarios than the selection (fingerprint mismatch)');
    }
  }
  if (problems.length > 0) throw new MergeError(`cannot merge:\n  ${problems.join('\n  ')}`);

  results.sort(compareIds);
  const counts = emptyCounts();
  const groups = new Map<string, Counts>();
  for (const r of results) {
    addToCounts(counts, r);
    const g = groupOf(r.relPath);
    let gc = groups.get(g);
    if (!gc) groups.set(g, (gc = emptyCounts()));
    addToCounts(gc, r);
  }
  const summary: RunSummary = {
    ...counts,
    // The shards ran side by side: the run took as long as the slowest.
    seconds: Math.max(...shards.map((s) => s.seconds)),
    interrupted: false,
    abandoned: 0,
    groups,
    unexpectedFailures: results.filter((r) => r.outcome === 'fail'),
    unexpectedPasses: results.filter((r) => r.outcome === 'xpass'),
    unusedEntries: [],
  };
  const header: ShardHeader = { ...first, index: 1, count: 1, selected: first.total };
  return { header, results, summary };
}

export interface MergeIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  cwd: string;
}

export async function mergeMain(argv: string[], io: MergeIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'json-out': { type: 'string' },
        'junit-out': { type: 'string' },
        'fail-on-unexpected-pass': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr.write(`test262 merge: ${(err as Error).message}\nRun with --help for usage.\n`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    io.stdout.write(MERGE_USAGE + '\n');
    return 0;
  }
  let merged: Merged;
  try {
    if (positionals.length === 0) throw new MergeError('no shard files given; run with --help for usage');
    const shards: ShardFile[] = [];
    for (const f of positionals) {
      let text: string;
      try {
        text = await readFile(path.resolve(io.cwd, f), 'utf8');
      } catch (err) {
        throw new MergeError(`cannot read ${f}: ${(err as Error).message}`);
      }
      shards.push(parseShardFile(f, text));
    }
    merged = mergeShards(shards);
  } catch (err) {
    io.stderr.write(`test262 merge: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const { header, results, summary } = merged;
  if (o['json-out'] !== undefined) {
    const rep = jsonReporter(openOutput(path.resolve(io.cwd, o['json-out'])), true, { shard: header });
    rep.start?.({ total: results.length, threads: 0, timeoutMs: 0, test262Dir: '' });
    const progress = { done: 0, total: results.length, counts: emptyCounts(), elapsedMs: 0 };
    for (const r of results) rep.result?.(r, progress);
    await rep.end?.(summary, results);
  }
  if (o['junit-out'] !== undefined) {
    const out = openOutput(path.resolve(io.cwd, o['junit-out']));
    out.write(junitXml(summary, results, { xpassIsFailure: o['fail-on-unexpected-pass'] === true }));
    await closeStream(out);
  }
  io.stdout.write(`test262 merge: ${positionals.length} shard(s), ${results.length} scenarios (selection ${header.fingerprint.slice(0, 19)})\n`);
  io.stdout.write(formatSummary(summary));
  if (summary.unexpectedFail > 0) return 1;
  if (o['fail-on-unexpected-pass'] && summary.unexpectedPass > 0) return 1;
  return 0;
}
