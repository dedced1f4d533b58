import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as control from '../src/stress/control.js';
import { litmus, loadTests, runStressTest, StressError, type LitmusReport } from '../src/stress/index.js';

const cases = fileURLToPath(new URL('./fixtures/stress/litmus-cases.mjs', import.meta.url));

async function run(id: string, options: { iterations?: number; durationMs?: number; batch?: number; seed?: number; perturb?: boolean } = {}): Promise<LitmusReport> {
  const found = (await loadTests(cases)).find((t) => t.id === id)!;
  return (await runStressTest(found, { seed: options.seed ?? 7, ...options })) as LitmusReport;
}

test('agent-loop.ts repeats the control word numbers of control.ts', () => {
  const source = readFileSync(new URL('../src/stress/agent-loop.ts', import.meta.url), 'utf8');
  for (const [name, value] of Object.entries(control)) {
    if (typeof value !== 'number') continue;
    const match = new RegExp(`const ${name} = (\\d+)`).exec(source);
    assert.ok(match, `${name} in agent-loop.ts`);
    assert.equal(Number(match[1]), value, name);
  }
});

test('every iteration is counted once, in whole batches, with result fields in actor order', async () => {
  const r = await run('constant', { iterations: 5000, batch: 1000 });
  assert.equal(r.grade, 'ok');
  assert.deepEqual(r.fields, ['a', 'b']);
  assert.deepEqual(r.outcomes, [{ outcome: '1,2', count: 5000, grade: 'ok' }]);
  assert.equal(r.iterations, 5000);
  assert.ok(r.iterationsPerSecond > 0);
});

test('each iteration gets zeroed state; the arbiter reads the final state', async () => {
  const r = await run('fresh', { iterations: 20_000, batch: 512 });
  assert.deepEqual(r.fields, ['before', 'seen', 'x', 'y']);
  assert.deepEqual(r.outcomes.map((o) => [o.outcome, o.grade]), [['0,0,5,0.5', 'ok']]);
  assert.equal(r.iterations, 20_480);
});

test('an unlisted outcome is forbidden, with the seed and the iteration to look at', async () => {
  const r = await run('unlisted', { iterations: 100, batch: 10, seed: 42 });
  assert.equal(r.grade, 'forbidden');
  assert.deepEqual(r.outcomes, [{ outcome: '7', count: 100, grade: 'forbidden' }]);
  assert.deepEqual(r.firstForbidden, { outcome: '7', iteration: 0, seed: 42 });
});

test('an actor that throws fails the test with its message', async () => {
  const r = await run('throws', { iterations: 100 });
  assert.equal(r.grade, 'error');
  assert.match(r.error!, /actor 1: .*boom in actor 1/);
});

test('an actor that never returns is reported stuck, not waited on forever', async () => {
  const r = await run('stuck', { iterations: 100 });
  assert.equal(r.grade, 'stuck');
  assert.match(r.error!, /no progress for \d+ ms/);
});

test('duration stops an open-ended run', async () => {
  const r = await run('constant', { durationMs: 200 });
  assert.equal(r.grade, 'ok');
  assert.ok(r.iterations > 0 && r.iterations % 1024 === 0);
});

test('bad specs are refused with ERR_STRESS_INVALID_TEST', () => {
  const bad = (spec: unknown, message: RegExp) =>
    assert.throws(() => litmus(spec as never), (e: unknown) => e instanceof StressError && e.code === 'ERR_STRESS_INVALID_TEST' && message.test(e.message));
  bad({ state: { x: Int32Array }, actors: [() => {}], outcomes: {} }, /name/);
  bad({ name: 't', state: { x: Array }, actors: [() => {}], outcomes: {} }, /state\.x/);
  bad({ name: 't', state: { x: { type: Int32Array, length: 0 } }, actors: [() => {}], outcomes: {} }, /length/);
  bad({ name: 't', state: { x: Int32Array }, actors: [], outcomes: {} }, /actors/);
  bad({ name: 't', state: { x: Int32Array }, actors: [() => {}], outcomes: { '0': 'fine' } }, /'ok', 'interesting' or 'forbidden'/);
});

test('a file without tests is refused with ERR_STRESS_NO_TESTS', async () => {
  await assert.rejects(loadTests(fileURLToPath(new URL('./fixtures/stress/no-tests.mjs', import.meta.url))), { code: 'ERR_STRESS_NO_TESTS' });
  await assert.rejects(loadTests('/nonexistent/x.mjs'), { code: 'ERR_STRESS_NO_TESTS' });
});

test('point() spins only under the runner with perturbation on, and is a no-op elsewhere', async () => {
  assert.deepEqual((await run('hooked', { iterations: 64, batch: 64, perturb: true })).outcomes.map((o) => o.outcome), ['1']);
  assert.deepEqual((await run('hooked', { iterations: 64, batch: 64, perturb: false })).outcomes.map((o) => o.outcome), ['0']);
  const { point, stress } = await import('../src/stress/index.js');
  assert.equal(point(), undefined);
  assert.equal(stress.point, point);
});
