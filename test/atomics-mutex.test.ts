import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Mutex, lock, lockAsync, type SharedHandle } from '../src/atomics/index.js';
import { echoThroughAgent, runAgents, startOnAgent, type AgentFn } from './support/atomics-harness.js';
import { delay } from './support/waits.js';

test('tryLock / unlock / locked', () => {
  const m = new Mutex();
  assert.equal(m.locked, false);
  assert.equal(m.tryLock(), true);
  assert.equal(m.locked, true);
  assert.equal(m.tryLock(), false);
  m.unlock();
  assert.equal(m.locked, false);
  assert.equal(m.lock(), true);
  m.unlock();
});

test('unlocking an unlocked mutex throws ERR_MUTEX_NOT_LOCKED', () => {
  const m = new Mutex();
  assert.throws(() => m.unlock(), { name: 'AtomicsError', code: 'ERR_MUTEX_NOT_LOCKED' });
  m.lock();
  m.unlock();
  assert.throws(() => m.unlock(), { code: 'ERR_MUTEX_NOT_LOCKED' });
});

test('lock(timeout) returns false after at least the timeout', () => {
  const m = new Mutex();
  m.lock();
  for (const t of [0, 5, 40]) {
    const t0 = performance.now();
    assert.equal(m.lock(t), false);
    assert.ok(performance.now() - t0 >= t, `returned before ${t} ms`);
  }
  m.unlock();
  assert.equal(m.lock(0), true); // free: succeeds even with timeout 0
  m.unlock();
});

test('lockAsync(timeout) resolves false after at least the timeout', async () => {
  const m = new Mutex();
  m.lock();
  const t0 = performance.now();
  assert.equal(await m.lockAsync(30), false);
  assert.ok(performance.now() - t0 >= 30);
  m.unlock();
  assert.equal(await m.lockAsync(30), true);
  m.unlock();
});

test('withLock / lock() helper release on return and on throw', async () => {
  const m = new Mutex();
  assert.equal(m.withLock(() => 42), 42);
  assert.equal(lock(m, () => 'x'), 'x');
  assert.throws(() => m.withLock(() => { throw new Error('boom'); }), /boom/);
  assert.equal(m.locked, false);
  assert.equal(await m.withLockAsync(async () => { assert.equal(m.locked, true); return 7; }), 7);
  assert.equal(await lockAsync(m, () => 8), 8);
  await assert.rejects(m.withLockAsync(async () => { throw new Error('async boom'); }), /async boom/);
  assert.equal(m.locked, false);
});

test('structuredClone gives { buffer, byteOffset } and from() re-attaches without resetting', async () => {
  const sab = new SharedArrayBuffer(16);
  const m = new Mutex(sab, 8);
  const clone = structuredClone(m);
  assert.deepEqual(Object.keys(clone), ['buffer', 'byteOffset']);
  assert.equal(clone.byteOffset, 8);
  m.lock();
  const a = Mutex.from(clone);
  assert.equal(a.locked, true, 'from() must not reset the state');
  assert.equal(a.tryLock(), false);
  a.unlock();
  assert.equal(m.locked, false);
  // Across an agent boundary (postMessage both ways).
  const back = await echoThroughAgent(m);
  const b = Mutex.from(back);
  assert.equal(b.tryLock(), true);
  assert.equal(m.locked, true);
  m.unlock();
});

test('main thread blocks / awaits a mutex held by an agent', async () => {
  const m = new Mutex();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const holder: AgentFn<{ m: SharedHandle; flag: Int32Array }, string> = (A, d) => {
    const mx = A.Mutex.from(d.m);
    mx.lock();
    Atomics.store(d.flag, 0, 1);
    Atomics.wait(d.flag, 0, 1); // until the main thread says go
    mx.unlock();
    return 'released';
  };
  const done = startOnAgent(0, holder, { m, flag });
  while (Atomics.load(flag, 0) !== 1) await delay(1);
  assert.equal(m.lock(20), false, 'held by the agent');
  const acquired = m.lockAsync();
  await delay(20);
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  assert.equal(await acquired, true);
  assert.equal(await done, 'released');
  m.unlock();
});

type CounterData = {
  m: SharedHandle;
  shared: Int32Array; // [0] plain counter, [1] agents inside, [2] violations
  iters: number;
  modes: string[];
  work: number;
};

// Non-atomic read-modify-write of shared[0] under the lock, with a window
// between the read and the write; shared[1] detects two agents inside.
const counterThread: AgentFn<CounterData, number> = async (A, d, index) => {
  const m = A.Mutex.from(d.m);
  const s = d.shared;
  let mode = d.modes[index % d.modes.length];
  // canBlock:false agents use the async form where the mode would block.
  if (!A.canBlock() && (mode === 'lock' || mode === 'timed' || mode === 'withLock')) mode = 'async';
  let timeouts = 0;
  const enter = () => {
    if (Atomics.add(s, 1, 1) !== 0) Atomics.add(s, 2, 1);
    return s[0];
  };
  const leave = (v: number) => {
    s[0] = v + 1;
    Atomics.sub(s, 1, 1);
  };
  const body = () => {
    const v = enter();
    for (let k = 0; k < d.work; k++) if (s[3] === 0x7fffffff) break;
    leave(v);
  };
  for (let i = 0; i < d.iters; i++) {
    if (mode === 'lock') {
      m.lock();
      try { body(); } finally { m.unlock(); }
    } else if (mode === 'tryLock') {
      while (!m.tryLock()) { /* spin */ }
      try { body(); } finally { m.unlock(); }
    } else if (mode === 'timed') {
      while (!m.lock(0.5)) timeouts++;
      try { body(); } finally { m.unlock(); }
    } else if (mode === 'async') {
      await m.lockAsync();
      try { body(); } finally { m.unlock(); }
    } else if (mode === 'withLock') {
      m.withLock(body);
    } else {
      // Hold the lock across an await: other agents must still be excluded.
      await m.withLockAsync(async () => {
        const v = enter();
        await null;
        leave(v);
      });
    }
  }
  return timeouts;
};

const MODES = ['lock', 'tryLock', 'timed', 'async', 'withLock', 'withLockAsync'];

test('mutual exclusion: N agents x M non-atomic increments under the lock == N*M', async () => {
  const shared = new Int32Array(new SharedArrayBuffer(16));
  const m = new Mutex();
  await runAgents(4, counterThread, { m, shared, iters: 2000, modes: ['lock'], work: 20 });
  assert.equal(shared[2], 0, 'two agents were inside the critical section');
  assert.equal(shared[0], 4 * 2000);
  assert.equal(m.locked, false);
});

test('mutual exclusion holds for random mixes of lock forms and canBlock:false agents (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.constantFrom(...MODES), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 300, max: 1500 }),
      fc.integer({ min: 0, max: 40 }),
      async (agents, modes, canBlock, iters, work) => {
        const shared = new Int32Array(new SharedArrayBuffer(16));
        const m = new Mutex();
        await runAgents(agents, counterThread, { m, shared, iters, modes, work }, { canBlock });
        assert.equal(shared[2], 0, 'mutual exclusion violated');
        assert.equal(shared[0], agents * iters);
        assert.equal(m.locked, false);
      },
    ),
    { numRuns: 12 },
  );
});

test('main thread contends with agents using lockAsync (host event loop)', async () => {
  const shared = new Int32Array(new SharedArrayBuffer(16));
  const m = new Mutex();
  const agents = runAgents(2, counterThread, { m, shared, iters: 500, modes: ['lock', 'async'], work: 5 });
  for (let i = 0; i < 200; i++) {
    await m.lockAsync();
    shared[0]++;
    m.unlock();
  }
  await agents;
  assert.equal(shared[0], 2 * 500 + 200);
});

test('several mutexes packed in one SharedArrayBuffer are independent', () => {
  const sab = new SharedArrayBuffer(Mutex.byteLength * 4);
  const ms = [0, 1, 2, 3].map((i) => new Mutex(sab, i * Mutex.byteLength));
  ms[1].lock();
  assert.deepEqual(ms.map((m) => m.locked), [false, true, false, false]);
  assert.equal(ms[2].tryLock(), true);
  ms[1].unlock();
  ms[2].unlock();
  assert.throws(() => new Mutex(sab, 2), { code: 'ERR_ATOMICS_INVALID_ARGUMENT' });
  assert.throws(() => new Mutex(sab, 16), { code: 'ERR_OUT_OF_RANGE' });
});
