// Issue 18: pool.stats per agent (thread CPU time, used heap) and a
// utilization computed from real thread CPU time (a task blocked in
// Atomics.wait is not "busy").
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Gate, makePool } from './support/pool.js';
import { until } from './support/waits.js';

it('stats.agentUsage: CPU time and used heap of every live agent', async () => {
  const pool = makePool({ minAgents: 2, maxAgents: 2 });
  try {
    await pool.ready;
    const before = pool.stats.agentUsage;
    assert.equal(before.length, 2);
    await Promise.all([pool.run(300, { name: 'spin' }), pool.run(300, { name: 'spin' })]);
    const usage = pool.stats.agentUsage;
    assert.equal(usage.length, 2);
    for (const entry of usage) {
      const start = before.find((b) => b.threadId === entry.threadId);
      assert.ok(start, 'the same agents');
      assert.equal(typeof entry.name, 'string');
      // A loaded machine may give the spinning thread little CPU, never none.
      assert.ok(entry.cpuMs - start.cpuMs > 10, `${start.cpuMs} -> ${entry.cpuMs}`);
      assert.ok(entry.heapUsed > 0);
    }
  } finally {
    await pool.destroy();
  }
});

it('utilization counts thread CPU time: a task blocked in Atomics.wait barely counts', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await pool.ready;
    const gate = new Gate();
    const task = pool.run(gate.sab, { name: 'block' });
    await until(() => gate.started === 1, 10_000, 'the task to block');
    await new Promise((resolve) => setTimeout(resolve, 800));
    gate.release();
    assert.equal(await task, 'released');
    // The agent was "running a task" for most of the pool's life (the old
    // run-time measure said > 0.5) but used the CPU only to start and answer.
    const { utilization, duration } = pool.stats;
    assert.ok(utilization < 0.4, `utilization ${utilization} over ${duration} ms`);
    assert.ok(utilization > 0);
  } finally {
    await pool.destroy();
  }
});

it('stats.agentUsage while an agent exits: readable throughout, and the gone agent leaves the list', async () => {
  const pool = makePool({ minAgents: 1, maxAgents: 1 });
  try {
    await pool.ready;
    const [first] = pool.stats.agentUsage;
    assert.ok(first);
    const task = pool.run(undefined, { name: 'closeSelf' }).then(() => 'resolved', () => 'rejected');
    // Read the stats on every turn while the agent closes itself and is replaced.
    let reads = 0;
    await until(() => {
      reads++;
      const usage = pool.stats.agentUsage;
      for (const entry of usage) assert.ok(entry.cpuMs >= 0 && entry.heapUsed >= 0, JSON.stringify(entry));
      return usage.length === 1 && usage[0]!.threadId !== first.threadId;
    }, 20_000, 'the replacement agent, without the gone one');
    assert.ok(reads > 1);
    assert.equal(await task, 'rejected');
  } finally {
    await pool.destroy();
  }
});
