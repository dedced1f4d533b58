import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Condition, Mutex, type SharedHandle } from '../src/atomics/index.js';
import { runThreads, sleep, startThread, type ThreadFn } from './atomics-harness.test.js';

test('wait(timeout) returns false after at least the timeout and re-holds the mutex', () => {
  const m = new Mutex();
  const c = new Condition();
  m.lock();
  const t0 = performance.now();
  assert.equal(c.wait(m, 30), false);
  assert.ok(performance.now() - t0 >= 30);
  assert.equal(m.locked, true);
  m.unlock();
});

test('waitAsync(timeout) resolves false after at least the timeout and re-holds the mutex', async () => {
  const m = new Mutex();
  const c = new Condition();
  await m.lockAsync();
  const t0 = performance.now();
  assert.equal(await c.waitAsync(m, 30), false);
  assert.ok(performance.now() - t0 >= 30);
  assert.equal(m.locked, true);
  m.unlock();
});

test('wait without holding the mutex throws ERR_MUTEX_NOT_LOCKED', async () => {
  const m = new Mutex();
  const c = new Condition();
  assert.throws(() => c.wait(m, 10), { code: 'ERR_MUTEX_NOT_LOCKED' });
  await assert.rejects(c.waitAsync(m, 10), { code: 'ERR_MUTEX_NOT_LOCKED' });
});

test('notify with no waiters wakes nobody', () => {
  const c = new Condition();
  assert.equal(c.notifyOne(), 0);
  assert.equal(c.notifyAll(), 0);
  assert.equal(c.notify(3), 0);
});

type PingPong = { m: SharedHandle; c: SharedHandle; state: Int32Array; rounds: number; timed: boolean; all: boolean };

// Two threads hand a turn back and forth; state[0] is whose turn it is (plain
// memory, guarded by the mutex). A single lost wake-up deadlocks this.
const pingPong: ThreadFn<PingPong, number> = (A, d, me) => {
  const m = A.Mutex.from(d.m);
  const c = A.Condition.from(d.c);
  let spurious = 0;
  m.lock();
  try {
    for (let r = 0; r < d.rounds; r++) {
      while (d.state[0] !== me) {
        // A timed wait that times out just loops: it must never miss the notify.
        if (!c.wait(m, d.timed ? 1 : undefined)) spurious++;
      }
      d.state[0] = 1 - me;
      d.state[1]++;
      if (d.all) c.notifyAll();
      else c.notifyOne();
    }
  } finally {
    m.unlock();
  }
  return spurious;
};

test('ping-pong between two threads: no lost wake-ups (fast-check over modes)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.boolean(), fc.integer({ min: 200, max: 1500 }), async (timed, all, rounds) => {
      const state = new Int32Array(new SharedArrayBuffer(8));
      await runThreads(2, pingPong, { m: new Mutex(), c: new Condition(), state, rounds, timed, all });
      assert.equal(state[1], 2 * rounds);
    }),
    { numRuns: 8 },
  );
});

type GoData = { m: SharedHandle; c: SharedHandle; s: Int32Array };

test('notifyAll releases every waiter', async () => {
  const m = new Mutex();
  const c = new Condition();
  const s = new Int32Array(new SharedArrayBuffer(8)); // [0] go flag, [1] waiting count
  const waiter: ThreadFn<GoData, string> = (A, d) => {
    const mx = A.Mutex.from(d.m);
    const cv = A.Condition.from(d.c);
    mx.lock();
    d.s[1]++;
    while (d.s[0] === 0) cv.wait(mx);
    mx.unlock();
    return 'ok';
  };
  const done = runThreads(3, waiter, { m, c, s });
  for (;;) {
    m.lock();
    const n = s[1];
    m.unlock();
    if (n === 3) break;
    await sleep(1);
  }
  m.lock();
  s[0] = 1;
  m.unlock();
  c.notifyAll();
  assert.deepEqual(await done, ['ok', 'ok', 'ok']);
});

test('waitAsync on the host main thread is woken by a worker', async () => {
  const m = new Mutex();
  const c = new Condition();
  const s = new Int32Array(new SharedArrayBuffer(8));
  const setter: ThreadFn<GoData, void> = (A, d) => {
    const mx = A.Mutex.from(d.m);
    const cv = A.Condition.from(d.c);
    // Wait (outside the lock) until the main thread is parked in waitAsync.
    while (Atomics.load(d.s, 1) === 0) Atomics.wait(d.s, 1, 0, 5);
    mx.lock();
    d.s[0] = 1;
    mx.unlock();
    cv.notifyOne();
  };
  await m.lockAsync();
  const done = startThread(0, setter, { m, c, s });
  Atomics.store(s, 1, 1);
  let wakeups = 0;
  while (s[0] === 0) {
    await c.waitAsync(m);
    wakeups++;
  }
  m.unlock();
  await done;
  assert.ok(wakeups >= 1);
});

test('condition from() after structuredClone shares the sequence', () => {
  const c = new Condition(new SharedArrayBuffer(8), 4);
  const clone = structuredClone(c);
  assert.deepEqual(Object.keys(clone), ['buffer', 'byteOffset']);
  const d = Condition.from(clone);
  const seq = new Int32Array(c.buffer, 4, 1);
  const before = seq[0];
  d.notifyOne();
  c.notifyAll();
  assert.equal(seq[0], before + 2, 'both views bump the same sequence word');
});
