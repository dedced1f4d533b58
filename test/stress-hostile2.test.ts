// Findings of the second hostile review of agentcluster/stress (after the
// fixes of the first six) and of the near-limit heap snapshot. Each test
// fails on the code under review. Risky repros run in a child process so
// that a hang or crash fails the test instead of the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runInChild } from './support/stress-fixtures.js';

test('finding F1: result fields an actor adds after its first iteration are graded (or an error), not silently dropped', () => {
  // The first iteration assigns nothing; every later one assigns a and b. The slots' names are fixed
  // from the first result, so 2047 of 2048 outcomes '1,2' are tallied as '' and graded ok.
  const file = fixture('h2-f1-grow.mjs', `
    let n = 0;
    export default litmus({
      name: 'fields appear later',
      state: { x: Int32Array },
      actors: [(s, r) => { if (n++ > 0) { r.a = 1; r.b = 2; } }],
      outcomes: { '': 'ok' },
    });`);
  const r = runInChild(file, '{ iterations: 2048, batch: 1024 }', 60_000);
  assert.equal(r.signal, null, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  if (out.thrown) return; // a clear error is fine
  const { report } = out;
  const silent = report.grade === 'ok' && report.outcomes.every((o: { outcome: string }) => o.outcome === '');
  assert.ok(!silent, `results {a:1,b:2} of 2047 iterations vanished: ${JSON.stringify(report.outcomes)}`);
});

test('finding F1: more result fields than the slots hold on a later iteration is ERR_STRESS_TOO_MANY_RESULTS, not a silent cut', () => {
  const file = fixture('h2-f1-wide-later.mjs', `
    let n = 0;
    export default litmus({
      name: 'wide later',
      state: { x: Int32Array },
      actors: [(s, r) => { if (n++ === 0) r.a = 1; else for (let i = 0; i < 20; i++) r['f' + i] = i; }],
      outcomes: { '1': 'ok', 'NaN': 'ok' },
    });`);
  const r = runInChild(file, '{ iterations: 2048, batch: 1024 }', 60_000);
  assert.equal(r.signal, null, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  const code = out.thrown?.code ?? out.report?.code;
  assert.equal(code, 'ERR_STRESS_TOO_MANY_RESULTS', r.stdout);
});
