// Fixed findings of the hostile review of agentcluster/stress (each test
// failed on the code under review). Risky repros run in a child process so
// that a hang or crash fails the test instead of the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, fixtures, root, runInChild } from './support/stress-fixtures.js';
import { checkLinearizable, DEFAULT_CHECK_BUDGET, type HistoryOperation } from '../src/stress/linearizability.js';
import type { SequentialModel } from '../src/stress/define.js';

/** Runs an ESM TypeScript snippet with tsx in a child; a hang is killed after timeoutMs. */
function child(source: string, timeoutMs: number) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

// A set of numbers: `add` returns null, `size` its size.
type SetOp = { t: 'add'; v: number } | { t: 'size' };
const set: SequentialModel<unknown, SetOp, unknown> = {
  init: () => [],
  step: (s, op) => {
    const items = s as number[];
    return op.t === 'add' ? [[...items, op.v].sort((a, b) => a - b), null] : [items, items.length];
  },
};
/** `width` fully overlapping adds, then a size read returning `size` (width + 1: not linearizable). */
function wideHistory(width: number, size: number): Array<HistoryOperation<SetOp>> {
  const history: Array<HistoryOperation<SetOp>> = [];
  for (let i = 0; i < width; i++) history.push({ agent: i % 4, op: { t: 'add', v: i }, invoke: 1 + i, response: 1000 + i, result: null });
  history.push({ agent: 0, op: { t: 'size' }, invoke: 5000, response: 5001, result: size });
  return history;
}

test('finding F1: checkLinearizable on a wide concurrent history ends in bounded time (a verdict or a clear "inconclusive"), not an exponential hang', () => {
  // 24 fully-overlapping adds to a set, then a size read with a wrong result: not linearizable,
  // but the search tries all 2^24 subsets of adds (and again per prefix while shrinking).
  const r = child(`
    import { checkLinearizable } from './src/stress/index.ts';
    const model = {
      init: () => [],
      step: (s, op) => op.t === 'add' ? [[...s, op.v].sort((a, b) => a - b), null] : [s, s.length],
    };
    const history = [];
    for (let i = 0; i < 24; i++) history.push({ agent: i % 4, op: { t: 'add', v: i }, invoke: 1 + i, response: 1000 + i, result: null });
    history.push({ agent: 0, op: { t: 'size' }, invoke: 5000, response: 5001, result: 25 });
    let out;
    try { const res = checkLinearizable(history, model); out = { ok: res.ok, explored: res.explored, inconclusive: res.inconclusive, budget: res.budget, explanation: res.explanation }; }
    catch (e) { out = { code: e.code, message: e.message }; }
    console.log(JSON.stringify(out));
  `, 30_000);
  assert.equal(r.signal, null, `checker still running after ${r.ms} ms (killed): no exploration/time bound`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.ok, false, r.stdout);
  assert.equal(out.inconclusive, true, r.stdout);
  assert.ok(out.budget === 'steps' || out.budget === 'time', r.stdout);
  assert.match(out.explanation, /^inconclusive: the search used its (steps|time) budget \(.*(maxSteps|timeLimitMs).*25 operations\)/);
  assert.ok(out.explored > 0, r.stdout);
});

test('finding F1: the step budget is deterministic and the time budget bounds the wall time', () => {
  const history = wideHistory(24, 25);
  const bySteps = checkLinearizable(history, set, { maxSteps: 5000, timeLimitMs: Infinity });
  assert.equal(bySteps.inconclusive, true);
  assert.equal(bySteps.budget, 'steps');
  assert.equal(bySteps.explored, checkLinearizable(history, set, { maxSteps: 5000, timeLimitMs: Infinity }).explored);
  const started = Date.now();
  const byTime = checkLinearizable(history, set, { maxSteps: Infinity, timeLimitMs: 300 });
  const ms = Date.now() - started;
  assert.equal(byTime.budget, 'time');
  assert.ok(ms >= 300 && ms < 3000, `${ms} ms for a 300 ms limit`);
  assert.deepEqual(Object.keys(DEFAULT_CHECK_BUDGET).sort(), ['maxSteps', 'memoBytes', 'timeLimitMs']);
});

test('finding F1: a violation that fits the budget is still reported as one, whatever budget its shrinking has left', () => {
  // Narrow enough to decide: 8 adds and a size read of 9. Find the fewest steps that decide it (the step
  // budget is deterministic), then give that (and a few more): the verdict must be "not linearizable" with a
  // failing counterexample, though shrinking it may have run out.
  const history = wideHistory(8, 9);
  const decided = (maxSteps: number) => checkLinearizable(history, set, { maxSteps }).inconclusive === undefined;
  let lo = 1;
  let hi = 1 << 20;
  assert.ok(decided(hi));
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (decided(mid)) hi = mid;
    else lo = mid + 1;
  }
  const needed = lo;
  assert.ok(needed > 100, `${needed} steps`);
  for (const maxSteps of [needed, needed + 1, needed + 100, 2 * needed]) {
    const result = checkLinearizable(history, set, { maxSteps });
    assert.equal(result.ok, false, `maxSteps ${maxSteps}`);
    assert.equal(result.inconclusive, undefined, `maxSteps ${maxSteps}: ${result.explanation}`);
    assert.ok(result.counterexample && result.counterexample.length > 0);
    assert.equal(checkLinearizable(result.counterexample, set, { maxSteps: Infinity }).ok, false, 'the counterexample fails on its own');
    assert.match(result.explanation!, /^not linearizable: (the shortest failing prefix|a failing prefix \(shrinking stopped at its budget\))/);
  }
  assert.equal(checkLinearizable(history, set, { maxSteps: needed - 1 }).budget, 'steps', 'one step fewer is inconclusive');
});

test('finding F1: budget options are checked (a positive number or Infinity)', () => {
  for (const bad of [{ maxSteps: 0 }, { timeLimitMs: -1 }, { memoBytes: Number.NaN }, { maxSteps: '5' as unknown as number }]) {
    assert.throws(() => checkLinearizable(wideHistory(2, 2), set, bad), (e: unknown) => (e as { code?: string }).code === 'ERR_STRESS_INVALID_OPTION' && /must be a positive number/.test((e as Error).message));
  }
  assert.equal(checkLinearizable(wideHistory(2, 2), set, { maxSteps: Infinity, timeLimitMs: Infinity, memoBytes: Infinity }).ok, true);
});

const cli = join(root, 'dist/src/cli/main.js');
function runCli(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [cli, 'stress', ...args], { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('finding F7: `agentcluster stress DIR` is a usage error (exit 2, "agentcluster stress:" message), not an uncaught ERR_UNSUPPORTED_DIR_IMPORT stack', () => {
  const r = runCli([fixtures]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^agentcluster stress: .* is a directory/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a raw stack trace');
});

test('finding F7: a test file that fails to import (syntax error) is reported as "agentcluster stress: FILE: ..." without an internal stack trace', () => {
  const file = join(fixtures, 'syntax.mjs');
  writeFileSync(file, 'export default {;\n');
  const r = runCli([file]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^agentcluster stress: .*syntax\.mjs: failed to import: SyntaxError: .*\(ERR_STRESS_LOAD_FAILED\)\n$/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a raw stack trace');
});

test('finding F7: a test file that throws at its top level is ERR_STRESS_LOAD_FAILED from the API too, the thrown error kept as the cause', () => {
  const file = fixture('throws.mjs', `throw new TypeError('top-level boom');`);
  const r = runInChild(file, '{ iterations: 1 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.thrown?.code, 'ERR_STRESS_LOAD_FAILED', r.stdout);
  assert.match(out.thrown.message, /throws\.mjs: failed to import: TypeError: top-level boom/);
  const dir = runInChild(fixtures, '{ iterations: 1 }', 30_000);
  assert.equal(JSON.parse(dir.stdout.trim()).thrown?.code, 'ERR_STRESS_NO_TESTS', dir.stdout);
});

test('finding F3: a litmus actor with more than 8 result fields is rejected or fully graded, never silently truncated to 8', () => {
  // The 9th field carries a value no listed outcome has: the run must not grade 'ok'.
  const file = fixture('nine-fields.mjs', `export default litmus({
    name: 'nine-fields', state: { x: Int32Array },
    actors: [(s, r) => { r.a = 0; r.b = 0; r.c = 0; r.d = 0; r.e = 0; r.f = 0; r.g = 0; r.h = 0; r.i = 1; }],
    outcomes: { '0,0,0,0,0,0,0,0': 'ok', '0,0,0,0,0,0,0,0,0': 'ok' },
  });`);
  const r = runInChild(file, '{ iterations: 10 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.report.grade, 'forbidden', r.stdout);
  assert.deepEqual(out.report.outcomes.map((o: { outcome: string }) => o.outcome), ['0,0,0,0,0,0,0,0,1']);
  assert.deepEqual(out.report.fields, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
});

test('finding F3: results are as wide as the widest declared outcome key (12 fields over two actors and the arbiter graded whole); wider is ERR_STRESS_TOO_MANY_RESULTS', () => {
  const file = fixture('wide-results.mjs', `const fields = (r, from, n) => { for (let j = 0; j < n; j++) r['f' + (from + j)] = from + j; };
  export const wide = litmus({
    name: 'wide', state: { x: Int32Array },
    actors: [(s, r) => fields(r, 0, 10), (s, r) => fields(r, 10, 1)],
    arbiter: (s, r) => { r.last = 11; },
    outcomes: { '0,1,2,3,4,5,6,7,8,9,10,11': 'ok' },
  });
  export const tooWide = litmus({
    name: 'too-wide', state: { x: Int32Array },
    actors: [(s, r) => fields(r, 0, 10)],
    outcomes: { '0,1,2,3,4,5,6,7,8': 'ok' },
  });
  export const arbiterTooWide = litmus({
    name: 'arbiter-too-wide', state: { x: Int32Array },
    actors: [(s, r) => { r.a = 1; }],
    arbiter: (s, r) => fields(r, 0, 9),
    outcomes: { '1': 'ok' },
  });`);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { runStressFiles } from ${JSON.stringify(new URL('../dist/src/stress/index.js', import.meta.url).href)};
    const reports = await runStressFiles([${JSON.stringify(file)}], { seed: 1, iterations: 10 });
    console.log(JSON.stringify(reports.map((r) => ({ id: r.id, grade: r.grade, code: r.code, error: r.error, outcomes: r.outcomes }))));
  `], { cwd: root, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.equal(r.status, 0, r.stderr);
  const byId = new Map(JSON.parse(r.stdout.trim()).map((report: { id: string }) => [report.id, report]));
  const [wide, tooWide, arbiterTooWide] = ['wide', 'tooWide', 'arbiterTooWide'].map((id) => byId.get(id) as { grade: string; code?: string; error: string; outcomes: Array<{ outcome: string }> });
  assert.equal(wide.grade, 'ok', JSON.stringify(wide));
  assert.deepEqual(wide.outcomes.map((o: { outcome: string }) => o.outcome), ['0,1,2,3,4,5,6,7,8,9,10,11']);
  assert.equal(tooWide.grade, 'error');
  assert.equal(tooWide.code, 'ERR_STRESS_TOO_MANY_RESULTS');
  assert.match(tooWide.error, /actor 0 assigned 10 result fields \(f0, .*, f9\); at most 9/);
  assert.equal(arbiterTooWide.grade, 'error');
  assert.equal(arbiterTooWide.code, 'ERR_STRESS_TOO_MANY_RESULTS');
  assert.match(arbiterTooWide.error, /the arbiter assigned 9 result fields.*at most 8/);
});

test('finding F4: a bigint result keeps its exact value in the outcome key (2^60 is graded by "1152921504606846976")', () => {
  const file = fixture('bigint.mjs', `export default litmus({
    name: 'bigint-exact', state: { x: BigInt64Array },
    actors: [(s, r) => { Atomics.store(s.x, 0, 2n ** 60n); r.a = Atomics.load(s.x, 0); }],
    outcomes: { [String(2n ** 60n)]: 'ok' },
  });`);
  const r = runInChild(file, '{ iterations: 10 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  assert.deepEqual(out.report?.outcomes?.map((o: { outcome: string }) => o.outcome), [String(2n ** 60n)], r.stdout);
  assert.equal(out.report.grade, 'ok', r.stdout);
});

test('finding F4: 64-bit bigints round-trip exactly at both ends (2^63-1, -2^63, 2^64-1) beside numbers; a wider bigint is ERR_STRESS_RESULT_RANGE', () => {
  const file = fixture('bigint-ends.mjs', `export const ends = litmus({
    name: 'bigint-ends', state: { s: BigInt64Array, u: BigUint64Array },
    actors: [
      (s, r) => { Atomics.store(s.s, 0, 2n ** 63n - 1n); r.max = Atomics.load(s.s, 0); r.min = -(2n ** 63n); r.n = 0.5; },
      (s, r) => { Atomics.store(s.u, 0, 2n ** 64n - 1n); r.umax = Atomics.load(s.u, 0); r.flag = true; },
    ],
    outcomes: { [[2n ** 63n - 1n, -(2n ** 63n), 0.5, 2n ** 64n - 1n, 1].join(',')]: 'ok' },
  });
  export const wider = litmus({
    name: 'bigint-wider', state: { s: BigInt64Array },
    actors: [(s, r) => { r.big = 2n ** 64n; }],
    outcomes: { [String(2n ** 64n)]: 'ok' },
  });`);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { runStressFiles } from ${JSON.stringify(new URL('../dist/src/stress/index.js', import.meta.url).href)};
    const reports = await runStressFiles([${JSON.stringify(file)}], { seed: 1, iterations: 10 });
    console.log(JSON.stringify(reports.map((r) => ({ grade: r.grade, code: r.code, error: r.error, outcomes: r.outcomes }))));
  `], { cwd: root, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.equal(r.status, 0, r.stderr);
  const [ends, wider] = JSON.parse(r.stdout.trim());
  assert.deepEqual(ends.outcomes.map((o: { outcome: string }) => o.outcome), ['9223372036854775807,-9223372036854775808,0.5,18446744073709551615,1'], JSON.stringify(ends));
  assert.equal(ends.grade, 'ok');
  assert.equal(wider.grade, 'error');
  assert.equal(wider.code, 'ERR_STRESS_RESULT_RANGE');
  assert.match(wider.error, /result field 'big' is the bigint 18446744073709551616, outside 64 bits/);
});

test('finding F8: litmus state × --batch is bounded up front (a clear usage error), not gigabytes allocated then "Invalid typed array length: undefined"', () => {
  // Two 1024-element Float64 fields = 16 KiB per iteration; --batch 1048576 asks for 16 GiB of shared state.
  const file = fixture('big-state.mjs', `export default litmus({
    name: 'big-state', state: { a: { type: Float64Array, length: 1024 }, b: { type: Float64Array, length: 1024 } },
    actors: [(s, r) => { r.a = 1; }],
    outcomes: { '1': 'ok' },
  });`);
  const r = runCli([file, '--batch', '1048576', '--iterations', '1']);
  assert.doesNotMatch(r.stdout + r.stderr, /Invalid typed array length: undefined/);
  assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /^agentcluster stress: big-state: batch 1048576 x 16,528 bytes of state and results per iteration is 16528\.0 MiB of shared memory, over the 256\.0 MiB cap; use batch 16241 or less \(ERR_STRESS_INVALID_OPTION\)\n$/);
  // From the API: the same typed error, and the advised batch runs.
  const api = runInChild(file, '{ batch: 16242, iterations: 1 }', 30_000);
  assert.equal(JSON.parse(api.stdout.trim()).thrown?.code, 'ERR_STRESS_INVALID_OPTION', api.stdout);
  const fits = runInChild(file, '{ batch: 16241, iterations: 1 }', 60_000);
  assert.equal(JSON.parse(fits.stdout.trim()).report?.grade, 'ok', fits.stdout);
});

test('finding F6: `agentcluster stress --json` prints one parseable JSON document on stdout even when the test file (host and agents) logs', () => {
  const file = fixture('logs.mjs', `console.log('hello from the test file');
globalThis.process?.stdout.write('a raw stdout write\\n');
export default litmus({
  name: 'logger', state: { x: Int32Array },
  actors: [(s, r) => { if (!globalThis.logged) { globalThis.logged = true; console.log('hello from actor 0'); } r.a = 1; }],
  outcomes: { '1': 'ok' },
});`);
  const r = runCli([file, '--json', '--iterations', '10', '--seed', '1']);
  assert.equal(r.status, 0, r.stderr);
  let document: { seed?: number; ok?: boolean; reports?: Array<{ grade: string }> } = {};
  assert.doesNotThrow(() => (document = JSON.parse(r.stdout)), `stdout is not one JSON document:\n${r.stdout.slice(0, 200)}`);
  assert.equal(document.seed, 1);
  assert.equal(document.ok, true);
  assert.equal(document.reports?.[0]?.grade, 'ok');
  // The user's output is not lost: it is on stderr (the host's import, the agent's import, the actor).
  assert.match(r.stderr, /hello from the test file/);
  assert.match(r.stderr, /a raw stdout write/);
  assert.match(r.stderr, /hello from actor 0/);
  // Without --json, the same lines stay on stdout.
  const text = runCli([file, '--iterations', '10', '--seed', '1']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /hello from the test file/);
  assert.match(text.stdout, /hello from actor 0/);
});
