// AgentPool: tasks that move data (transferList, move()) and agents that go
// away under them. A task waiting inside an agent takes its data there; if
// the agent is stopped before it starts, the pool cannot run it elsewhere.
// So such a task is only handed to an idle agent, and one whose data did go
// down with its agent fails with ERR_POOL_AGENT_EXITED (never DataCloneError,
// never a silent run without its data). See docs/scheduler.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentChannel, type AgentPort } from '../src/index.js';
import { makePool } from './support/pool.js';
import { until } from './support/waits.js';

function portReply(port: AgentPort): Promise<unknown> {
  return new Promise((resolve) => port.addEventListener('message', (event) => resolve(event.data)));
}

test('tasks moving buffers and ports behind a cancelled task keep their data (warm pool, 1 agent)', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await pool.ready;
    // Warm: short tasks make the balancer prefetch (hold tasks ahead in the agent).
    await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
    const controller = new AbortController();
    const spinning = pool.run(60_000, { name: 'spin', signal: controller.signal });
    const buffer = new ArrayBuffer(8);
    new Uint8Array(buffer).fill(9);
    const withBuffer = pool.run({ buffer, value: 3 }, { name: 'fill', transferList: [buffer] });
    const { port1, port2 } = new AgentChannel();
    const reply = portReply(port1);
    const withPort = pool.run({ port: port2, text: 'the port' }, { name: 'answerOnPort', transferList: [port2 as unknown as ArrayBuffer] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(pool.stats.queued, 2, 'the moving tasks wait in the pool, not inside the busy agent');
    controller.abort(new Error('stop spinning'));
    await assert.rejects(spinning, { name: 'AbortError' });
    const back = (await withBuffer) as ArrayBuffer;
    assert.deepEqual([...new Uint8Array(back)], new Array(8).fill(3), 'the very buffer arrived and came back');
    assert.equal(await withPort, 'answered');
    assert.equal(await reply, 'agent got the port');
    port1.close();
  } finally {
    await pool.destroy();
  }
});

test('a moving task queued behind a task that times out runs on the next agent with its data', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await pool.ready;
    await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
    const spinning = pool.run(60_000, { name: 'spin', timeout: 100 });
    const buffers = Array.from({ length: 4 }, (_, i) => new Uint8Array(16 + i).buffer);
    const sizes = buffers.map((buffer) => pool.run(buffer, { name: 'byteLength', transferList: [buffer] }));
    await assert.rejects(spinning, { code: 'ERR_TASK_TIMEOUT' });
    assert.deepEqual(await Promise.all(sizes), [16, 17, 18, 19]);
  } finally {
    await pool.destroy();
  }
});

test('a moving task queued behind a task that runs out of memory runs on the next agent with its data', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, resourceLimits: { maxHeapMB: 48 } });
  try {
    await pool.ready;
    await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
    const hog = pool.run(null, { name: 'hog' });
    const buffer = new ArrayBuffer(32);
    const size = pool.run(buffer, { name: 'byteLength', transferList: [buffer] });
    await assert.rejects(hog, { code: 'ERR_AGENT_OUT_OF_MEMORY' });
    assert.equal(await size, 32);
  } finally {
    await pool.destroy();
  }
});

test('a task whose moved data was in an agent stopped under it fails with ERR_POOL_AGENT_EXITED, not DataCloneError', async () => {
  // concurrentTasksPerAgent 2: the moving task starts (it awaits), then a
  // spinning task joins it in the same agent and is aborted, which stops the
  // agent. The plain task that agent also held runs again elsewhere; the
  // moving one cannot (its buffer is gone with the agent) and says so.
  const pool = makePool({ minAgents: 1, maxAgents: 1, concurrentTasksPerAgent: 2 });
  try {
    await pool.ready;
    const buffer = new ArrayBuffer(64);
    const holding = pool.run({ buffer, ms: 60_000 }, { name: 'holdBuffer', transferList: [buffer] });
    await until(() => pool.stats.running === 1 && pool.stats.queued === 0, 10_000, 'the moving task to be dispatched');
    await new Promise((resolve) => setTimeout(resolve, 20)); // let it start
    const controller = new AbortController();
    const spinning = pool.run(60_000, { name: 'spin', signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await assert.rejects(spinning, { name: 'AbortError' });
    await assert.rejects(holding, (error: any) => {
      assert.equal(error.code, 'ERR_POOL_AGENT_EXITED');
      assert.match(error.message, /transferred/);
      return true;
    });
    assert.equal(await pool.run(41), 42, 'the pool goes on with a new agent');
  } finally {
    await pool.destroy();
  }
});

test('plain tasks share a busy agent up to its concurrency; a moving task waits for an idle one', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1, concurrentTasksPerAgent: 4 });
  try {
    await pool.ready;
    const sleeping = [pool.run(50, { name: 'sleep' }), pool.run(50, { name: 'sleep' })];
    await new Promise((resolve) => setImmediate(resolve));
    sleeping.push(pool.run(50, { name: 'sleep' }));
    assert.equal(pool.stats.running, 3, 'plain tasks join the busy agent');
    assert.equal(pool.stats.queued, 0);
    const buffer = new ArrayBuffer(8);
    const moving = pool.run(buffer, { name: 'byteLength', transferList: [buffer] });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pool.stats.queued, 1, 'the moving task waits in the pool for an idle agent');
    assert.deepEqual(await Promise.all(sleeping), [50, 50, 50]);
    assert.equal(await moving, 8);
  } finally {
    await pool.destroy();
  }
});

test('Agent: what postMessage moved into an agent terminated before reading it is freed there; its ports get close', async () => {
  const { Agent } = await import('../src/index.js');
  const agent = new Agent({ source: 'for (;;);' }); // never reads its messages
  try {
    const buffer = new ArrayBuffer(16);
    const { port1, port2 } = new AgentChannel();
    const closed = new Promise<void>((resolve) => port1.addEventListener('close', () => resolve()));
    agent.postMessage({ buffer, port: port2 }, [buffer, port2 as unknown as ArrayBuffer]);
    assert.equal(buffer.byteLength, 0, 'moved on post');
    await agent.terminate();
    await closed; // the dropped port's other end hears of it
    const kept = new ArrayBuffer(4);
    assert.throws(() => agent.postMessage(kept, [kept]), { code: 'ERR_AGENT_TERMINATED' });
    assert.equal(kept.byteLength, 4, 'a post to an ended agent detaches nothing');
  } finally {
    await agent.terminate();
  }
});

test('Agent: a postMessage after terminate() was called (before the exit) throws and detaches nothing', async () => {
  const { Agent } = await import('../src/index.js');
  const agent = new Agent({ source: 'for (;;);' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const stopping = agent.terminate();
  const buffer = new ArrayBuffer(4);
  // Accepted, it would have been dropped with the agent's mailbox, buffer and all.
  assert.throws(() => agent.postMessage(buffer, [buffer]), { code: 'ERR_AGENT_TERMINATED' });
  assert.equal(buffer.byteLength, 4);
  await stopping;
});
