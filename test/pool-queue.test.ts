// AgentPool: the queue (priorities, FIFO, aging, maxQueue) and the histogram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../src/scheduler/histogram.js';
import { TaskQueue } from '../src/scheduler/task-queue.js';
import { Task } from '../src/scheduler/task.js';
import { fileURLToPath } from 'node:url';
import { Gate, jobs, Log, makePool } from './support/pool.js';
import { until } from './support/waits.js';

let ids = 0;
function task(priority: number, at: number): Task {
  return new Task(++ids, null, undefined, undefined, priority, at, () => {}, () => {});
}

test('queue: higher priority first, FIFO within a priority', () => {
  const queue = new TaskQueue(1000);
  const pushed = [task(0, 1), task(2, 2), task(0, 3), task(1, 4), task(2, 5), task(-1, 6), task(1, 7)];
  for (const t of pushed) queue.push(t);
  assert.equal(queue.size, 7);
  const order: number[] = [];
  for (let t = queue.shift(); t; t = queue.shift()) order.push(t.enqueuedAt);
  assert.deepEqual(order, [2, 5, 4, 7, 1, 3, 6]);
  assert.equal(queue.size, 0);
});

test('queue: aging - a waiting task is passed only by tasks of higher priority submitted less than (difference x priorityAging) after it', () => {
  const queue = new TaskQueue(10);
  queue.push(task(0, 0));
  queue.push(task(3, 25)); // 3 levels = 30 ms of aging, submitted 25 ms later: goes first
  queue.push(task(3, 35)); // submitted 35 ms later: the old task has waited long enough
  assert.deepEqual([queue.shift()!.enqueuedAt, queue.shift()!.enqueuedAt, queue.shift()!.enqueuedAt], [25, 0, 35]);
});

test('queue: no starvation under a steady stream of higher-priority work', () => {
  const queue = new TaskQueue(10);
  const low = task(0, 0);
  queue.push(low);
  let servedAt = -1;
  // Every ms one priority-5 task arrives and one task is served.
  for (let now = 0; now < 1000 && servedAt < 0; now++) {
    queue.push(task(5, now));
    if (queue.shift() === low) servedAt = now;
  }
  assert.ok(servedAt >= 0, 'the low-priority task was served');
  assert.ok(servedAt <= 5 * 10 + 1, `served after ${servedAt} ms, bound is 50 ms`);
});

test('queue: strict priorities with priorityAging Infinity; removed tasks are skipped', () => {
  const queue = new TaskQueue(Infinity);
  const a = task(0, 0);
  const b = task(1, 1_000_000);
  const c = task(0, 2);
  queue.push(a);
  queue.push(b);
  queue.push(c);
  a.state = 2; // settled elsewhere (cancelled)
  queue.removed();
  assert.equal(queue.size, 2);
  assert.equal(queue.shift(), b);
  assert.equal(queue.shift(), c);
  assert.equal(queue.shift(), undefined);
});

test('queue: many distinct priorities and growth past the ring size', () => {
  const queue = new TaskQueue(1000);
  for (let i = 0; i < 100; i++) queue.push(task(i % 7, i));
  let last = Infinity;
  let count = 0;
  for (let t = queue.shift(); t; t = queue.shift()) {
    assert.ok(t.priority <= last || t.priority === last);
    last = t.priority;
    count++;
  }
  assert.equal(count, 100);
});

test('histogram: count, min, max, mean and percentiles within 3%', () => {
  const h = new Histogram();
  assert.ok(Number.isNaN(h.summary().p50));
  for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.equal(s.min, 0.1);
  assert.equal(s.max, 100);
  assert.ok(Math.abs(s.mean - 50.05) < 1e-9);
  assert.ok(Math.abs(s.p50 - 50) / 50 < 0.03, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p90 - 90) / 90 < 0.03, `p90 ${s.p90}`);
  assert.ok(Math.abs(s.p99 - 99) / 99 < 0.03, `p99 ${s.p99}`);
  h.record(0.0004);
  assert.equal(h.summary().min, 0.0004);
  h.record(3_600_000); // an hour
  assert.equal(h.summary().max, 3_600_000);
  h.reset();
  assert.equal(h.summary().count, 0);
});

test('pool: queued tasks run by priority, FIFO within a priority', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    const gate = new Gate();
    const log = new Log();
    const blocker = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the blocker to start');
    const plan = [
      [1, 0],
      [2, 5],
      [3, 0],
      [4, 10],
      [5, 5],
      [6, -3],
      [7, 10],
      [8, 0],
    ] as const;
    const runs = plan.map(([value, priority]) => pool.run({ sab: log.sab, value }, { name: 'record', priority }));
    gate.release();
    await blocker;
    await Promise.all(runs);
    assert.deepEqual(log.values, [4, 7, 2, 5, 1, 3, 8, 6]);
  } finally {
    await pool.destroy();
  }
});

test('pool: a task that waited long enough runs before later higher-priority tasks (aging)', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, priorityAging: 40 });
  try {
    const gate = new Gate();
    const log = new Log();
    const blocker = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the blocker to start');
    const old = pool.run({ sab: log.sab, value: 1 }, { name: 'record', priority: 0 });
    await new Promise((resolve) => setTimeout(resolve, 150)); // > 40 ms x 1 level
    const later = [2, 3].map((value) => pool.run({ sab: log.sab, value }, { name: 'record', priority: 1 }));
    const urgent = pool.run({ sab: log.sab, value: 4 }, { name: 'record', priority: 100 });
    gate.release();
    await Promise.all([blocker, old, urgent, ...later]);
    assert.deepEqual(log.values, [4, 1, 2, 3]);
  } finally {
    await pool.destroy();
  }
});

test('pool: maxQueue bounds the queue (ERR_POOL_QUEUE_FULL); "auto" is maxAgents squared', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, maxQueue: 2 });
  try {
    const gate = new Gate();
    const blocker = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the blocker to start');
    const queued = [pool.run(1), pool.run(2)];
    await assert.rejects(pool.run(3), { code: 'ERR_POOL_QUEUE_FULL' });
    assert.equal(pool.queueSize, 2);
    gate.release();
    assert.deepEqual(await Promise.all([blocker, ...queued]), ['released', 2, 3]);
    assert.equal(await pool.run(4), 5, 'accepted again once there is room');
  } finally {
    await pool.destroy();
  }
  const auto = makePool({ minAgents: 1, maxAgents: 3, maxQueue: 'auto' });
  try {
    const gate = new Gate();
    const blockers = [0, 1, 2].map(() => auto.run(gate.sab, { name: 'block' }));
    await until(() => gate.started === 3, 10_000, 'three blockers to start');
    const queued = Array.from({ length: 9 }, (_, i) => auto.run(i));
    await assert.rejects(auto.run(99), { code: 'ERR_POOL_QUEUE_FULL' });
    gate.release();
    await Promise.all([...blockers, ...queued]);
  } finally {
    await auto.destroy();
  }
});

test('pool: maxQueue counts agents still starting as room, as piscina does (2 agents, maxQueue 2: 4 of 6 accepted)', async () => {
  const { Piscina } = await import('piscina');
  const settle = (promises: Promise<unknown>[]) => Promise.allSettled(promises).then((all) => all.filter((r) => r.status === 'fulfilled').length);
  const peer = new Piscina({ filename: fileURLToPath(jobs), minThreads: 2, maxThreads: 2, maxQueue: 2 });
  let peerAccepted: number;
  try {
    peerAccepted = await settle(Array.from({ length: 6 }, (_, i) => peer.run(i)));
  } finally {
    await peer.destroy();
  }
  const cold = makePool({ minAgents: 2, maxAgents: 2, maxQueue: 2 });
  try {
    const runs = Array.from({ length: 6 }, (_, i) => cold.run(i));
    const rejected = await Promise.allSettled(runs);
    assert.deepEqual(rejected.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code), ['ERR_POOL_QUEUE_FULL', 'ERR_POOL_QUEUE_FULL']);
    assert.equal(await settle(runs), peerAccepted, 'before the agents are ready');
  } finally {
    await cold.destroy();
  }
  const warm = makePool({ minAgents: 2, maxAgents: 2, maxQueue: 2 });
  try {
    await warm.ready;
    assert.equal(await settle(Array.from({ length: 6 }, (_, i) => warm.run(i))), peerAccepted, 'after pool.ready');
  } finally {
    await warm.destroy();
  }
  assert.equal(peerAccepted, 4);
});
