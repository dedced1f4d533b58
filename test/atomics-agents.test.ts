/**
 * Engine-level Atomics between the host and agents (issue 4): the futex
 * (wait / notify / waitAsync) across isolates on their own threads, timeouts
 * on the agents' clock, [[CanBlock]], terminate and interrupt while blocked,
 * and the per-agent wait counters.
 *
 * "Exact notify counts": Atomics.notify returns how many waiters it woke and
 * every Atomics.wait that returns "ok" was woken by exactly one such count, so
 * across a run the sum of notify results equals the number of "ok" waits, and
 * both equal the agents' `woken` counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import type { AtomicsWaitStats } from '../src/index.js';
import { Barrier, Condition, Mutex, Semaphore, SharedQueue, type SharedHandle } from '../src/atomics/index.js';
import { evalIn, runAgents, spawnAtomicsAgent, type AgentFn } from './support/atomics-harness.js';
import { delay, until } from './support/waits.js';

const run = promisify(execFile);
// A hang (lost wake-up, an interrupt that never lands) fails the test instead of stalling the run.
const T = { timeout: 45_000 };
const distIndexUrl = new URL('../dist/src/index.js', import.meta.url).href;
const distAtomicsUrl = new URL('../dist/src/atomics/index.js', import.meta.url).href;

function i32(length = 4): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

function delta(after: AtomicsWaitStats, before: AtomicsWaitStats): Omit<AtomicsWaitStats, 'blockedMs'> {
  return {
    waits: after.waits - before.waits,
    woken: after.woken - before.woken,
    timedOut: after.timedOut - before.timedOut,
    notEqual: after.notEqual - before.notEqual,
    interrupted: after.interrupted - before.interrupted,
  };
}

// ------------------------------------------------------------------ Atomics.add

type AddData = { kind: 'int32' | 'bigint64' | 'uint16'; buf: SharedArrayBuffer; m: number; ctl: Int32Array };

// Each agent: M times Atomics.add on [0], Atomics.sub on [1], and a
// compareExchange increment loop on [2]. ctl[0] counts agents ready, ctl[1]
// is the host's "go" (so the host's own adds overlap with the agents').
const adder: AgentFn<AddData, number> = (_A, d) => {
  const a: any = d.kind === 'int32' ? new Int32Array(d.buf) : d.kind === 'uint16' ? new Uint16Array(d.buf) : new BigInt64Array(d.buf);
  const one: any = d.kind === 'bigint64' ? 1n : 1;
  Atomics.add(d.ctl, 0, 1);
  Atomics.notify(d.ctl, 0);
  while (Atomics.load(d.ctl, 1) === 0) Atomics.wait(d.ctl, 1, 0);
  let retries = 0;
  for (let i = 0; i < d.m; i++) {
    Atomics.add(a, 0, one);
    Atomics.sub(a, 1, one);
    for (let v: any = Atomics.load(a, 2); ; retries++) {
      const prev = Atomics.compareExchange(a, 2, v, d.kind === 'uint16' ? (v + 1) & 0xffff : v + one);
      if (prev === v) break;
      v = prev;
    }
  }
  return retries;
};

test('N agents x M Atomics.add / sub / CAS-increment sum exactly, the host joining in (fast-check)', T, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1_000, max: 40_000 }),
      fc.constantFrom<AddData['kind']>('int32', 'bigint64', 'uint16'),
      async (n, m, kind) => {
        const buf = new SharedArrayBuffer(3 * 8);
        const ctl = i32(2);
        const running = runAgents(n, adder, { kind, buf, m, ctl });
        await until(() => Atomics.load(ctl, 0) === n, 10_000, 'agents ready');
        Atomics.store(ctl, 1, 1);
        Atomics.notify(ctl, 1);
        adder(undefined as never, { kind, buf, m, ctl }, n); // the host's own M of each, overlapping
        await running;
        const total = (n + 1) * m;
        if (kind === 'bigint64') {
          assert.deepEqual([...new BigInt64Array(buf)], [BigInt(total), BigInt(-total), BigInt(total)]);
        } else if (kind === 'int32') {
          assert.deepEqual([...new Int32Array(buf, 0, 3)], [total, -total, total]);
        } else {
          const w = total & 0xffff;
          assert.deepEqual([...new Uint16Array(buf, 0, 3)], [w, (0x10000 - w) & 0xffff, w]);
        }
      },
    ),
    { numRuns: 12 },
  );
});

// ------------------------------------------------------------------ ping-pong

interface PongCounts {
  ok: number;
  notEqual: number;
  timedOut: number;
  notified: number;
}

// Side `me` (0 or 1) of a turn-taking ping-pong on s[0]: it is my turn when
// s[0] % 2 === me; I bump s[0] and notify. Plain function (no A), so the host
// and worker_threads run the same code.
function pingPongSide(s: Int32Array, me: number, rounds: number, timeout: number): PongCounts {
  const c = { ok: 0, notEqual: 0, timedOut: 0, notified: 0 };
  for (let r = 0; r < rounds; r++) {
    const mine = 2 * r + me;
    for (let v; (v = Atomics.load(s, 0)) !== mine; ) {
      const res = Atomics.wait(s, 0, v, timeout);
      if (res === 'ok') c.ok++;
      else if (res === 'not-equal') c.notEqual++;
      else c.timedOut++;
    }
    Atomics.store(s, 0, mine + 1);
    c.notified += Atomics.notify(s, 0);
  }
  return c;
}

async function pingPongSideAsync(s: Int32Array, me: number, rounds: number, timeout: number): Promise<PongCounts> {
  const c = { ok: 0, notEqual: 0, timedOut: 0, notified: 0 };
  for (let r = 0; r < rounds; r++) {
    const mine = 2 * r + me;
    for (let v; (v = Atomics.load(s, 0)) !== mine; ) {
      const w = (Atomics as any).waitAsync(s, 0, v, timeout);
      const res = w.async ? await w.value : w.value;
      if (res === 'ok') c.ok++;
      else if (res === 'not-equal') c.notEqual++;
      else c.timedOut++;
    }
    Atomics.store(s, 0, mine + 1);
    c.notified += Atomics.notify(s, 0);
  }
  return c;
}

function checkPingPong(s: Int32Array, rounds: number, sides: PongCounts[]): void {
  assert.equal(Atomics.load(s, 0), 2 * rounds);
  const sum = (k: keyof PongCounts) => sides.reduce((t, c) => t + c[k], 0);
  assert.equal(sum('timedOut'), 0, 'a side timed out waiting for its turn (lost wake-up)');
  assert.equal(sum('notified'), sum('ok'), 'notify counts and ok wake-ups disagree');
}

const ROUNDS = 3000;

test('ping-pong with wait/notify between two agents: exact notify counts, matching atomicsStats', T, async () => {
  const s = i32(1);
  const a = await spawnAtomicsAgent({ data: s });
  const b = await spawnAtomicsAgent({ data: s });
  const before = [a.atomicsStats(), b.atomicsStats()];
  const src = String(pingPongSide);
  const sides = await Promise.all([a, b].map((agent, me) => agent.evaluate<PongCounts>(`(${src})(d, ${me}, ${ROUNDS}, 10000)`)));
  checkPingPong(s, ROUNDS, sides);
  for (const [i, agent] of [a, b].entries()) {
    const c = sides[i]!;
    assert.deepEqual(delta(agent.atomicsStats(), before[i]!), { waits: c.ok, woken: c.ok, timedOut: 0, notEqual: c.notEqual, interrupted: 0 });
  }
  assert.ok(sides[0]!.ok + sides[1]!.ok > 0, 'nobody ever slept: not a wait/notify test');
});

test('ping-pong host main thread (blocking Atomics.wait) <-> agent', T, async () => {
  const s = i32(1);
  const agent = await spawnAtomicsAgent({ data: s });
  const remote = agent.evaluate<PongCounts>(`(${String(pingPongSide)})(d, 1, ${ROUNDS}, 10000)`);
  // The evaluation was posted: the agent starts on its own thread while the host blocks here.
  const host = pingPongSide(s, 0, ROUNDS, 10_000);
  checkPingPong(s, ROUNDS, [host, await remote]);
});

test('ping-pong host (waitAsync) <-> canBlock:false agent (waitAsync) <-> ...: both sides async', T, async () => {
  const s = i32(1);
  const agent = await spawnAtomicsAgent({ data: s, canBlock: false });
  const rounds = 1000;
  const remote = agent.evaluate<PongCounts>(`(${String(pingPongSideAsync)})(d, 1, ${rounds}, 10000)`);
  const host = await pingPongSideAsync(s, 0, rounds, 10_000);
  checkPingPong(s, rounds, [host, await remote]);
  assert.equal(agent.atomicsStats().waits, 0, 'waitAsync is not a blocking wait');
});

test('ping-pong agent <-> worker_thread: the futex is shared with Node workers', T, async () => {
  // The one place a worker_thread is needed: interop of our isolates' waits
  // with those of Node's own threads, in the same process.
  const s = i32(1);
  const agent = await spawnAtomicsAgent({ data: s });
  const worker = new Worker(
    `const { parentPort, workerData: w } = require('node:worker_threads');
     parentPort.postMessage((${String(pingPongSide)})(w.s, 1, w.rounds, 10000));`,
    { eval: true, workerData: { s, rounds: ROUNDS }, execArgv: [] },
  );
  try {
    const fromWorker = new Promise<PongCounts>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const fromAgent = agent.evaluate<PongCounts>(`(${String(pingPongSide)})(d, 0, ${ROUNDS}, 10000)`);
    checkPingPong(s, ROUNDS, await Promise.all([fromAgent, fromWorker]));
  } finally {
    await worker.terminate();
  }
});

test('notify(count) wakes exactly that many of K blocked agents; notify elsewhere wakes none', T, async () => {
  const K = 4;
  const s = i32(4); // [0] wait word, [1] agents about to wait, [2] wait word nobody uses
  const agents = await Promise.all(Array.from({ length: K }, () => spawnAtomicsAgent({ data: s })));
  const results = agents.map((a) =>
    evalIn(a, (_A, d: Int32Array) => {
      Atomics.add(d, 1, 1);
      return Atomics.wait(d, 0, 0, 20_000);
    }),
  );
  await until(() => Atomics.load(s, 1) === K, 10_000, 'agents about to wait');
  assert.equal(Atomics.notify(s, 2), 0, 'a different index wakes nobody');
  // Wake them 1, then 2, then the rest; a notify racing an agent that has
  // not reached its wait yet may return less, so the remainder is re-notified.
  let woken = 0;
  for (const count of [1, 2, Infinity]) {
    const target = Math.min(K, woken + count);
    while (woken < target) {
      const n = Atomics.notify(s, 0, target - woken);
      assert.ok(n <= target - woken, `notify(${target - woken}) returned ${n}`);
      woken += n;
      if (woken < target) await delay(1);
    }
  }
  assert.deepEqual(await Promise.all(results), new Array(K).fill('ok'));
  assert.equal(woken, K);
  assert.deepEqual(agents.map((a) => a.atomicsStats().woken), new Array(K).fill(1));
  assert.equal(Atomics.notify(s, 0), 0, 'nobody left');
});

// ------------------------------------------------------------------ timeouts

test('Atomics.wait / waitAsync / library timeouts last at least the timeout on the agent clock (performance.now)', T, async () => {
  const s = i32(1);
  const held = new Mutex();
  const agent = await spawnAtomicsAgent({ data: { s, m: held } });
  held.lock();
  try {
    const out = await evalIn(agent, async (A, d: { s: Int32Array; m: any }) => {
      const m = A.Mutex.from(d.m);
      const rows: [string, number, unknown, number][] = [];
      for (const t of [0, 0.5, 1, 5, 20, 50]) {
        const t0 = performance.now();
        const r = Atomics.wait(d.s, 0, 0, t);
        rows.push(['wait', t, r, performance.now() - t0]);
      }
      for (const t of [0, 1, 5, 20]) {
        const t0 = performance.now();
        const w = (Atomics as any).waitAsync(d.s, 0, 0, t);
        const r = w.async ? await w.value : w.value;
        rows.push(['waitAsync', t, r, performance.now() - t0]);
      }
      for (const t of [1, 10]) {
        let t0 = performance.now();
        rows.push(['Mutex.lock', t, m.lock(t), performance.now() - t0]);
        t0 = performance.now();
        rows.push(['Mutex.lockAsync', t, await m.lockAsync(t), performance.now() - t0]);
      }
      return rows;
    });
    for (const [what, t, r, elapsed] of out) {
      assert.equal(r, what.startsWith('Mutex') ? false : 'timed-out', `${what}(${t})`);
      assert.ok(elapsed >= t, `${what}(${t}) returned after ${elapsed} ms`);
    }
  } finally {
    held.unlock();
  }
  assert.ok(agent.atomicsStats().timedOut >= 6);
});

// ------------------------------------------------------------------ argument errors

test('Atomics.wait on a non-shared buffer throws TypeError (agents and host alike)', T, async () => {
  const probe = () => {
    const out: string[] = [];
    const cases: (() => unknown)[] = [
      () => Atomics.wait(new Int32Array(4), 0, 0, 0), // not shared
      () => (Atomics as any).waitAsync(new Int32Array(4), 0, 0, 0),
      () => Atomics.wait(new Int16Array(new SharedArrayBuffer(8)) as unknown as Int32Array, 0, 0, 0), // not Int32/BigInt64
      () => Atomics.wait(new Int32Array(new SharedArrayBuffer(8)), 2, 0, 0), // index out of range
      () => Atomics.wait(new BigInt64Array(new SharedArrayBuffer(8)), 0, 1n, 0), // allowed
      () => Atomics.notify(new Int32Array(4), 0), // notify on non-shared memory: 0
    ];
    for (const f of cases) {
      try {
        out.push(String(f()));
      } catch (e) {
        out.push((e as Error).name);
      }
    }
    return out;
  };
  const expected = ['TypeError', 'TypeError', 'TypeError', 'RangeError', 'not-equal', '0'];
  assert.deepEqual(probe(), expected, 'host');
  const agent = await spawnAtomicsAgent();
  assert.deepEqual(await evalIn(agent, probe), expected, 'agent');
  const noBlock = await spawnAtomicsAgent({ canBlock: false });
  // canBlock:false: the argument checks come first, then the [[CanBlock]] TypeError.
  assert.deepEqual(await evalIn(noBlock, probe), ['TypeError', 'TypeError', 'TypeError', 'RangeError', 'TypeError', '0']);
});

// ------------------------------------------------------------------ canBlock: false

test('canBlock:false: Atomics.wait throws TypeError, waitAsync resolves on notify and on timeout', T, async () => {
  const s = i32(2);
  const agent = await spawnAtomicsAgent({ data: s, canBlock: false });
  const thrown = await evalIn(agent, (_A, d: Int32Array) =>
    [[0, 0], [1, undefined], [0, 0]].map(([v, t]) => {
      try {
        return Atomics.wait(d, 0, v as number, t);
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    }),
  );
  for (const t of thrown) assert.match(String(t), /^TypeError/, 'even not-equal or timeout 0 throws');

  const immediate = await evalIn(agent, (_A, d: Int32Array) => {
    const a = (Atomics as any).waitAsync(d, 0, 1);
    const b = (Atomics as any).waitAsync(d, 0, 0, 0);
    return [a.async, a.value, b.async, b.value];
  });
  assert.deepEqual(immediate, [false, 'not-equal', false, 'timed-out']);

  const timed = await evalIn(agent, async (_A, d: Int32Array) => {
    const t0 = performance.now();
    const w = (Atomics as any).waitAsync(d, 0, 0, 30);
    return [w.async, await w.value, performance.now() - t0];
  });
  assert.equal(timed[0], true);
  assert.equal(timed[1], 'timed-out');
  assert.ok((timed[2] as number) >= 30);

  const notified = evalIn(agent, async (_A, d: Int32Array) => {
    Atomics.store(d, 1, 1);
    return (Atomics as any).waitAsync(d, 0, 0).value;
  });
  await until(() => Atomics.load(s, 1) === 1);
  let n = 0;
  await until(() => (n = Atomics.notify(s, 0)) === 1, 10_000, 'the async waiter is registered');
  assert.equal(n, 1);
  assert.equal(await notified, 'ok');
  assert.deepEqual(delta(agent.atomicsStats(), { waits: 0, woken: 0, timedOut: 0, notEqual: 0, interrupted: 0, blockedMs: 0 }), {
    waits: 0, woken: 0, timedOut: 0, notEqual: 0, interrupted: 0,
  });
});

test('canBlock:false agent: library async forms are woken by the host and by a blocking agent', T, async () => {
  const m = new Mutex();
  const c = new Condition();
  const sem = new Semaphore(0);
  const flag = i32(2);
  const async = await spawnAtomicsAgent({ data: { m, c, sem, flag }, canBlock: false });
  const blocking = await spawnAtomicsAgent({ data: { sem } });
  m.lock();
  const result = evalIn(async, async (A, d: { m: SharedHandle; c: SharedHandle; sem: SharedHandle; flag: Int32Array }) => {
    const m = A.Mutex.from(d.m);
    const c = A.Condition.from(d.c);
    const sem = A.Semaphore.from(d.sem);
    const out: unknown[] = [];
    let blocked: unknown;
    try {
      m.lock();
    } catch (e) {
      blocked = (e as { code?: string }).code;
    }
    out.push(blocked);
    out.push(await m.lockAsync(10_000)); // released by the host
    Atomics.store(d.flag, 0, 1);
    while (Atomics.load(d.flag, 1) === 0) await c.waitAsync(m, 10_000); // notified by the host
    out.push(Atomics.load(d.flag, 1));
    m.unlock();
    out.push(await sem.acquireAsync(10_000), await sem.acquireAsync(10_000)); // released by the other agent
    return out;
  });
  await delay(20);
  m.unlock(); // wakes the pending lockAsync
  await until(() => Atomics.load(flag, 0) === 1);
  m.lock();
  Atomics.store(flag, 1, 7);
  m.unlock();
  c.notifyAll();
  await evalIn(blocking, (A, d) => {
    A.Semaphore.from(d.sem).release(2);
  });
  assert.deepEqual(await result, ['ERR_CANNOT_BLOCK', true, 7, true, true]);
  assert.equal(sem.value, 0);
});

test('a pending waitAsync keeps the agent working; it resolves when the host notifies later', T, async () => {
  for (const canBlock of [true, false]) {
    const s = i32(1);
    const agent = await spawnAtomicsAgent({ data: s, canBlock });
    const messages: unknown[] = [];
    agent.on('message', (v) => messages.push(v));
    await evalIn(agent, (_A, d: Int32Array) => {
      const post = (globalThis as any).postMessage as (v: unknown) => void; // the agent's global
      (Atomics as any).waitAsync(d, 0, 0).value.then((v: string) => post(['resolved', v]));
      setTimeout(() => post('timer ran meanwhile'), 10);
      return 'started';
    });
    // The agent is not blocked: it answers and runs its timers while the wait is pending.
    assert.equal(await agent.evaluate('6 * 7'), 42);
    await until(() => messages.length === 1);
    await delay(50);
    assert.deepEqual(messages, ['timer ran meanwhile'], `canBlock ${canBlock}: nothing resolved yet`);
    assert.equal(agent.interrupt(), false, 'an async wait is not a blocked Atomics.wait');
    assert.equal(Atomics.notify(s, 0), 1);
    await until(() => messages.length === 2);
    assert.deepEqual(messages[1], ['resolved', 'ok']);
    assert.equal(agent.state, 'running');
  }
});

// ------------------------------------------------------------------ terminate

test('terminate() while blocked in Atomics.wait: the agent exits, its waiter is gone, others still wake', T, async () => {
  const s = i32(2);
  const victim = await spawnAtomicsAgent({ data: s });
  const other = await spawnAtomicsAgent({ data: s });
  const blockForever = (_A: unknown, d: Int32Array) => {
    Atomics.add(d, 1, 1);
    return Atomics.wait(d, 0, 0);
  };
  const v = evalIn(victim, blockForever);
  const o = evalIn(other, blockForever);
  await until(() => Atomics.load(s, 1) === 2);
  await delay(20); // most likely both are in Atomics.wait by now (the assertions hold either way)
  const exit = await victim.terminate();
  assert.deepEqual(exit, { code: 1, reason: 'terminated' });
  await assert.rejects(v, { code: 'ERR_AGENT_TERMINATED' });
  // If the terminated agent were still queued on the futex, notify(1) would
  // "wake" it and leave the live agent blocked.
  let n = 0;
  await until(() => (n += Atomics.notify(s, 0, 1)) >= 1, 10_000, 'the live waiter woken');
  assert.equal(n, 1);
  assert.equal(await o, 'ok');
  assert.equal(Atomics.notify(s, 0), 0);
});

test('terminate() while a waitAsync is pending: the async waiter is dropped, others still wake', T, async () => {
  const s = i32(2);
  const victim = await spawnAtomicsAgent({ data: s, canBlock: false });
  const other = await spawnAtomicsAgent({ data: s, canBlock: false });
  const waitAsyncForever = (_A: unknown, d: Int32Array) => {
    Atomics.add(d, 1, 1);
    return (Atomics as any).waitAsync(d, 0, 0).value;
  };
  const v = evalIn(victim, waitAsyncForever);
  const o = evalIn(other, waitAsyncForever);
  await until(() => Atomics.load(s, 1) === 2);
  await delay(10);
  assert.deepEqual(await victim.terminate(), { code: 1, reason: 'terminated' });
  await assert.rejects(v, { code: 'ERR_AGENT_TERMINATED' });
  let n = 0;
  await until(() => (n += Atomics.notify(s, 0, 1)) >= 1, 10_000, 'the live async waiter woken');
  assert.equal(n, 1);
  assert.equal(await o, 'ok');
  assert.equal(Atomics.notify(s, 0), 0, 'the terminated agent left no waiter behind');
});

test('terminate() while blocked in Mutex.lock / SharedQueue.pop; the objects stay usable', T, async () => {
  const m = new Mutex();
  const q = new SharedQueue({ capacity: 2 });
  const a = await spawnAtomicsAgent({ data: { m, q } });
  const b = await spawnAtomicsAgent({ data: { m, q } });
  m.lock();
  const pa = evalIn(a, (A, d) => A.Mutex.from(d.m).lock());
  const pb = evalIn(b, (A, d) => A.SharedQueue.from(d.q).pop());
  pa.catch(() => {});
  pb.catch(() => {});
  await delay(30);
  await Promise.all([a.terminate(), b.terminate()]);
  await assert.rejects(pa, { code: 'ERR_AGENT_TERMINATED' });
  await assert.rejects(pb, { code: 'ERR_AGENT_TERMINATED' });
  m.unlock();
  assert.equal(m.lock(1000), true);
  m.unlock();
  q.push(1);
  assert.equal(q.pop(1000), 1);
});

// ------------------------------------------------------------------ interrupt

test('interrupt() wakes a blocked Atomics.wait with ERR_AGENT_INTERRUPTED; the agent keeps running', T, async () => {
  const s = i32(2);
  const agent = await spawnAtomicsAgent({ data: s });
  assert.equal(agent.interrupt(), false, 'not blocked: nothing to interrupt');
  const before = agent.atomicsStats();
  const caught = evalIn(agent, (_A, d: Int32Array) => {
    const t0 = performance.now();
    try {
      return ['returned', Atomics.wait(d, 0, 0, 60_000)];
    } catch (e) {
      const err = e as Error & { code?: string };
      return ['threw', err.name, err.code, err instanceof TypeError, err instanceof RangeError, performance.now() - t0 < 60_000];
    }
  });
  await until(() => agent.interrupt(), 10_000, 'interrupt() found the agent blocked');
  assert.deepEqual(await caught, ['threw', 'Error', 'ERR_AGENT_INTERRUPTED', false, false, true]);
  assert.equal(await agent.evaluate('"still here"'), 'still here');
  // Not sticky: the next wait times out / is notified normally.
  assert.equal(agent.interrupt(), false);
  assert.equal(await evalIn(agent, (_A, d: Int32Array) => Atomics.wait(d, 0, 0, 20)), 'timed-out');
  const woken = evalIn(agent, (_A, d: Int32Array) => Atomics.wait(d, 0, 0, 60_000));
  await until(() => Atomics.notify(s, 0) === 1);
  assert.equal(await woken, 'ok');
  assert.deepEqual(delta(agent.atomicsStats(), before), { waits: 3, woken: 1, timedOut: 1, notEqual: 0, interrupted: 1 });
  // Uncaught, the interrupt error ends only that evaluation, not the agent.
  const uncaught = evalIn(agent, (_A, d: Int32Array) => Atomics.wait(d, 0, 0));
  await until(() => agent.interrupt());
  await assert.rejects(uncaught, { code: 'ERR_AGENT_INTERRUPTED' });
  assert.equal(await agent.evaluate('1 + 1'), 2);
  await agent.terminate();
  assert.equal(agent.interrupt(), false, 'after exit');
});

test('interrupt() inside the library: every object is left consistent and usable', T, async () => {
  const m = new Mutex();
  const cond = new Condition();
  const b = new Barrier(2);
  const sem = new Semaphore(0);
  const q = new SharedQueue({ capacity: 1 });
  const agent = await spawnAtomicsAgent({ data: { m, cond, b, sem, q } });
  const attempt = async (what: string) => {
    const p = evalIn(
      agent,
      (A, d, what: string) => {
        const m = A.Mutex.from(d.m);
        try {
          if (what === 'Mutex.lock') m.lock();
          else if (what === 'Condition.wait') {
            m.lock();
            A.Condition.from(d.cond).wait(m);
          } else if (what === 'Barrier.arriveAndWait') A.Barrier.from(d.b).arriveAndWait();
          else if (what === 'Semaphore.acquire') A.Semaphore.from(d.sem).acquire();
          else if (what === 'SharedQueue.pop') A.SharedQueue.from(d.q).pop();
          return ['returned'];
        } catch (e) {
          const held = what === 'Condition.wait' ? m.locked : undefined;
          if (held) m.unlock(); // Condition.wait re-locks before the error surfaces
          return ['threw', (e as { code?: string }).code, held];
        }
      },
      what,
    );
    await until(() => agent.interrupt(), 10_000, `${what} blocked`);
    return p;
  };

  m.lock();
  assert.deepEqual(await attempt('Mutex.lock'), ['threw', 'ERR_AGENT_INTERRUPTED', undefined]);
  m.unlock();
  assert.equal(await evalIn(agent, (A, d) => { const x = A.Mutex.from(d.m); const ok = x.lock(1000); x.unlock(); return ok; }), true);

  assert.deepEqual(await attempt('Condition.wait'), ['threw', 'ERR_AGENT_INTERRUPTED', true]);
  assert.equal(m.locked, false);

  assert.deepEqual(await attempt('Barrier.arriveAndWait'), ['threw', 'ERR_AGENT_INTERRUPTED', undefined]);
  assert.equal(b.arrived, 0, 'the interrupted arrival was withdrawn');
  assert.equal(b.generation, 0);

  assert.deepEqual(await attempt('Semaphore.acquire'), ['threw', 'ERR_AGENT_INTERRUPTED', undefined]);
  assert.equal(sem.value, 0);

  assert.deepEqual(await attempt('SharedQueue.pop'), ['threw', 'ERR_AGENT_INTERRUPTED', undefined]);
  assert.equal(q.size, 0);
  assert.equal(m.locked, false);
  // All still work across host and agent.
  const passing = evalIn(agent, (A, d) => [A.Barrier.from(d.b).arriveAndWait(10_000), A.Semaphore.from(d.sem).acquire(10_000), A.SharedQueue.from(d.q).pop(10_000)]);
  assert.equal(b.arriveAndWait(10_000) !== null, true);
  sem.release();
  q.push(5);
  const [leader, acquired, popped] = await passing;
  assert.equal(typeof leader, 'boolean');
  assert.deepEqual([acquired, popped], [true, 5]);
  assert.equal(b.generation, 1);
});

test('interrupt() does not touch a pending waitAsync (canBlock:false agent)', T, async () => {
  const s = i32(1);
  const agent = await spawnAtomicsAgent({ data: s, canBlock: false });
  const pending = evalIn(agent, (_A, d: Int32Array) => (Atomics as any).waitAsync(d, 0, 0, 60_000).value);
  await delay(20);
  assert.equal(agent.interrupt(), false);
  await until(() => Atomics.notify(s, 0) === 1);
  assert.equal(await pending, 'ok');
  assert.equal(agent.atomicsStats().interrupted, 0);
});

// ------------------------------------------------------------------ atomicsStats

test('atomicsStats() counts exactly what happened', T, async () => {
  const s = i32(2);
  const agent = await spawnAtomicsAgent({ data: s });
  assert.deepEqual(agent.atomicsStats(), { waits: 0, woken: 0, timedOut: 0, notEqual: 0, interrupted: 0, blockedMs: 0 });
  const script = evalIn(agent, (_A, d: Int32Array) => {
    for (let i = 0; i < 3; i++) Atomics.wait(d, 0, 1); // not-equal x3
    Atomics.wait(d, 0, 0, 5); // timed out x2
    Atomics.wait(d, 0, 0, 5);
    Atomics.store(d, 1, 1);
    const woken = Atomics.wait(d, 0, 0); // woken by the host
    Atomics.store(d, 1, 2);
    let interrupted = '';
    try {
      Atomics.wait(d, 0, 0);
    } catch (e) {
      interrupted = (e as { code: string }).code;
    }
    return [woken, interrupted];
  });
  await until(() => Atomics.load(s, 1) === 1);
  await until(() => Atomics.notify(s, 0) === 1);
  await until(() => Atomics.load(s, 1) === 2);
  await until(() => agent.interrupt());
  assert.deepEqual(await script, ['ok', 'ERR_AGENT_INTERRUPTED']);
  const st = agent.atomicsStats();
  assert.deepEqual({ ...st, blockedMs: 0 }, { waits: 4, woken: 1, timedOut: 2, notEqual: 3, interrupted: 1, blockedMs: 0 });
  assert.equal(st.waits, st.woken + st.timedOut + st.interrupted);
  assert.ok(st.blockedMs >= 10, `blockedMs ${st.blockedMs} covers the two 5 ms timeouts`);
  await agent.terminate();
  assert.deepEqual(agent.atomicsStats(), st, 'still readable after exit');
});

// ------------------------------------------------------------------ host event loop

test("the host's waitAsync helper keeps Node alive until an (unref'd) agent notifies it", T, async () => {
  // Child processes: the agent is unref()'d, so only a pending wait could keep
  // the process alive. A bare Atomics.waitAsync does not (nodejs/node#44729);
  // agentcluster/atomics' waitAsync does, and lets go once it resolved.
  const script = (wait: string) => [
    '--input-type=module',
    '-e',
    `import { Agent } from ${JSON.stringify(distIndexUrl)};
     import * as A from ${JSON.stringify(distAtomicsUrl)};
     const i32 = new Int32Array(new SharedArrayBuffer(4));
     const agent = new Agent({ source: 'Atomics.wait(agentData, 0, 0, 200); Atomics.store(agentData, 0, 1); Atomics.notify(agentData, 0);', data: i32 });
     agent.unref();
     ${wait}.then((v) => console.log('resolved', v, Atomics.load(i32, 0)));`,
  ];
  const control = await run(process.execPath, script('Atomics.waitAsync(i32, 0, 0).value'), { timeout: 20_000 });
  assert.equal(control.stdout, '', 'control: the process exited with the bare waitAsync pending');
  const helper = await run(process.execPath, script('A.waitAsync(i32, 0, 0)'), { timeout: 20_000 });
  assert.equal(helper.stdout.trim(), 'resolved ok 1');
});

test("the agent's Atomics.wait (a counting wrapper on every line) looks like V8's own", T, async () => {
  const agent = await spawnAtomicsAgent({ data: i32(1) });
  const shape = await evalIn(agent, (_A, d: Int32Array) => {
    const desc = Object.getOwnPropertyDescriptor(Atomics, 'wait')!;
    let constructs = true;
    try {
      new (Atomics.wait as unknown as new () => unknown)();
    } catch (e) {
      constructs = !(e instanceof TypeError);
    }
    let badIndex = '';
    try {
      Atomics.wait(d, 5, 0, 0);
    } catch (e) {
      badIndex = (e as Error).constructor.name;
    }
    return [Atomics.wait.name, Atomics.wait.length, desc.writable, desc.enumerable, desc.configurable, 'prototype' in Atomics.wait, constructs, badIndex, Atomics.wait(d, 0, 0, 0), String(Atomics.wait).includes('[native code]')];
  });
  assert.deepEqual(shape, ['wait', 4, true, false, true, false, false, 'RangeError', 'timed-out', true]);
  assert.deepEqual({ ...agent.atomicsStats(), blockedMs: 0 }, { waits: 1, woken: 0, timedOut: 1, notEqual: 0, interrupted: 0, blockedMs: 0 }, 'a RangeError before blocking is not a wait');
  await agent.terminate();
});
