// The agent snapshot built in-process (native/agent/snapshot/): agents start
// from it only after it matched Node's blob; a blob built without the
// read-only cache fix is wrong, must be rejected, and agents stay correct.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentSnapshotSupported, describeChild, runNode } from './support/agents.js';

const code = `
  import { Agent, agentSnapshotInfo } from './src/index.ts';
  const before = agentSnapshotInfo().state;
  const results = [];
  for (let i = 0; i < 3; i++) {
    const a = new Agent({ source: '' });
    results.push(await a.evaluate(\`[String(Math.E), String(Math.PI), typeof Atomics.wait, JSON.stringify({ a: [1] }),
      Object.getOwnPropertyNames(Math).includes('E'), (2n ** 64n).toString(), /a(b)/.exec('ab')[1],
      Object.getOwnPropertyNames(globalThis).sort().join(',')].join('|')\`));
    await a.terminate();
  }
  console.log(JSON.stringify({ before, info: agentSnapshotInfo(), results }));`;

const expectedPrefix = [String(Math.E), String(Math.PI), 'function', '{"a":[1]}', 'true', '18446744073709551616', 'b'].join('|');

async function run(flags: string[], setting: string | undefined) {
  const env = { ...process.env };
  delete env.AGENTCLUSTER_AGENT_SNAPSHOT;
  if (setting !== undefined) env.AGENTCLUSTER_AGENT_SNAPSHOT = setting;
  const result = await runNode([...flags, '--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 60_000, env });
  assert.equal(result.code, 0, describeChild(result));
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as {
    before: string;
    info: { state: string; reason: string; bytes: number; nodeBytes: number; buildMs: number };
    results: string[];
  };
}

function assertWholeAgents(results: string[], reference: string[]) {
  for (const line of results) assert.ok(line.startsWith(expectedPrefix + '|'), line.slice(0, 200));
  assert.deepEqual(results, reference);
}

describe('agent snapshot built in-process', () => {
  if (!agentSnapshotSupported) {
    it(`on V8 ${process.versions.v8} the snapshot is off, says why, and agents are whole (child process)`, async () => {
      const unsupported = await run([], undefined);
      const off = await run([], 'off');
      assert.equal(unsupported.info.state, 'off');
      assert.match(unsupported.info.reason, /not supported on this V8 version/);
      assert.equal(unsupported.info.bytes, 0);
      assertWholeAgents(unsupported.results, off.results);
    });
    return;
  }
  it('default mode: verified, in use, smaller than Node\'s blob; agents see the same globals as with it off (child processes)', async () => {
    const built = await run([], undefined);
    const off = await run([], 'off');
    assert.equal(built.before, 'unbuilt');
    assert.equal(built.info.state, 'in-use', built.info.reason);
    assert.ok(built.info.bytes > 0 && built.info.bytes < built.info.nodeBytes, JSON.stringify(built.info));
    assert.equal(off.info.state, 'off');
    assert.equal(off.info.bytes, 0);
    assertWholeAgents(built.results, off.results);
    assertWholeAgents(off.results, off.results);
  });

  it('a blob built without the read-only cache fix fails verification: fallback to Node\'s blob, agents stay correct (child process)', async () => {
    const broken = await run([], 'skip-readonly-fix');
    const off = await run([], 'off');
    assert.equal(broken.info.state, 'fallback');
    assert.match(broken.info.reason, /differs from Node's blob/);
    assert.equal(broken.info.bytes, 0);
    assertWholeAgents(broken.results, off.results);
  });

  it('the first agent has the smallest stack and heap: the build on its thread still succeeds (child process)', async () => {
    const small = code.replace("new Agent({ source: '' })", "new Agent({ source: '', resourceLimits: { stackSizeMB: 0.25, maxHeapMB: 4 } })");
    assert.notEqual(small, code);
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', small], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, describeChild(result));
    const values = JSON.parse(result.stdout.trim().split('\n').pop()!) as { info: { state: string }; results: string[] };
    assert.equal(values.info.state, 'in-use');
    for (const line of values.results) assert.ok(line.startsWith(expectedPrefix + '|'), line.slice(0, 200));
  });

  it('under --no-node-snapshot agents keep V8\'s default blob (child process)', async () => {
    const result = await run(['--no-node-snapshot'], undefined);
    assert.equal(result.info.state, 'off');
    assert.match(result.info.reason, /no-node-snapshot/);
    for (const line of result.results) assert.ok(line.startsWith(expectedPrefix + '|'), line.slice(0, 200));
  });

  // Node's blob carries V8's number-to-string cache at its full 256 KB; the
  // first generation rebuilds it small (native/agent/snapshot/number_string_cache.h).
  const largestArraysCode = `
    import { Agent, agentSnapshotInfo } from './src/index.ts';
    async function largest(agent) {
      const snapshot = JSON.parse(await agent.getHeapSnapshotString());
      const fields = snapshot.snapshot.meta.node_fields;
      const types = snapshot.snapshot.meta.node_types[0];
      const size = fields.indexOf('self_size'), type = fields.indexOf('type');
      let max = 0;
      for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
        if (types[snapshot.nodes[i + type]] === 'array') max = Math.max(max, snapshot.nodes[i + size]);
      }
      return max;
    }
    const a = new Agent({ source: 'onmessage = () => {}' });
    await a.ready;
    const idle = await largest(a);
    // 0x8000 distinct integers to strings: V8 grows the cache at the first collision, as in any isolate.
    await a.evaluate('let s = 0; for (let i = 0; i < 0x8000; i++) s += String(i).length; s');
    const converted = await largest(a);
    await a.terminate();
    console.log(JSON.stringify({ state: agentSnapshotInfo().state, idle, converted }));`;

  async function largestArrays(flags: string[]) {
    const result = await runNode([...flags, '--import', 'tsx', '--input-type=module', '-e', largestArraysCode], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, describeChild(result));
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as { state: string; idle: number; converted: number };
  }

  it('an idle agent does not carry Node\'s full-size number cache; V8 still grows it on use (child process)', async () => {
    const sizes = await largestArrays([]);
    assert.equal(sizes.state, 'in-use');
    assert.ok(sizes.idle < 64 * 1024, `largest array of an idle agent: ${sizes.idle} bytes`);
    assert.ok(sizes.converted >= 256 * 1024, `after 0x8000 conversions: ${sizes.converted} bytes`);
  });

  it('with --max-semi-space-size the build leaves V8\'s flags alone and keeps the full cache (child process)', async () => {
    const sizes = await largestArrays(['--max-semi-space-size=16']);
    assert.equal(sizes.state, 'in-use');
    assert.ok(sizes.idle >= 256 * 1024, `largest array of an idle agent: ${sizes.idle} bytes`);
  });
});
