import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Condition, Mutex, type SharedHandle } from '../src/atomics/index.js';
import { runAgents, startOnAgent, type AgentFn } from './support/atomics-harness.js';
import { delay } from './support/waits.js';

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

// Two agents hand a turn back and forth; state[0] is whose turn it is (plain
// memory, guarded by the mutex). A single lost wake-up deadlocks this.
const pingPong: AgentFn<PingPong, number> = (A, d, me) => {
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

test('ping-pong between two agents: no lost wake-ups (fast-check over modes)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.boolean(), fc.integer({ min: 200, max: 1500 }), async (timed, all, rounds) => {
      const state = new Int32Array(new SharedArrayBuffer(8));
      await runAgents(2, pingPong, { m: new Mutex(), c: new Condition(), state, rounds, timed, all });
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
  const waiter: AgentFn<GoData, string> = (A, d) => {
    const mx = A.Mutex.from(d.m);
    const cv = A.Condition.from(d.c);
    mx.lock();
    d.s[1]++;
    while (d.s[0] === 0) cv.wait(mx);
    mx.unlock();
    return 'ok';
  };
  const done = runAgents(3, waiter, { m, c, s });
  for (;;) {
    m.lock();
    const n = s[1];
    m.unlock();
    if (n === 3) break;
    await delay(1);
  }
  m.lock();
  s[0] = 1;
  m.unlock();
  c.notifyAll();
  assert.deepEqual(await done, ['ok', 'ok', 'ok']);
});

test('waitAsync on the host main thread is woken by an agent', async () => {
  const m = new Mutex();
  const c = new Condition();
  const s = new Int32Array(new SharedArrayBuffer(8));
  const setter: AgentFn<GoData, void> = (A, d) => {
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
  const done = startOnAgent(0, setter, { m, c, s });
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

type BoundedData = {
  m: SharedHandle;
  notEmpty: SharedHandle;
  notFull: SharedHandle;
  s: Int32Array; // [0] count, [1] head, [2] items consumed
  ring: Int32Array;
  producers: number;
  perProducer: number;
  useAsync: boolean[];
  timed: boolean;
};

// A bounded buffer built from one Mutex and two Conditions (notifyOne only):
// agents [0, producers) produce, the others consume until every item is
// taken. Blocking agents use wait() or waitAsync(); canBlock:false agents
// always waitAsync(). A lost wake-up deadlocks (the harness times out).
const boundedBuffer: AgentFn<BoundedData, number[]> = async (A, d, me) => {
  const m = A.Mutex.from(d.m);
  const notEmpty = A.Condition.from(d.notEmpty);
  const notFull = A.Condition.from(d.notFull);
  const useAsync = !A.canBlock() || d.useAsync[me % d.useAsync.length];
  const timeout = d.timed ? 0.5 : undefined;
  const cap = d.ring.length;
  const total = d.producers * d.perProducer;
  const lock = async () => { if (useAsync) await m.lockAsync(); else m.lock(); };
  const wait = async (c: typeof notEmpty) => { if (useAsync) await c.waitAsync(m, timeout); else c.wait(m, timeout); };
  if (me < d.producers) {
    for (let seq = 0; seq < d.perProducer; seq++) {
      await lock();
      while (d.s[0] === cap) await wait(notFull);
      d.ring[(d.s[1] + d.s[0]) % cap] = me * 1_000_000 + seq;
      d.s[0]++;
      m.unlock();
      notEmpty.notifyOne();
    }
    return [];
  }
  const got: number[] = [];
  for (;;) {
    await lock();
    while (d.s[0] === 0 && d.s[2] < total) await wait(notEmpty);
    if (d.s[0] === 0) {
      m.unlock();
      notEmpty.notifyAll(); // everything is consumed: let the other consumers see it
      return got;
    }
    got.push(d.ring[d.s[1]]);
    d.s[1] = (d.s[1] + 1) % cap;
    d.s[0]--;
    d.s[2]++;
    const finished = d.s[2] === total;
    m.unlock();
    notFull.notifyOne();
    if (finished) notEmpty.notifyAll();
  }
};

test('bounded buffer on Mutex + two Conditions: FIFO per producer, nothing lost (fast-check, canBlock:false agents too)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
      fc.integer({ min: 100, max: 800 }),
      async (producers, consumers, cap, useAsync, canBlock, timed, perProducer) => {
        const s = new Int32Array(new SharedArrayBuffer(12));
        const ring = new Int32Array(new SharedArrayBuffer(4 * cap));
        const results = await runAgents(producers + consumers, boundedBuffer, {
          m: new Mutex(), notEmpty: new Condition(), notFull: new Condition(), s, ring, producers, perProducer, useAsync, timed,
        }, { canBlock });
        const perConsumer = results.slice(producers);
        for (const got of perConsumer) {
          const last = new Map<number, number>();
          for (const v of got) {
            const p = Math.floor(v / 1_000_000);
            assert.ok((last.get(p) ?? -1) < v % 1_000_000, 'FIFO per producer');
            last.set(p, v % 1_000_000);
          }
        }
        const all = perConsumer.flat().sort((a, b) => a - b);
        const expected = [];
        for (let p = 0; p < producers; p++) for (let q = 0; q < perProducer; q++) expected.push(p * 1_000_000 + q);
        assert.deepEqual(all, expected);
        assert.equal(s[0], 0);
      },
    ),
    { numRuns: 10 },
  );
});
