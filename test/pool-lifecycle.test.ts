// AgentPool: close vs destroy, drain, broadcast, stats, idle agents,
// map() and its window, the host exiting with an idle pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentPool } from '../src/index.js';
import { Gate, jobs, makePool } from './support/pool.js';
import { until } from './support/waits.js';

test('close() finishes queued and running work, refuses new tasks, then stops every agent', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  let exits = 0;
  pool.on('agentExit', () => exits++);
  const runs = Array.from({ length: 20 }, (_, i) => pool.run(20, { name: i % 2 ? 'sleep' : 'spin' }));
  const closed = pool.close();
  await assert.rejects(pool.run(1), { code: 'ERR_POOL_CLOSED' });
  await assert.rejects(pool.broadcast(1), { code: 'ERR_POOL_CLOSED' });
  assert.deepEqual(await Promise.all(runs), Array(20).fill(20));
  await closed;
  assert.equal(exits, 2);
  assert.equal(pool.stats.agents, 0);
  assert.equal(pool.stats.completed, 20);
  assert.equal(await pool.close().then(() => 'again'), 'again', 'close() twice is fine');
});

test('close({ force: true }) rejects the queued tasks and lets the running one finish', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  const gate = new Gate();
  const running = pool.run(gate.sab, { name: 'block' });
  await until(() => gate.started === 1, 10_000, 'the task to start');
  const queued = [pool.run(1), pool.run(2)];
  const closed = pool.close({ force: true });
  for (const run of queued) await assert.rejects(run, { code: 'ERR_POOL_CLOSED' });
  gate.release();
  assert.equal(await running, 'released');
  await closed;
});

test('destroy() stops now: running and queued tasks reject with ERR_POOL_DESTROYED', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  const runs = [pool.run(null, { name: 'forever' }), pool.run(null, { name: 'forever' }), pool.run(1), pool.run(2)];
  const settled = Promise.allSettled(runs);
  await until(() => pool.stats.running === 2, 10_000, 'two tasks running');
  const t0 = performance.now();
  await pool.destroy();
  assert.ok(performance.now() - t0 < 5_000);
  for (const result of await settled) {
    assert.equal(result.status, 'rejected');
    assert.equal((result as PromiseRejectedResult).reason.code, 'ERR_POOL_DESTROYED');
  }
  assert.equal(pool.stats.agents, 0);
  await assert.rejects(pool.run(1), { code: 'ERR_POOL_DESTROYED' });
});

test('drain fires once every submitted task has settled', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    let drains = 0;
    pool.on('drain', () => drains++);
    const settled = Promise.allSettled([...Array.from({ length: 50 }, (_, i) => pool.run(i)), pool.run({ message: 'x' }, { name: 'fail' })]);
    await new Promise<void>((resolve) => pool.once('drain', resolve));
    assert.equal(pool.stats.queued + pool.stats.running, 0);
    await settled;
    assert.equal(drains, 1);
  } finally {
    await pool.destroy();
  }
});

test('broadcast() reaches every live agent, in order with tasks, including starting ones', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    const sab = new SharedArrayBuffer(8);
    assert.equal(await pool.broadcast({ sab, n: 5 }), 2, 'delivered to both agents while they start');
    for (const agent of pool.agents) {
      agent.ref();
      assert.equal(await agent.evaluate('globalThis.broadcastValue.n'), 5);
      assert.equal(await agent.evaluate('Atomics.add(new Int32Array(globalThis.broadcastValue.sab), 0, 1)'), agent === pool.agents[0] ? 0 : 1);
    }
    assert.equal(new Int32Array(sab)[0], 2, 'the SharedArrayBuffer is shared by all');
    void pool.broadcast('second');
    assert.equal(await pool.run(null, { name: 'getShared' }), 'second', 'a task after a broadcast sees it');
    await assert.rejects(pool.broadcast('throw'), { message: 'broadcast handler failed' });
  } finally {
    await pool.destroy();
  }
});

test('stats and run/wait histograms', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    const before = pool.stats;
    assert.equal(before.completed, 0);
    assert.ok(Number.isNaN(before.runTime.p50));
    await Promise.all(Array.from({ length: 40 }, () => pool.run(2, { name: 'spin' })));
    await assert.rejects(pool.run({ message: 'x' }, { name: 'fail' }));
    const stats = pool.stats;
    assert.equal(stats.completed, 40);
    assert.equal(pool.completed, 40);
    assert.equal(stats.failed, 1);
    assert.equal(stats.queued, 0);
    assert.equal(stats.running, 0);
    assert.equal(stats.agents, 2);
    assert.equal(stats.runTime.count, 41);
    assert.ok(stats.runTime.p50 >= 1.9 && stats.runTime.p50 < 1000, `run p50 ${stats.runTime.p50}`);
    assert.ok(stats.runTime.p99 >= stats.runTime.p50);
    assert.ok(stats.runTime.max >= stats.runTime.p99);
    assert.equal(stats.waitTime.count, 41);
    assert.ok(stats.waitTime.p99 >= stats.waitTime.p50);
    assert.ok(stats.utilization > 0 && stats.utilization <= 1, `utilization ${stats.utilization}`);
    assert.ok(stats.duration > 0);
    pool.resetHistograms();
    assert.equal(pool.stats.runTime.count, 0);
  } finally {
    await pool.destroy();
  }
});

test('agents above minAgents stop after idleTimeout; new work starts agents up to maxAgents', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 3, idleTimeout: 50 });
  try {
    let created = 0;
    pool.on('agentCreate', () => created++);
    await pool.ready;
    const gate = new Gate();
    const blockers = [0, 1, 2, 3].map(() => pool.run(gate.sab, { name: 'block' }));
    await until(() => gate.started === 3, 10_000, 'three agents busy');
    assert.equal(pool.stats.agents, 3, 'never more than maxAgents');
    assert.equal(created, 2);
    gate.release();
    await Promise.all(blockers);
    await until(() => pool.stats.agents === 1, 10_000, 'idle agents to stop');
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('map() yields results in order and never holds more than the window', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    let pulled = 0;
    let yielded = 0;
    let maxHeld = 0;
    function* input() {
      for (let i = 0; i < 300; i++) {
        pulled++;
        maxHeld = Math.max(maxHeld, pulled - yielded);
        yield i;
      }
    }
    const out: number[] = [];
    for await (const value of pool.map(input(), { concurrency: 7 })) {
      yielded++;
      out.push(value as number);
      if (yielded % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // a slow consumer
    }
    assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => i + 1));
    assert.ok(maxHeld <= 7, `held ${maxHeld} > window 7`);
  } finally {
    await pool.destroy();
  }
});

test('map({ ordered: false }) yields as tasks finish, from an async iterable', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    async function* input() {
      yield 80;
      yield 1;
      yield 2;
    }
    const out: number[] = [];
    for await (const value of pool.map(input(), { ordered: false, concurrency: 3, name: 'sleep' })) out.push(value as number);
    assert.deepEqual([...out].sort((a, b) => a - b), [1, 2, 80]);
    assert.equal(out[2], 80, 'the slow one comes last');
  } finally {
    await pool.destroy();
  }
});

test('map() throws the first failure and cancels the rest; break cancels what is outstanding', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    const items = [1, 2, { message: 'item 3 failed' }, 4, 5];
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const value of pool.map(items, { name: 'maybeFail', concurrency: 2 })) seen.push(value);
    }, { message: 'item 3 failed' });
    assert.deepEqual(seen, [1, 2], 'results before the failure were yielded, in order');

    let returned = false;
    function* endless() {
      try {
        for (let i = 0; ; i++) yield 30;
      } finally {
        returned = true;
      }
    }
    let count = 0;
    for await (const value of pool.map(endless(), { name: 'sleep', concurrency: 4 })) {
      assert.equal(value, 30);
      if (++count === 3) break;
    }
    assert.ok(returned, 'the input iterator was closed');
    await until(() => pool.stats.running === 0 && pool.stats.queued === 0, 10_000, 'outstanding tasks to be cancelled');
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('an idle pool that is never closed does not keep the process alive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentcluster-pool-test-'));
  try {
    const script = join(dir, 'idle.mts');
    const index = new URL('../src/index.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { AgentPool } from ${JSON.stringify(index)};
const pool = new AgentPool({ filename: ${JSON.stringify(jobs.href)}, minAgents: 2, maxAgents: 2 });
console.log(await pool.run(1));
`,
    );
    const repo = fileURLToPath(new URL('..', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', script], { cwd: repo, timeout: 30_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      );
    });
    assert.equal(stdout.trim(), '2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AgentPool.move marks a value and its buffers', () => {
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(buffer);
  assert.deepEqual(AgentPool.move(view).transferList, [buffer]);
  assert.deepEqual(AgentPool.move([buffer, view]).transferList, [buffer]);
  assert.deepEqual(AgentPool.move({ buffer, nested: [new Map([[view, 1]])] }).transferList, [buffer]);
  assert.throws(() => AgentPool.move({ a: 1 }), { code: 'ERR_POOL_NOT_MOVABLE', name: 'TypeError' });
  assert.throws(() => AgentPool.move({ shared: new SharedArrayBuffer(8) }), { code: 'ERR_POOL_NOT_MOVABLE' });
  assert.deepEqual(AgentPool.move(view, []).transferList, [], 'an explicit list is used as given');
});
