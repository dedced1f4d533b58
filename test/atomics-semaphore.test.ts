import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Semaphore, type SharedHandle } from '../src/atomics/index.js';
import { runAgents, startOnAgent, type AgentFn } from './support/atomics-harness.js';
import { delay } from './support/waits.js';

test('single-threaded behaviour matches a counter model (fast-check)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('tryAcquire' as const) }),
    fc.record({ kind: fc.constant('acquire0' as const) }),
    fc.record({ kind: fc.constant('release' as const), n: fc.integer({ min: 1, max: 5 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 }), fc.array(op, { maxLength: 60 }), (initial, ops) => {
      const s = new Semaphore(initial);
      let model = initial;
      for (const o of ops) {
        if (o.kind === 'release') {
          s.release(o.n);
          model += o.n;
        } else {
          const got = o.kind === 'tryAcquire' ? s.tryAcquire() : s.acquire(0);
          assert.equal(got, model > 0);
          if (got) model--;
        }
        assert.equal(s.value, model);
      }
    }),
    { numRuns: 200 },
  );
});

test('acquire(timeout) / acquireAsync(timeout) return false after at least the timeout', async () => {
  const s = new Semaphore(0);
  let t0 = performance.now();
  assert.equal(s.acquire(25), false);
  assert.ok(performance.now() - t0 >= 25);
  t0 = performance.now();
  assert.equal(await s.acquireAsync(25), false);
  assert.ok(performance.now() - t0 >= 25);
  s.release();
  assert.equal(await s.acquireAsync(25), true);
  assert.equal(s.value, 0);
});

test('argument validation and overflow', () => {
  assert.throws(() => new Semaphore(-1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new Semaphore(1.5), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  const s = new Semaphore(0x7ffffffe);
  assert.throws(() => s.release(0), { code: 'ERR_OUT_OF_RANGE' });
  s.release();
  assert.throws(() => s.release(), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(s.value, 0x7fffffff);
});

type SemData = { sem: SharedHandle; s: Int32Array; iters: number; modes: string[]; hold: number };

// s[0] = agents currently holding a permit, s[1] = max observed, s[2] = total entries.
const holder: AgentFn<SemData, number> = async (A, d, index) => {
  const sem = A.Semaphore.from(d.sem);
  let mode = d.modes[index % d.modes.length];
  if (!A.canBlock() && (mode === 'acquire' || mode === 'timed')) mode = 'async';
  let timeouts = 0;
  for (let i = 0; i < d.iters; i++) {
    if (mode === 'acquire') sem.acquire();
    else if (mode === 'timed') { while (!sem.acquire(0.3)) timeouts++; }
    else if (mode === 'try') { while (!sem.tryAcquire()) { /* spin */ } }
    else await sem.acquireAsync();
    const inside = Atomics.add(d.s, 0, 1) + 1;
    for (let m = Atomics.load(d.s, 1); inside > m; m = Atomics.load(d.s, 1)) {
      if (Atomics.compareExchange(d.s, 1, m, inside) === m) break;
    }
    Atomics.add(d.s, 2, 1);
    for (let k = 0; k < d.hold; k++) if (d.s[3] === -1) break;
    Atomics.sub(d.s, 0, 1);
    sem.release();
  }
  return timeouts;
};

test('never more than `permits` holders; every permit comes back, canBlock:false agents too (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.constantFrom('acquire', 'timed', 'try', 'async'), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 200, max: 1200 }),
      fc.integer({ min: 0, max: 50 }),
      async (permits, agents, modes, canBlock, iters, hold) => {
        const sem = new Semaphore(permits);
        const s = new Int32Array(new SharedArrayBuffer(16));
        await runAgents(agents, holder, { sem, s, iters, modes, hold }, { canBlock });
        assert.ok(s[1] <= permits, `${s[1]} holders with ${permits} permits`);
        assert.equal(s[2], agents * iters);
        assert.equal(sem.value, permits);
      },
    ),
    { numRuns: 10 },
  );
});

test('binary semaphore admits exactly one holder at a time (4 agents x 2000)', async () => {
  const sem = new Semaphore(1);
  const s = new Int32Array(new SharedArrayBuffer(16));
  await runAgents(4, holder, { sem, s, iters: 2000, modes: ['acquire'], hold: 10 });
  assert.equal(s[1], 1);
  assert.equal(s[2], 8000);
});

test('acquireAsync on the main thread is released by an agent', async () => {
  const sem = new Semaphore(0);
  const releaser: AgentFn<{ sem: SharedHandle }, void> = (A, d) => {
    const x = A.Semaphore.from(d.sem);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    x.release(3);
  };
  const done = startOnAgent(0, releaser, { sem: structuredClone(sem) });
  assert.equal(await sem.acquireAsync(), true);
  assert.equal(await sem.acquireAsync(), true);
  assert.equal(sem.acquire(), true);
  await done;
  await delay(0);
  assert.equal(sem.value, 0);
});
