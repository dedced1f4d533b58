import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Latch, WaitGroup, type SharedHandle } from '../src/atomics/index.js';
import { runAgents, startOnAgent, type AgentFn } from './support/atomics-harness.js';

test('Latch: countDown / tryWait / wait / underflow', () => {
  const l = new Latch(2);
  assert.equal(l.tryWait(), false);
  assert.equal(l.countDown(), 1);
  assert.equal(l.wait(0), false);
  assert.equal(l.countDown(), 0);
  assert.equal(l.tryWait(), true);
  assert.equal(l.wait(), true);
  assert.throws(() => l.countDown(), { code: 'ERR_COUNTER_UNDERFLOW' });
  assert.equal(l.count, 0);
  assert.equal(new Latch(0).wait(), true);
  assert.throws(() => new Latch(-1), { code: 'ERR_OUT_OF_RANGE' });
  const big = new Latch(3);
  assert.throws(() => big.countDown(4), { code: 'ERR_COUNTER_UNDERFLOW' });
  assert.equal(big.count, 3, 'a failed countDown changes nothing');
});

test('Latch/WaitGroup wait(timeout) return false after at least the timeout', async () => {
  const l = new Latch(1);
  const wg = new WaitGroup(1);
  for (const w of [(t: number) => l.wait(t), (t: number) => wg.wait(t)]) {
    const t0 = performance.now();
    assert.equal(w(25), false);
    assert.ok(performance.now() - t0 >= 25);
  }
  for (const w of [(t: number) => l.waitAsync(t), (t: number) => wg.waitAsync(t)]) {
    const t0 = performance.now();
    assert.equal(await w(25), false);
    assert.ok(performance.now() - t0 >= 25);
  }
});

type LatchData = { l: SharedHandle; ready: Int32Array; async: boolean };

test('Latch: agents arriveAndWait, nobody passes before the last arrival (fast-check)', async () => {
  const arriver: AgentFn<LatchData, number> = async (A, d) => {
    const l = A.Latch.from(d.l);
    Atomics.add(d.ready, 0, 1);
    const ok = d.async ? await l.arriveAndWaitAsync() : l.arriveAndWait();
    // Everyone counted down before anyone got through.
    return ok ? Atomics.load(d.ready, 0) : -1;
  };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.boolean(), async (n, async) => {
      const l = new Latch(n);
      const ready = new Int32Array(new SharedArrayBuffer(4));
      const seen = await runAgents(n, arriver, { l, ready, async });
      assert.deepEqual(seen, new Array(n).fill(n));
      assert.equal(l.count, 0);
    }),
    { numRuns: 10 },
  );
});

test('Latch: host main thread waitAsync is opened by agents', async () => {
  const l = new Latch(3);
  const done = runAgents(3, (A, h: SharedHandle) => { A.Latch.from(h).countDown(); }, structuredClone(l));
  assert.equal(await l.waitAsync(), true);
  await done;
});

type WgData = { wg: SharedHandle; work: Int32Array; cycles: number; tasks: number; results: Int32Array };

test('WaitGroup: reusable across cycles; wait sees all work of the cycle (fast-check)', async () => {
  // Thread 0 is the coordinator: per cycle it add()s `tasks`, the other
  // agents each take tasks from a shared counter and done() them; the
  // coordinator waits and checks the cycle's work is complete.
  const thread: AgentFn<WgData, number> = (A, d, me) => {
    const wg = A.WaitGroup.from(d.wg);
    const w = d.work; // [0] cycle published, [1] tasks claimed, [2] tasks finished, [3] stop
    if (me === 0) {
      let bad = 0;
      for (let c = 1; c <= d.cycles; c++) {
        // Order matters: a straggler from the last cycle may still make one
        // (failing) claim; it must only succeed once the count is armed.
        Atomics.store(w, 2, 0);
        wg.add(d.tasks);
        Atomics.store(w, 1, 0);
        Atomics.store(w, 0, c);
        Atomics.notify(w, 0);
        if (!wg.wait(10_000)) bad += 1000;
        if (Atomics.load(w, 2) !== d.tasks) bad++;
        if (wg.count !== 0) bad++;
      }
      Atomics.store(w, 3, 1);
      Atomics.store(w, 0, -1);
      Atomics.notify(w, 0);
      return bad;
    }
    let seen = 0;
    for (;;) {
      let c;
      while ((c = Atomics.load(w, 0)) === seen) Atomics.wait(w, 0, c);
      if (c === -1) return 0;
      seen = c;
      while (Atomics.add(w, 1, 1) < d.tasks) {
        Atomics.add(w, 2, 1);
        Atomics.add(d.results, 0, 1);
        wg.done();
      }
    }
  };
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 20, max: 120 }), async (n, tasks, cycles) => {
      const wg = new WaitGroup();
      const work = new Int32Array(new SharedArrayBuffer(16));
      const results = new Int32Array(new SharedArrayBuffer(4));
      const bad = await runAgents(n, thread, { wg, work, cycles, tasks, results });
      assert.deepEqual(bad, new Array(n).fill(0));
      assert.equal(results[0], cycles * tasks);
      assert.equal(wg.count, 0);
    }),
    { numRuns: 8 },
  );
});

test('WaitGroup: add/done/underflow, host waitAsync woken by an agent', async () => {
  const wg = new WaitGroup();
  assert.equal(wg.wait(), true, 'zero counter: wait returns at once');
  assert.equal(wg.add(2), 2);
  assert.equal(wg.add(-1), 1);
  assert.throws(() => wg.add(-2), { code: 'ERR_COUNTER_UNDERFLOW' });
  assert.throws(() => wg.add(0.5), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  const done = startOnAgent(0, (A, h: SharedHandle) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    return A.WaitGroup.from(h).done();
  }, structuredClone(wg));
  assert.equal(await wg.waitAsync(), true);
  assert.equal(await done, 0);
  assert.throws(() => wg.done(), { code: 'ERR_COUNTER_UNDERFLOW' });
});

test('WaitGroup waiters are released even if the group is re-armed at once', async () => {
  // The epoch word makes wait() return when the counter *reaches* zero, even
  // if add() makes it non-zero again before the waiter runs.
  const wg = new WaitGroup(1);
  const waiting = wg.waitAsync(5_000);
  wg.done();
  wg.add(1);
  assert.equal(await waiting, true);
  assert.equal(wg.count, 1);
});
