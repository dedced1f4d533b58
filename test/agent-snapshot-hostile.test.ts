// How the in-process agent snapshot switch is read (regressions from a hostile review).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentSnapshotSupported, describeChild, runNode } from './support/agents.js';

async function info(code: string, setting?: string) {
  const env = { ...process.env };
  delete env.AGENTCLUSTER_AGENT_SNAPSHOT;
  if (setting !== undefined) env.AGENTCLUSTER_AGENT_SNAPSHOT = setting;
  const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 60_000, env });
  assert.equal(result.code, 0, describeChild(result));
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

describe('agent snapshot switch (hostile)', () => {
  // F1: only the exact string 'off' is understood; 'OFF', '0', 'false', 'no'
  // silently build and use the snapshot, and nothing says the value was ignored.
  for (const value of ['OFF', '0', 'false', 'no']) {
    it(`AGENTCLUSTER_AGENT_SNAPSHOT=${value} turns the snapshot off (found by review: it was silently taken as on) (child process)`, async () => {
      const got = await info(`
        import { Agent, agentSnapshotInfo } from './src/index.ts';
        const a = new Agent({ source: '' }); await a.evaluate('1'); await a.terminate();
        console.log(JSON.stringify(agentSnapshotInfo()));`, value);
      assert.ok(got.state === 'off' || /AGENTCLUSTER_AGENT_SNAPSHOT/.test(got.reason),
        `value ${JSON.stringify(value)} was silently taken as "on": ${JSON.stringify(got)}`);
    });
  }

  // F2: the switch is documented as "read at load", but every addon load (each
  // worker_thread importing the package) re-reads it process-wide: a later
  // worker flips a running process from the built blob to Node's, and
  // agentSnapshotInfo() then reports 'off' while agents from the built blob run.
  it('a worker_thread loading the addon later does not re-read the switch for the whole process (found by review) (child process)', async () => {
    const got = await info(`
      import { Worker } from 'node:worker_threads';
      import { once } from 'node:events';
      import { Agent, agentSnapshotInfo } from './src/index.ts';
      const a = new Agent({ source: '' }); await a.evaluate('1');
      const before = agentSnapshotInfo();
      process.env.AGENTCLUSTER_AGENT_SNAPSHOT = 'off';
      // The worker only loads the addon (what importing the package does first).
      const w = new Worker("require(process.cwd() + '/build/Release/agentcluster.node')", { eval: true, execArgv: [] });
      await once(w, 'exit');
      const b = new Agent({ source: '' }); await b.evaluate('1');
      const after = agentSnapshotInfo();
      await a.terminate(); await b.terminate();
      console.log(JSON.stringify({ before, after }));`);
    const expected = agentSnapshotSupported ? 'in-use' : 'off';
    assert.equal(got.before.state, expected, JSON.stringify(got));
    assert.equal(got.after.state, expected, JSON.stringify(got));
    assert.equal(got.after.bytes, got.before.bytes, JSON.stringify(got));
  });
});
