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
