// The bundled linearizability examples: each broken object is caught in
// every one of 20 seeded runs, each correct one passes all 20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadTests, runStressTest, type LinearizabilityReport } from '../src/stress/index.js';

const example = (name: string) => fileURLToPath(new URL(`../examples/stress/${name}`, import.meta.url));
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

async function runSeeds(file: string, id: string, histories: number, parallel = 1): Promise<LinearizabilityReport[]> {
  const found = (await loadTests(example(file))).find((t) => t.id === id);
  assert.ok(found, id);
  const reports: LinearizabilityReport[] = [];
  for (let i = 0; i < SEEDS.length; i += parallel) {
    const batch = SEEDS.slice(i, i + parallel);
    reports.push(...(await Promise.all(batch.map((seed) => runStressTest(found, { seed, iterations: histories }) as Promise<LinearizabilityReport>))));
  }
  return reports;
}

const grades = (reports: LinearizabilityReport[]) => reports.map((r) => `${r.seed}:${r.grade}${r.error ? ` (${r.error})` : ''}`);

for (const [file, id] of [['sab-queue.mjs', 'racyQueue'], ['treiber-stack.mjs', 'abaStack']] as const) {
  test(`${id} (broken) is found not linearizable in 20/20 seeded runs`, async () => {
    const reports = await runSeeds(file, id, 5000);
    assert.deepEqual(reports.filter((r) => r.grade !== 'not-linearizable').map((r) => r.seed), [], grades(reports).join(' '));
    for (const r of reports) assert.match(r.counterexample!, /^not linearizable: the shortest failing prefix, \d+ operations/);
  });
}

test('missingNotify (broken) is reported stuck in 20/20 seeded runs, naming the take that never returned', async () => {
  // Stuck runs mostly sleep (the taker is in Atomics.wait), so several can wait out their watchdog at once.
  const reports = await runSeeds('blocking-queue.mjs', 'missingNotify', 5000, 5);
  assert.deepEqual(reports.filter((r) => r.grade !== 'stuck').map((r) => r.seed), [], grades(reports).join(' '));
  for (const r of reports) assert.match(r.counterexample!, /agent \d+ never returned from take\(\)/);
});

for (const [file, id] of [['sab-queue.mjs', 'sabQueue'], ['treiber-stack.mjs', 'taggedStack'], ['blocking-queue.mjs', 'blockingQueue']] as const) {
  test(`${id} (correct) passes 20/20 seeded runs`, async () => {
    const reports = await runSeeds(file, id, 100);
    assert.deepEqual(reports.filter((r) => r.grade !== 'ok').map((r) => r.seed), [], grades(reports).join(' '));
    for (const r of reports) assert.ok(r.operations > 100 * 2, `${r.operations} operations checked`);
  });
}
