// ArrayBuffers received by transfer stay accounted to the receiving agent:
// a flood of large transfers that the agent drops must be collected by the
// agent's own GC (V8 starts it from the external memory), so the process's
// resident memory stays bounded instead of growing by every buffer sent.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextMessage } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

const MiB = 1024 * 1024;

it('a flood of 48 × 64 MiB transfers that the agent drops keeps RSS bounded', async () => {
  // The agent keeps only the latest buffer and allocates almost nothing on its
  // own heap, so only the external memory accounting can start its GC.
  const agent = spawnAgent({ source: 'let latest; onmessage = (e) => { latest = e.data; postMessage(latest.byteLength); };' });
  await agent.ready;
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  for (let i = 0; i < 48; i++) {
    const buffer = new ArrayBuffer(64 * MiB);
    new Uint8Array(buffer).fill(1); // resident, not lazily zeroed pages
    agent.postMessage(buffer, [buffer]);
    assert.equal(await nextMessage(agent, 30_000), 64 * MiB);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const external = (await agent.getHeapStatistics()).externalMemory;
  // 3 GiB went through; without collection the RSS would grow by all of it.
  assert.ok(peak - rssBefore < 1024 * MiB, `RSS grew by ${((peak - rssBefore) / MiB).toFixed(0)} MiB`);
  // The agent still accounts what it holds (the latest buffer at least).
  assert.ok(external >= 64 * MiB, `externalMemory ${external}`);
  await agent.terminate();
});
