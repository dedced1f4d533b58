// AgentPool: cancellation (AbortSignal, timeouts) of queued and running
// tasks, agent replacement, agents that die (OOM, uncaught error, close()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent, ExitInfo } from '../src/index.js';
import { Gate, Log, makePool } from './support/pool.js';
import { until } from './support/waits.js';

function watchAgents(pool: ReturnType<typeof makePool>) {
  const created: Agent[] = [];
  const exited: [Agent, ExitInfo][] = [];
  pool.on('agentCreate', (agent) => created.push(agent));
  pool.on('agentExit', (agent, info) => exited.push([agent, info]));
  return { created, exited };
}

test('aborting a queued task removes it: it never runs and its agent stays', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  const { exited } = watchAgents(pool);
  try {
    const gate = new Gate();
    const log = new Log();
    const blocker = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the blocker to start');
    const controller = new AbortController();
    const doomed = pool.run({ sab: log.sab, value: 1 }, { name: 'record', signal: controller.signal });
    const kept = pool.run({ sab: log.sab, value: 2 }, { name: 'record' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pool.stats.queued, 2);
    controller.abort(new Error('changed my mind'));
    await assert.rejects(doomed, (error: any) => error.name === 'AbortError' && error.code === 'ABORT_ERR' && error.cause?.message === 'changed my mind');
    assert.equal(pool.stats.queued, 1);
    gate.release();
    assert.equal(await blocker, 'released');
    assert.equal(await kept, 2);
    assert.deepEqual(log.values, [2], 'the aborted task never ran');
    assert.equal(exited.length, 0, 'no agent was stopped');
    assert.equal(pool.stats.cancelled, 1);
  } finally {
    await pool.destroy();
  }
});

test('aborting a running task terminates its agent, rejects with AbortError, and the pool replaces the agent', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  const { created, exited } = watchAgents(pool);
  try {
    await pool.ready;
    const first = pool.agents[0]!;
    const controller = new AbortController();
    const running = pool.run(null, { name: 'forever', signal: controller.signal });
    const queued = pool.run(10); // waits behind it, must run on the replacement
    await until(() => pool.stats.running === 1 && pool.stats.queued === 1, 10_000, 'the task to be running');
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await assert.rejects(running, { name: 'AbortError', code: 'ABORT_ERR' });
    assert.equal(await queued, 11);
    await until(() => exited.length === 1, 10_000, 'the old agent to exit');
    assert.equal(exited[0]![0], first);
    assert.equal(exited[0]![1].reason, 'terminated');
    assert.equal(created.length, 1, 'one replacement agent');
    assert.notEqual(pool.agents[0], first);
    assert.equal(pool.stats.agents, 1);
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('a signal that is already aborted rejects at once', async () => {
  const pool = makePool();
  try {
    await assert.rejects(pool.run(1, { signal: AbortSignal.abort('no') }), (error: any) => error.name === 'AbortError' && error.cause === 'no');
  } finally {
    await pool.destroy();
  }
});

test('a timeout on a queued task removes it with ERR_TASK_TIMEOUT', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  const { exited } = watchAgents(pool);
  try {
    const gate = new Gate();
    const log = new Log();
    const blocker = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the blocker to start');
    const doomed = pool.run({ sab: log.sab, value: 1 }, { name: 'record', timeout: 30 });
    await assert.rejects(doomed, (error: any) => error.name === 'TimeoutError' && error.code === 'ERR_TASK_TIMEOUT');
    gate.release();
    await blocker;
    assert.equal(await pool.run({ sab: log.sab, value: 2 }, { name: 'record' }), 2);
    assert.deepEqual(log.values, [2]);
    assert.equal(exited.length, 0);
  } finally {
    await pool.destroy();
  }
});

test('a timeout on a running task (taskTimeout option) stops its agent; the pool goes on', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, taskTimeout: 100 });
  const { exited } = watchAgents(pool);
  try {
    const t0 = performance.now();
    await assert.rejects(pool.run(null, { name: 'forever' }), { name: 'TimeoutError', code: 'ERR_TASK_TIMEOUT' });
    assert.ok(performance.now() - t0 >= 95);
    assert.equal(await pool.run(1), 2, 'fast tasks still complete under the timeout');
    await until(() => exited.length === 1, 10_000, 'the stuck agent to exit');
    assert.equal(pool.stats.agents, 1);
    // A per-task timeout overrides the pool's
    assert.equal(await pool.run(150, { name: 'sleep', timeout: 5_000 }), 150);
  } finally {
    await pool.destroy();
  }
});

test('cancelling a running task stops an agent blocked in Atomics.wait too', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    const gate = new Gate();
    const controller = new AbortController();
    const blocked = pool.run(gate.sab, { name: 'block', signal: controller.signal });
    await until(() => gate.started === 1, 10_000, 'the task to block');
    controller.abort();
    await assert.rejects(blocked, { name: 'AbortError' });
    assert.equal(await pool.run(2), 3);
  } finally {
    await pool.destroy();
  }
});

test('tasks waiting inside an agent whose running task is cancelled are run by another agent', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    // Teach the balancer that tasks are short, so the next ones are prefetched into the agent.
    await Promise.all(Array.from({ length: 200 }, (_, i) => pool.run(i)));
    const gate = new Gate();
    const controller = new AbortController();
    const stuck = pool.run(gate.sab, { name: 'block', signal: controller.signal });
    const behind = Array.from({ length: 10 }, (_, i) => pool.run(i));
    await until(() => gate.started === 1, 10_000, 'the task to block');
    assert.ok(pool.stats.queued < 10, `some tasks wait inside the agent (queued: ${pool.stats.queued})`);
    controller.abort();
    await assert.rejects(stuck, { name: 'AbortError' });
    assert.deepEqual(await Promise.all(behind), Array.from({ length: 10 }, (_, i) => i + 1));
  } finally {
    await pool.destroy();
  }
});

test('an agent that runs out of memory is replaced; its task rejects with ERR_AGENT_OUT_OF_MEMORY', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, resourceLimits: { maxHeapMB: 48 } });
  const { exited } = watchAgents(pool);
  try {
    const results = await Promise.allSettled([pool.run(null, { name: 'hog' }), pool.run(1)]);
    assert.equal(results[0].status, 'rejected');
    assert.equal((results[0] as PromiseRejectedResult).reason.code, 'ERR_AGENT_OUT_OF_MEMORY');
    assert.deepEqual(results[1], { status: 'fulfilled', value: 2 });
    assert.equal(exited[0]?.[1].reason, 'out-of-memory');
    assert.equal(await pool.run(2), 3);
    assert.equal(pool.stats.failed, 1);
  } finally {
    await pool.destroy();
  }
});

test('an uncaught error in a job rejects its task with that error; the agent is replaced', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  const { exited } = watchAgents(pool);
  try {
    await assert.rejects(pool.run(null, { name: 'uncaughtLater' }), { message: 'thrown from a timer' });
    await until(() => exited.length === 1);
    assert.equal(exited[0]![1].reason, 'error');
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('a job that closes its agent rejects with ERR_POOL_AGENT_EXITED', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await assert.rejects(pool.run(null, { name: 'closeSelf' }), { code: 'ERR_POOL_AGENT_EXITED' });
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});

test('an uncaught error in an idle agent goes to the pool\'s error listeners', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await pool.ready;
    const errors: unknown[] = [];
    pool.on('error', (error) => errors.push(error));
    pool.agents[0]!.ref(); // idle pool agents do not keep the host alive; evaluate() needs it here
    await pool.agents[0]!.evaluate('setTimeout(() => { throw new Error("idle failure") }, 0); 1');
    await until(() => errors.length === 1);
    assert.equal((errors[0] as Error).message, 'idle failure');
    await until(() => pool.stats.agents === 1 && pool.stats.idleAgents === 1, 10_000, 'the replacement');
    assert.equal(await pool.run(1), 2);
  } finally {
    await pool.destroy();
  }
});
