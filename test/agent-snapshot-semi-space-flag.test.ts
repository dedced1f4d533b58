// The first agent snapshot generation sets V8's --max-semi-space-size to 1 and
// back to 0 (native/agent/snapshot/number_string_cache.cc). A value the
// process set itself with v8.setFlagsFromString before its first agent must
// survive that: a Worker created afterwards gets the same young generation as
// with the agent snapshot off.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentSnapshotSupported, describeChild, runNode } from './support/agents.js';

const code = `
  import v8 from 'node:v8';
  import { Worker } from 'node:worker_threads';
  v8.setFlagsFromString('--max-semi-space-size=64');
  const { Agent } = await import('./src/index.ts');
  const agent = new Agent({ source: '' });
  await agent.terminate();
  // The largest new space a Worker reaches while keeping 4M small objects.
  const size = await new Promise((resolve, reject) => {
    const w = new Worker(\`const v8 = require('v8'); let m = 0; const keep = [];
      for (let k = 0; k < 40; k++) { for (let i = 0; i < 1e5; i++) keep.push({ i });
        m = Math.max(m, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size); }
      require('worker_threads').parentPort.postMessage(m);\`, { eval: true, execArgv: [] });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  });
  console.log(JSON.stringify({ size }));`;

async function workerNewSpace(setting: string | undefined): Promise<number> {
  const env = { ...process.env };
  delete env.AGENTCLUSTER_AGENT_SNAPSHOT;
  if (setting !== undefined) env.AGENTCLUSTER_AGENT_SNAPSHOT = setting;
  const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 90_000, env });
  assert.equal(result.code, 0, describeChild(result));
  return (JSON.parse(result.stdout.trim().split('\n').pop()!) as { size: number }).size;
}

describe('agent snapshot: a --max-semi-space-size set by v8.setFlagsFromString', { skip: !agentSnapshotSupported }, () => {
  it('is kept by the first snapshot build (Workers after it size their young generation from it)', async () => {
    const withSnapshotOff = await workerNewSpace('off');
    const withSnapshot = await workerNewSpace(undefined);
    assert.ok(withSnapshotOff > 64 * 1024 * 1024, `reference: ${withSnapshotOff}`);
    assert.equal(withSnapshot, withSnapshotOff);
  });
});
