/**
 * `--shard i/n`: a deterministic, cost-balanced slice of the selected
 * scenarios, so that n machines of a CI matrix together run the selection
 * exactly once.
 *
 * The partition depends only on the scenario ids (paths under test/, sorted
 * by code unit, never by locale) and, when given, a durations file; the same
 * test262 revision, selectors and durations file give the same slices on
 * every machine. Each shard's JSON output starts with a header recording the
 * shard spec, the selection's size and a fingerprint of it, which is what
 * `test262 merge` checks the union of the shards against.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TestCase } from './discover.js';
import { scenarioId } from './discover.js';
import type { Scenario } from './executor.js';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** The first JSON line of a shard's output. */
export interface ShardHeader {
  index: number;
  count: number;
  /** Scenarios in the whole selection (every shard together). */
  total: number;
  /** Scenarios in this shard. */
  selected: number;
  /** sha256 of the selection's scenario ids, one per line, sorted. */
  fingerprint: string;
  /** 'durations' (from a file) or 'count'. */
  balancedBy: 'durations' | 'count';
  /** sha256 of the durations used (shards must agree on it), or null. */
  durations: string | null;
}

export class ShardSpecError extends Error {}

/** Parses `i/n` (1 <= i <= n). */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new ShardSpecError(`--shard must be i/n with 1 <= i <= n (e.g. 2/4), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 over the sorted ids: equal iff two selections hold the same scenarios. */
export function selectionFingerprint(ids: Iterable<string>): string {
  const sorted = [...ids].sort(compareCodeUnits);
  const h = createHash('sha256');
  for (const id of sorted) h.update(id).update('\n');
  return `sha256:${h.digest('hex')}`;
}

/**
 * Reads per-scenario durations from an earlier run's JSON output (ours, a
 * shard's or a merge's): lines `{"file", "scenario", "ms"}`; other lines are
 * ignored. Durations are kept in tenths of a millisecond, as integers, so that
 * the partition's sums are exact (the same on every machine).
 */
export function loadDurations(file: string): Map<string, number> {
  const out = new Map<string, number>();
  const text = readFileSync(file, 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new ShardSpecError(`${file}: not a JSON-lines file (line ${JSON.stringify(line.slice(0, 80))})`);
    }
    if (!v || typeof v !== 'object') continue;
    const r = v as { file?: unknown; scenario?: unknown; ms?: unknown };
    if (typeof r.file !== 'string' || typeof r.ms !== 'number' || !Number.isFinite(r.ms) || r.ms < 0) continue;
    if (r.scenario !== 'default' && r.scenario !== 'strict mode') continue;
    out.set(scenarioId(r.file, r.scenario as Scenario), Math.round(r.ms * 10));
  }
  return out;
}

function durationsDigest(d: ReadonlyMap<string, number>): string {
  const h = createHash('sha256');
  for (const id of [...d.keys()].sort(compareCodeUnits)) h.update(`${id}\t${d.get(id)}\n`);
  return `sha256:${h.digest('hex')}`;
}

/**
 * Assigns every case to one of `count` shards: longest first (ties by id),
 * each to the shard with the least total cost so far (ties: fewest cases,
 * then lowest index). Without durations every cost is equal and this deals
 * the cases out round-robin in id order, which spreads each directory over
 * all shards. Cases the durations file does not know cost its mean.
 * Returns, for each case (in the order given), its shard's 0-based index.
 *
 * Only the first min(count, cases) shards can get a case (an empty shard
 * always beats a non-empty one), so that is all this tracks: `--shard
 * 1/100000000` costs no more than `--shard 1/<cases>`. The least-loaded shard
 * comes from a binary heap ordered by (cost, cases, index), which picks the
 * same shard as a scan would, in O(cases x log shards).
 */
function assign(cases: readonly TestCase[], count: number, durations?: ReadonlyMap<string, number>): number[] {
  let unknownCost = 1;
  if (durations && durations.size > 0) {
    let sum = 0;
    for (const v of durations.values()) sum += v;
    unknownCost = Math.max(1, Math.round(sum / durations.size));
  }
  const cost = (tc: TestCase): number => (durations ? (durations.get(tc.id) ?? unknownCost) : 1);
  const order = cases
    .map((tc, i) => ({ tc, i, c: cost(tc) }))
    .sort((a, b) => b.c - a.c || compareCodeUnits(a.tc.id, b.tc.id));
  const live = Math.min(count, cases.length);
  const load = new Array<number>(live).fill(0);
  const sizes = new Array<number>(live).fill(0);
  const less = (a: number, b: number): boolean =>
    load[a]! < load[b]! || (load[a] === load[b] && (sizes[a]! < sizes[b]! || (sizes[a] === sizes[b] && a < b)));
  // Every shard starts at (0, 0, index): ascending indexes are a valid heap.
  const heap = Array.from({ length: live }, (_, s) => s);
  const member = new Array<number>(cases.length);
  for (const { i, c } of order) {
    const best = heap[0]!;
    load[best]! += c;
    sizes[best]!++;
    member[i] = best;
    // The root only grew: sift it down.
    for (let at = 0; ; ) {
      const l = 2 * at + 1;
      const r = l + 1;
      let min = at;
      if (l < live && less(heap[l]!, heap[min]!)) min = l;
      if (r < live && less(heap[r]!, heap[min]!)) min = r;
      if (min === at) break;
      [heap[at], heap[min]] = [heap[min]!, heap[at]!];
      at = min;
    }
  }
  return member;
}

/** Every shard's cases, in discovery order (`count` arrays; see assign). */
export function partition(
  cases: readonly TestCase[],
  count: number,
  durations?: ReadonlyMap<string, number>,
): TestCase[][] {
  const member = assign(cases, count, durations);
  const shards: TestCase[][] = Array.from({ length: count }, () => []);
  cases.forEach((tc, i) => shards[member[i]!]!.push(tc));
  return shards;
}

export interface ShardSelection {
  cases: TestCase[];
  header: ShardHeader;
}

/** The slice `spec` of `cases` (the whole selection), with its header. */
export function selectShard(cases: readonly TestCase[], spec: ShardSpec, durationsFile?: string): ShardSelection {
  const durations = durationsFile !== undefined ? loadDurations(durationsFile) : undefined;
  const member = assign(cases, spec.count, durations);
  const mine = cases.filter((_, i) => member[i] === spec.index - 1);
  return {
    cases: mine,
    header: {
      index: spec.index,
      count: spec.count,
      total: cases.length,
      selected: mine.length,
      fingerprint: selectionFingerprint(cases.map((c) => c.id)),
      balancedBy: durations ? 'durations' : 'count',
      durations: durations ? durationsDigest(durations) : null,
    },
  };
}

/** The line each shard prints about the slice it runs. */
export function describeShard(h: ShardHeader): string {
  const by = h.balancedBy === 'durations' ? `durations ${h.durations!.slice(0, 19)}` : 'count';
  return `test262: shard ${h.index}/${h.count}: ${h.selected} of ${h.total} scenarios (selection ${h.fingerprint.slice(0, 19)}, balanced by ${by})\n`;
}
