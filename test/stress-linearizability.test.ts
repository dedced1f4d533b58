// The history checker on its own: hand-made histories with known answers,
// and random small histories against a brute-force search over every order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkLinearizable, type HistoryOperation } from '../src/stress/linearizability.js';
import type { SequentialModel } from '../src/stress/define.js';

type RegOp = { type: 'write'; value: number } | { type: 'read' };
const register: SequentialModel<unknown, RegOp, unknown> = {
  init: () => 0,
  step: (s, op) => (op.type === 'write' ? [op.value, null] : [s, s]),
  describe: (op) => (op.type === 'write' ? `write(${op.value})` : 'read()'),
};
const w = (agent: number, value: number, invoke: number, response?: number): HistoryOperation<RegOp> =>
  ({ agent, op: { type: 'write', value }, result: null, invoke, ...(response !== undefined ? { response } : {}) });
const r = (agent: number, result: number, invoke: number, response?: number): HistoryOperation<RegOp> =>
  ({ agent, op: { type: 'read' }, result, invoke, ...(response !== undefined ? { response } : {}) });

test('overlapping operations may take effect in either order', () => {
  assert.equal(checkLinearizable([w(0, 1, 1, 4), r(1, 1, 2, 3)], register).ok, true);
  assert.equal(checkLinearizable([w(0, 1, 1, 4), r(1, 0, 2, 3)], register).ok, true);
});

test('real-time order is respected: a read after a write returned sees it', () => {
  const result = checkLinearizable([w(0, 1, 1, 2), r(1, 0, 3, 4)], register);
  assert.equal(result.ok, false);
  assert.match(result.explanation!, /agent 1 +\[3 \.\. 4\] +read\(\) -> 0/);
});

test('a stale read after a newer read is caught (no reordering of completed reads)', () => {
  const h = [w(0, 1, 1, 10), r(1, 1, 2, 3), r(1, 0, 4, 5)];
  assert.equal(checkLinearizable(h, register).ok, false);
});

test('pending operations may or may not have taken effect', () => {
  assert.equal(checkLinearizable([w(0, 1, 1), r(1, 1, 2, 3)], register).ok, true);
  assert.equal(checkLinearizable([w(0, 1, 1), r(1, 0, 2, 3)], register).ok, true);
  assert.equal(checkLinearizable([w(0, 1, 1), r(1, 2, 2, 3)], register).ok, false);
});

test('the counterexample is the shortest failing prefix', () => {
  // Fine up to stamp 6; the read at [7, 8] cannot be explained.
  const h = [w(0, 1, 1, 2), r(1, 1, 3, 4), w(0, 2, 5, 6), r(1, 1, 7, 8), w(0, 3, 9, 10), r(1, 3, 11, 12)];
  const result = checkLinearizable(h, register);
  assert.equal(result.ok, false);
  assert.deepEqual(result.counterexample!.map((o) => o.invoke), [1, 3, 5, 7]);
});

test('P-compositionality: keys are checked apart, and the failing key is named', () => {
  type KvOp = { key: string; op: RegOp };
  const kv: SequentialModel<unknown, KvOp, unknown> = {
    init: () => 0,
    step: (s, o) => register.step(s, o.op),
  };
  const on = (key: string, o: HistoryOperation<RegOp>): HistoryOperation<KvOp> => ({ ...o, op: { key, op: o.op } });
  const h = [on('a', w(0, 1, 1, 2)), on('b', r(1, 0, 3, 4)), on('a', r(1, 1, 5, 6))];
  assert.equal(checkLinearizable(h, kv, (o) => o.key).ok, true);
  // Without the partition, one register: b's read of 0 after a's write of 1 fails.
  assert.equal(checkLinearizable(h, kv).ok, false);
  const bad = [...h, on('b', r(0, 7, 7, 8))];
  const result = checkLinearizable(bad, kv, (o) => o.key);
  assert.equal(result.ok, false);
  assert.equal(result.partition, 'b');
});

/** Is there an order of all completed ops (pending ones optional), respecting real time, that the model explains? */
function bruteForce(history: Array<HistoryOperation<RegOp>>): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const go = (state: unknown, done: number): boolean => {
    if (history.every((o, i) => used[i] || o.response === undefined)) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const o = history[i]!;
      // i can go next only if no unused op responded before i was invoked.
      if (history.some((p, j) => !used[j] && j !== i && p.response !== undefined && p.response < o.invoke)) continue;
      const [next, result] = register.step(state, o.op);
      if (o.response !== undefined && JSON.stringify(result) !== JSON.stringify(o.result)) continue;
      used[i] = true;
      if (go(next, done + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  return go(register.init(), 0);
}

const randomHistory = fc
  .array(fc.record({ write: fc.boolean(), value: fc.integer({ min: 0, max: 2 }), agent: fc.integer({ min: 0, max: 2 }), len: fc.integer({ min: 1, max: 6 }), pending: fc.boolean() }), { maxLength: 7 })
  .chain((specs) => fc.shuffledSubarray(Array.from({ length: specs.length * 2 }, (_, i) => i + 1), { minLength: specs.length, maxLength: specs.length }).map((starts) => ({ specs, starts })))
  .map(({ specs, starts }) =>
    specs.map((s, i): HistoryOperation<RegOp> => {
      const invoke = starts[i]! * 100 + 2 * i; // even, unique (a shared clock never repeats a stamp)
      const response = s.pending && i % 3 === 0 ? undefined : invoke + s.len * 100 + 1; // odd, unique
      return s.write
        ? { agent: s.agent, op: { type: 'write', value: s.value }, result: null, invoke, ...(response !== undefined ? { response } : {}) }
        : { agent: s.agent, op: { type: 'read' }, result: s.value, invoke, ...(response !== undefined ? { response } : {}) };
    }));

test('agrees with a brute-force search over every order on random small histories', () => {
  let failing = 0;
  fc.assert(
    fc.property(randomHistory, (history) => {
      const expected = bruteForce(history);
      if (!expected) failing++;
      assert.equal(checkLinearizable(history, register).ok, expected);
    }),
    { numRuns: 2000, seed: 15 },
  );
  assert.ok(failing > 100, `enough non-linearizable cases were generated (${failing})`);
});

test('linearizable() specs are validated with ERR_STRESS_INVALID_TEST', async () => {
  const { linearizable, StressError } = await import('../src/stress/index.js');
  const base = { name: 'q', setup: () => 0, object: () => 0, run: () => 0, operation: fc.constant(1), model: { init: () => 0, step: () => [0, 0] } };
  assert.doesNotThrow(() => linearizable(base as never));
  for (const [patch, message] of [
    [{ name: '' }, /name/],
    [{ run: 1 }, /run must be a function/],
    [{ model: { init: () => 0 } }, /model must be/],
    [{ operation: 3 }, /fast-check arbitrary/],
    [{ opsPerAgent: 0 }, /opsPerAgent/],
  ] as Array<[object, RegExp]>) {
    assert.throws(() => linearizable({ ...base, ...patch } as never), (e: unknown) => e instanceof StressError && e.code === 'ERR_STRESS_INVALID_TEST' && message.test(e.message));
  }
});

test('agents run generated operations with shared-clock stamps; an Atomics counter is linearizable', async () => {
  const { loadTests, runStressTest } = await import('../src/stress/index.js');
  const file = new URL('./fixtures/stress/linearizable-cases.mjs', import.meta.url).pathname;
  const found = (await loadTests(file)).find((t) => t.id === 'atomicCounter')!;
  const report = await runStressTest(found, { seed: 3, iterations: 30, agents: 3 });
  assert.equal(report.kind, 'linearizability');
  assert.equal(report.grade, 'ok');
  assert.equal(report.kind === 'linearizability' && report.histories, 30);
});

test('an operation that throws fails the test with its message', async () => {
  const { loadTests, runStressTest } = await import('../src/stress/index.js');
  const file = new URL('./fixtures/stress/linearizable-cases.mjs', import.meta.url).pathname;
  const found = (await loadTests(file)).find((t) => t.id === 'throwing')!;
  const report = await runStressTest(found, { seed: 3, iterations: 5 });
  assert.equal(report.grade, 'error');
  assert.match(report.kind === 'linearizability' ? report.error! : '', /TypeError: bad op in the object/);
});
