// Numeric options of the stress API (runStressFiles) are checked once for the
// API and the CLI: NaN, 0, negative or fractional counts used to run forever
// or test nothing (found by a hostile review). Runs in children, so a
// regression fails the test instead of hanging the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

import { fixture, runInChild } from './support/stress-fixtures.js';

const counterLitmus = fixture('counter.mjs', `export default litmus({
  name: 'counter', state: { x: Int32Array },
  actors: [(s, r) => { r.a = Atomics.add(s.x, 0, 1); }, (s, r) => { r.b = Atomics.add(s.x, 0, 1); }],
  outcomes: { '0,1': 'ok', '1,0': 'ok' },
});`);

for (const [label, options] of [
  ['batch: 0', '{ batch: 0, iterations: 10 }'],
  ['batch: NaN', '{ batch: NaN, iterations: 10 }'],
  ['batch: -1', '{ batch: -1, iterations: 10 }'],
  ['iterations: NaN', '{ iterations: NaN }'],
  ['durationMs: NaN', '{ durationMs: NaN }'],
] as const) {
  test(`finding F2: runStressFiles({ ${label} }) is rejected with ERR_STRESS_INVALID_OPTION (not a run that never ends or a bare RangeError)`, () => {
    const r = runInChild(counterLitmus, options, 15_000);
    assert.equal(r.signal, null, `run with ${label} still going after ${r.ms} ms (killed)`);
    const out = JSON.parse(r.stdout.trim());
    assert.equal(out.thrown?.code, 'ERR_STRESS_INVALID_OPTION', r.stdout);
  });
}

const racyCounter = fixture('racy-counter.mjs', `export default linearizable({
  name: 'racy-counter',
  setup: () => new SharedArrayBuffer(4),
  object: (sab) => new Int32Array(sab),
  run: (c) => { const v = Atomics.load(c, 0); Atomics.store(c, 0, v + 1); return v; },
  operation: fc.constant({ t: 'inc' }),
  model: { init: () => 0, step: (s) => [s + 1, s] },
});`);

for (const agents of ['0', '-1', '1.5', 'NaN']) {
  test(`finding F5: runStressFiles({ agents: ${agents} }) on a linearizable() test is rejected with ERR_STRESS_INVALID_OPTION, not a vacuous 'ok' or a bare RangeError`, () => {
    const r = runInChild(racyCounter, `{ agents: ${agents}, iterations: 3 }`, 30_000);
    assert.equal(r.signal, null, `still running after ${r.ms} ms`);
    const out = JSON.parse(r.stdout.trim());
    assert.equal(out.thrown?.code, 'ERR_STRESS_INVALID_OPTION', r.stdout);
  });
}
