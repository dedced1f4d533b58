// test262 across machines: `--shard i/n`, `--durations` and `test262 merge`.
// The end-to-end check runs 3 shards and an unsharded run as separate
// processes (real agents) and asserts that the merge equals the unsharded run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode } from '../stress/lib/child.js';
import type { TestCase } from '../test262/runner/discover.js';
import { MergeError, mergeShards, parseShardFile, type ShardFile } from '../test262/runner/merge.js';
import { parseShardSpec, partition, selectionFingerprint, ShardSpecError } from '../test262/runner/shard.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const T262 = process.env['TEST262_DIR'] ?? path.resolve(repoRoot, '..', 'shared', 'test262');
const CLI = path.join(repoRoot, 'src', 'cli', 'main.ts');
// Small and quick, with passes, expected failures (retrieve-length…) and skips (immutable-buffer).
const DIRS = ['built-ins/Atomics/add', 'built-ins/Atomics/notify/retrieve-length-before-index-coercion*.js', 'built-ins/Array/prototype/at', 'language/statements/labeled'];

function fakeCase(relPath: string, strict = false): TestCase {
  const scenario = strict ? 'strict mode' : 'default';
  return {
    id: `${relPath}#${strict ? 'strict' : 'default'}`,
    relPath,
    absPath: `/t/${relPath}`,
    scenario,
    attrs: { description: '', flags: new Set(), features: [], includes: [] },
  };
}

const ids = (cs: readonly TestCase[]): string[] => cs.map((c) => c.id);

describe('shard partition', () => {
  const cases = Array.from({ length: 50 }, (_, i) => fakeCase(`d${i % 7}/t${String(i).padStart(2, '0')}.js`, i % 3 === 0));

  it('parses i/n and rejects everything else with a usage error', () => {
    assert.deepEqual(parseShardSpec('2/3'), { index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', '1', '1/2/3', 'a/b', '-1/2', '1.5/2', '']) {
      assert.throws(() => parseShardSpec(bad), ShardSpecError, bad);
    }
  });

  it('is a partition: every case in exactly one shard, by count when no durations', () => {
    for (const n of [1, 2, 3, 7, 60]) {
      const shards = partition(cases, n);
      assert.equal(shards.length, n);
      assert.deepEqual(shards.flatMap(ids).sort(), ids(cases).sort());
      const sizes = shards.map((s) => s.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n}: ${sizes}`);
    }
  });

  it('depends on the ids only, not on the order they were discovered in', () => {
    const a = partition(cases, 3).map(ids);
    const b = partition([...cases].reverse(), 3).map((s) => ids(s).reverse());
    assert.deepEqual(a, b);
  });

  it('balances by durations: a slow test gets a shard of its own', () => {
    const durations = new Map(cases.map((c) => [c.id, 10]));
    durations.set(cases[5]!.id, 250 * 10);
    const shards = partition(cases, 2, durations);
    const withSlow = shards.find((s) => s.includes(cases[5]!))!;
    const cost = (s: TestCase[]): number => s.reduce((t, c) => t + durations.get(c.id)!, 0);
    // 49 fast tests (490) and one slow (2500): the slow one's shard takes only it.
    assert.equal(withSlow.length, 1);
    assert.ok(cost(shards[0]!) > 0 && cost(shards[1]!) > 0);
  });
});

function shardFile(file: string, index: number, count: number, all: readonly string[], mine: readonly string[]): ShardFile {
  const text = [
    JSON.stringify({
      shard: { index, count, total: all.length, selected: mine.length, fingerprint: selectionFingerprint(all), balancedBy: 'count', durations: null },
    }),
    ...mine.map((id) =>
      JSON.stringify({ file: id.split('#')[0], scenario: id.endsWith('#strict') ? 'strict mode' : 'default', status: 'pass', expected: 'pass', error: null, ms: 1 }),
    ),
    JSON.stringify({ summary: { total: mine.length, seconds: index } }),
  ].join('\n');
  return parseShardFile(file, text);
}

describe('test262 merge checks', () => {
  const all = ['a/1.js#default', 'a/1.js#strict', 'a/2.js#default', 'b/3.js#default', 'b/4.js#strict'];

  it('merges complete shards, ordered by id, seconds of the slowest shard', () => {
    const m = mergeShards([shardFile('s2', 2, 2, all, all.slice(3)), shardFile('s1', 1, 2, all, all.slice(0, 3))]);
    assert.deepEqual(m.results.map((r) => r.id), [...all].sort());
    assert.equal(m.summary.total, 5);
    assert.equal(m.summary.pass, 5);
    assert.equal(m.summary.seconds, 2);
    assert.deepEqual([m.header.index, m.header.count, m.header.selected], [1, 1, 5]);
  });

  it('fails on a missing shard, a repeated shard, a duplicated or missing scenario, another selection', () => {
    const cases: Array<[string, ShardFile[], RegExp]> = [
      ['missing shard', [shardFile('s1', 1, 2, all, all.slice(0, 3))], /missing shard\(s\) 2\/2/],
      ['repeated shard', [shardFile('s1', 1, 2, all, all.slice(0, 3)), shardFile('s1b', 1, 2, all, all.slice(0, 3))], /shard 1\/2 given twice/],
      ['duplicated scenario', [shardFile('s1', 1, 2, all, all.slice(0, 3)), shardFile('s2', 2, 2, all, all.slice(2))], /in more than one shard: a\/2\.js#default/],
      ['missing scenario', [shardFile('s1', 1, 2, all, all.slice(0, 2)), shardFile('s2', 2, 2, all, all.slice(3))], /hold 4 scenarios, the selection has 5/],
      ['other selection', [shardFile('s1', 1, 2, all, all.slice(0, 3)), shardFile('s2', 2, 2, [...all.slice(0, 4), 'c/5.js#default'], ['b/3.js#default', 'c/5.js#default'])], /different selection/],
    ];
    for (const [what, shards, message] of cases) {
      assert.throws(() => mergeShards(shards), message, what);
    }
    // A truncated file: fewer results than its header announced.
    const s2 = shardFile('s2', 2, 2, all, all.slice(3));
    s2.results.pop();
    assert.throws(() => mergeShards([shardFile('s1', 1, 2, all, all.slice(0, 3)), s2]), /announced 2 scenarios but holds 1/);
    assert.throws(() => parseShardFile('x', '{"file":"a.js","scenario":"default","status":"pass","expected":"pass"}'), /no \{"shard":…\} header/);
  });
});

/** The comparable content of a JUnit file: no timings, no timestamp. */
function junitShape(xml: string): string {
  return xml.replace(/ (time|timestamp)="[^"]*"/g, '');
}

/** Result lines without timings, sorted; and the summary without seconds. */
function jsonShape(text: string): { results: string[]; summary: Record<string, unknown> } {
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const summary = { ...(lines.find((l) => 'summary' in l)!['summary'] as Record<string, unknown>) };
  delete summary['seconds'];
  const results = lines
    .filter((l) => !('summary' in l) && !('shard' in l))
    .map(({ ms: _ms, ...rest }) => JSON.stringify(rest))
    .sort();
  return { results, summary };
}

describe('3 shards in separate processes merge to the unsharded run', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 't262-shard-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const cli = (args: string[]) =>
    runNode(['--import', 'tsx', CLI, 'test262', ...args], { timeoutMs: 240_000, env: { TEST262_DIR: T262 } });

  it('by count, then by the durations of the unsharded run', async () => {
    const whole = await cli(['-r', 'json', '--json-out', path.join(tmp, 'whole.jsonl'), '--junit-out', path.join(tmp, 'whole.xml'), '-t', '8', ...DIRS]);
    assert.equal(whole.code, 0, whole.stderr);

    for (const balance of [[], ['--durations', path.join(tmp, 'whole.jsonl')]]) {
      const runs = await Promise.all(
        [1, 2, 3].map((i) =>
          cli(['--shard', `${i}/3`, ...balance, '-r', 'json', '--json-out', path.join(tmp, `s${i}.jsonl`), '-t', '4', ...DIRS]),
        ),
      );
      runs.forEach((r, i) => {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`shard ${i + 1}/3: \\d+ of \\d+ scenarios .*balanced by ${balance.length ? 'durations' : 'count'}`));
      });
      // Shard files are given in any order.
      const merge = await cli(['merge', '--json-out', path.join(tmp, 'merged.jsonl'), '--junit-out', path.join(tmp, 'merged.xml'),
        ...[3, 1, 2].map((i) => path.join(tmp, `s${i}.jsonl`))]);
      assert.equal(merge.code, 0, merge.stderr);
      assert.match(merge.stdout, /3 shard\(s\)/);

      const a = jsonShape(readFileSync(path.join(tmp, 'whole.jsonl'), 'utf8'));
      const b = jsonShape(readFileSync(path.join(tmp, 'merged.jsonl'), 'utf8'));
      assert.ok(a.results.length > 90);
      assert.ok(a.results.some((l) => l.includes('"status":"skip"')) && a.results.some((l) => l.includes('"expected":"fail"')));
      assert.deepEqual(b, a);
      assert.equal(junitShape(readFileSync(path.join(tmp, 'merged.xml'), 'utf8')), junitShape(readFileSync(path.join(tmp, 'whole.xml'), 'utf8')));
    }

    // Two shards of the three: the merge refuses, names what is missing, writes nothing.
    const partial = await cli(['merge', '--json-out', path.join(tmp, 'partial.jsonl'), path.join(tmp, 's1.jsonl'), path.join(tmp, 's3.jsonl')]);
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /missing shard\(s\) 2\/3/);
    assert.throws(() => readFileSync(path.join(tmp, 'partial.jsonl')));
    writeFileSync(path.join(tmp, 's2.jsonl'), readFileSync(path.join(tmp, 's2.jsonl'), 'utf8').split('\n').slice(0, 3).join('\n'));
    const truncated = await cli(['merge', ...[1, 2, 3].map((i) => path.join(tmp, `s${i}.jsonl`))]);
    assert.equal(truncated.code, 2);
    assert.match(truncated.stderr, /announced \d+ scenarios but holds 2/);
  });
});

// A shard count far above the number of scenarios, on the command line or in
// a (corrupted) shard header, used to allocate and scan per-shard arrays of
// that length: minutes of CPU and gigabytes for `--shard 1/100000000`.
describe('huge shard counts', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 't262-huge-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const cli = (args: string[]) => runNode(['--import', 'tsx', CLI, 'test262', ...args], { timeoutMs: 60_000, env: { TEST262_DIR: T262 } });

  it('--shard 1/100000000 selects one scenario per shard at the cost of a small count', async () => {
    const r = await cli(['--shard', '1/100000000', '--list', 'built-ins/Atomics/add']);
    assert.equal(r.timedOut, false, 'timed out');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shard 1\/100000000: 1 of \d+ scenarios/);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    const last = await cli(['--shard', '100000000/100000000', '--list', 'built-ins/Atomics/add']);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stderr, /shard 100000000\/100000000: 0 of \d+ scenarios/);
  });

  it('merge names the first missing shards of a header claiming 400000000', async () => {
    const all = ['a/1.js#default'];
    const file = path.join(tmp, 'huge.jsonl');
    writeFileSync(file, [
      JSON.stringify({ shard: { index: 1, count: 400_000_000, total: 1, selected: 1, fingerprint: selectionFingerprint(all), balancedBy: 'count', durations: null } }),
      JSON.stringify({ file: 'a/1.js', scenario: 'default', status: 'pass', expected: 'pass', error: null, ms: 1 }),
      JSON.stringify({ summary: { total: 1, seconds: 1 } }),
    ].join('\n'));
    const r = await cli(['merge', file]);
    assert.equal(r.timedOut, false, 'timed out');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /missing shard\(s\) 2\/400000000, .* and 399999989 more/);
  });
});

describe('malformed shard headers', () => {
  it('a header that is not an object is a MergeError naming the line', () => {
    for (const header of ['null', '[1]', '3', '"x"']) {
      assert.throws(() => parseShardFile('bad.jsonl', `{"shard":${header}}\n`), (e: unknown) => e instanceof MergeError && /bad\.jsonl:1: /.test(e.message), header);
    }
  });
});
