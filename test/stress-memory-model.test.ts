// The built-in memory-model suite, short: every SeqCst (Atomics) and mixed
// test shows none of its forbidden outcomes, and plain store buffering shows
// its relaxed 0,0 on this machine (x86's store buffer). The long run
// (`agentcluster stress --suite memory-model --iterations 10000000`) is in the docs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTests, runStressTest, type LitmusReport } from '../src/stress/index.js';
import { suiteFiles } from '../src/stress/suites.js';

const suite = await loadTests(suiteFiles['memory-model']!);

test('the suite has the shapes of the issue in plain and Atomics forms', () => {
  const names = suite.map((t) => t.test.name).join('\n');
  for (const shape of ['SB', 'MP', 'LB', 'IRIW', '2+2W', 'CoRR', 'CoWW']) {
    assert.match(names, new RegExp(`^${shape.replace('+', '\\+')} .*, plain$`, 'm'), shape);
  }
  for (const shape of ['SB', 'MP', 'LB', 'IRIW', '2+2W', 'CoRR']) {
    assert.match(names, new RegExp(`^${shape.replace('+', '\\+')} .*, Atomics$`, 'm'), shape);
  }
});

for (const found of suite) {
  test(`${found.test.name}: no forbidden outcome`, async () => {
    const r = (await runStressTest(found, { seed: 1, iterations: 200_000 })) as LitmusReport;
    assert.equal(r.iterations >= 200_000, true);
    assert.deepEqual(r.outcomes.filter((o) => o.grade === 'forbidden'), [], JSON.stringify(r.outcomes));
    assert.notEqual(r.grade, 'forbidden');
  });
}

test('plain store buffering shows its relaxed outcome 0,0 on this machine', async () => {
  const sb = suite.find((t) => t.id === 'sbPlain')!;
  // Stops at the first 0,0; the long cap is only for a machine so loaded that the actors rarely overlap.
  const r = (await runStressTest(sb, { seed: 1, durationMs: 30_000, stopOn: ['interesting'] })) as LitmusReport;
  assert.equal(r.grade, 'interesting', JSON.stringify(r.outcomes));
  assert.ok(r.outcomes.some((o) => o.outcome === '0,0' && o.count > 0));
});
