// Hostile use of the issue-18 diagnostics: each scenario runs in a child
// process (test/fixtures/diagnostics-hostile.ts), since each used to kill it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeChild, runFixture, spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

async function survives(scenario: string): Promise<void> {
  const result = await runFixture('diagnostics-hostile.ts', [scenario], { timeoutMs: 90_000 });
  assert.ok(result.code === 0 && result.stdout.includes('ok'), describeChild(result));
}

describe('diagnostics under hostile use', () => {
  it('getHeapSnapshot()/getHeapSnapshotString() then terminate(): rejections only, no unhandled stream error', async () => {
    await survives('snapshot-terminate');
  });

  it('a worker_thread terminated while its busy agent answers diagnostics: no abort', async () => {
    await survives('worker-terminated');
  });
});

describe('heapSnapshotNearLimitFile shared by several agents', () => {
  it('agents reaching their heap limit together never leave a corrupt (interleaved) snapshot', async () => {
    const file = join(tmpdir(), `agentcluster-shared-${process.pid}.heapsnapshot`);
    rmSync(file, { force: true });
    const agents = Array.from({ length: 3 }, () => spawnAgent({ source: 'const keep = []; for (;;) keep.push([1, 2, 3, {}]);', resourceLimits: { maxHeapMB: 8, heapSnapshotNearLimitFile: file } }));
    for (const agent of agents) agent.on('error', () => {});
    const infos = await Promise.all(agents.map((agent) => agent.exited));
    for (const info of infos) assert.equal(info.reason, 'out-of-memory');
    // One whole snapshot (the last one renamed in place), and no temporary left behind.
    assert.ok(Array.isArray((JSON.parse(readFileSync(file, 'utf8')) as { nodes: unknown }).nodes));
    assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith(`agentcluster-shared-${process.pid}.heapsnapshot.`)), []);
    rmSync(file, { force: true });
  });
});
