// Option validation of Agent and AgentPool in one table (issue 11, items 5
// and 20): each row is an option, a value, and what must happen. Limits rows
// run against BOTH constructors, which must agree value for value (one
// validator); misspelled names are refused with the nearest valid one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, AgentError, AgentPool, liveAgentCount, PoolError, type AgentOptions, type AgentPoolOptions } from '../src/index.js';
import { jobs } from './support/pool.js';
import { describeChild, runNode, spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

type Expect = 'ok' | RegExp;

/** resourceLimits rows: [limits, expected]; a RegExp is the refusal's message. */
const limitRows: [Record<string, unknown>, Expect][] = [
  // maxHeapMB: floor 4 (the startup snapshot must fit), ceiling 1 TiB
  [{ maxHeapMB: 4 }, 'ok'],
  [{ maxHeapMB: 16 }, 'ok'],
  [{ maxHeapMB: 1024 * 1024 }, 'ok'],
  [{ maxHeapMB: 3.99 }, /"resourceLimits\.maxHeapMB" option must be a number from 4 to 1048576 \(MB\); got 3\.99/],
  [{ maxHeapMB: 0.5 }, /maxHeapMB.*got 0\.5/],
  [{ maxHeapMB: 0 }, /maxHeapMB.*got 0$/],
  [{ maxHeapMB: -1 }, /maxHeapMB.*got -1$/],
  [{ maxHeapMB: Number.NaN }, /maxHeapMB.*got NaN$/],
  [{ maxHeapMB: Infinity }, /maxHeapMB.*got Infinity$/],
  [{ maxHeapMB: 1e15 }, /maxHeapMB.*got 1000000000000000$/],
  [{ maxHeapMB: '64' }, /maxHeapMB.*got "64"$/],
  [{ maxHeapMB: null }, /maxHeapMB.*got null$/],
  [{ maxHeapMB: 64n }, /maxHeapMB.*got 64n$/],
  // maxYoungGenMB: above 0 (V8 rounds tiny and huge values to its own bounds)
  [{ maxYoungGenMB: 0.001 }, 'ok'],
  [{ maxYoungGenMB: 8 }, 'ok'],
  [{ maxYoungGenMB: 1024 * 1024 }, 'ok'],
  [{ maxYoungGenMB: 0 }, /"resourceLimits\.maxYoungGenMB" option must be a number above 0 and at most 1048576 \(MB\); got 0$/],
  [{ maxYoungGenMB: -8 }, /maxYoungGenMB.*got -8$/],
  [{ maxYoungGenMB: Number.NaN }, /maxYoungGenMB.*got NaN$/],
  [{ maxYoungGenMB: Infinity }, /maxYoungGenMB.*got Infinity$/],
  [{ maxYoungGenMB: 1e7 }, /maxYoungGenMB.*got 10000000$/],
  // stackSizeMB: floor 0.25 (0.05 used to crash the process), ceiling 1 GiB
  [{ stackSizeMB: 0.25 }, 'ok'],
  [{ stackSizeMB: 4 }, 'ok'],
  [{ stackSizeMB: 1024 }, 'ok'],
  [{ stackSizeMB: 0.05 }, /"resourceLimits\.stackSizeMB" option must be a number from 0\.25 to 1024 \(MB\); got 0\.05$/],
  [{ stackSizeMB: 0.2 }, /stackSizeMB.*got 0\.2$/],
  [{ stackSizeMB: 0 }, /stackSizeMB.*got 0$/],
  [{ stackSizeMB: -4 }, /stackSizeMB.*got -4$/],
  [{ stackSizeMB: Number.NaN }, /stackSizeMB.*got NaN$/],
  [{ stackSizeMB: Infinity }, /stackSizeMB.*got Infinity$/],
  [{ stackSizeMB: 2048 }, /stackSizeMB.*got 2048$/],
  [{ stackSizeMB: '8' }, /stackSizeMB.*got "8"$/],
  // names
  [{ maxHeap: 5 }, /^Unknown resourceLimits option "maxHeap" \(did you mean maxHeapMB\?\)$/],
  [{ maxheapmb: 5 }, /"maxheapmb" \(did you mean maxHeapMB\?\)/],
  [{ stackSize: 1 }, /"stackSize" \(did you mean stackSizeMB\?\)/],
  [{ maxYoungGen: 1 }, /"maxYoungGen" \(did you mean maxYoungGenMB\?\)/],
  [{}, 'ok'],
];

/** Whole-options rows for one constructor: [label, options, expected message]. */
const agentRows: [string, unknown, RegExp][] = [
  ['misspelled top-level name', { source: '', nmae: 'x' }, /^Unknown Agent option "nmae" \(did you mean name\?\)$/],
  ['a prefix of a name', { source: '', transfer: [] }, /"transfer" \(did you mean transferList\?\)/],
  ['wrong case', { source: '', canblock: true }, /"canblock" \(did you mean canBlock\?\)/],
  ['a pool option', { source: '', maxThreads: 2 }, /^Unknown Agent option "maxThreads"; valid options: source, file, /],
  ['resourceLimits not an object', { source: '', resourceLimits: 16 }, /"resourceLimits" option must be an object; got 16$/],
  ['options not an object', 'x', /"options" option must be an object; got "x"$/],
  ['the old host: \'test262\' form', { source: '', host: 'test262' }, /"host" option must be an object of functions \(the host bridge\); the global set is now chosen with globals: 'test262'; got "test262"$/],
  ['the old host: \'agent\' form', { source: '', host: 'agent' }, /now chosen with globals: 'agent'; got "agent"$/],
  ['an unknown global set', { source: '', globals: 'node' }, /"globals" option must be 'agent' or 'test262'; got "node"$/],
  ['a pool-only limit name', { source: '', resourceLimits: { maxOldGenerationSizeMb: 64 } }, /^Unknown resourceLimits option "maxOldGenerationSizeMb"; valid options: maxHeapMB, maxYoungGenMB, stackSizeMB, heapSnapshotNearLimitFile$/],
];

const poolRows: [string, unknown, RegExp][] = [
  ['maxThread', { filename: jobs, maxThread: 2 }, /^Unknown AgentPool option "maxThread" \(did you mean maxThreads\?\)$/],
  ['minAgent', { filename: jobs, minAgent: 1 }, /"minAgent" \(did you mean minAgents\?\)/],
  ['idleTimout', { filename: jobs, idleTimout: 5 }, /"idleTimout" \(did you mean idleTimeout\?\)/],
  ['a piscina option we do not have', { filename: jobs, useAtomics: false }, /^Unknown AgentPool option "useAtomics"; valid options: filename, /],
  ['an Agent option', { filename: jobs, transferList: [] }, /"transferList"/],
  ['options not an object', 42, /"options" option must be an object; got 42$/],
  ['alias below the floor', { filename: jobs, resourceLimits: { maxOldGenerationSizeMb: 1 } }, /"resourceLimits\.maxOldGenerationSizeMb" option must be a number from 4 to 1048576 \(MB\); got 1$/],
  ['alias stackSizeMb', { filename: jobs, resourceLimits: { stackSizeMb: 0.05 } }, /"resourceLimits\.stackSizeMb" option must be a number from 0\.25/],
  ['alias maxYoungGenerationSizeMb', { filename: jobs, resourceLimits: { maxYoungGenerationSizeMb: Number.NaN } }, /maxYoungGenerationSizeMb.*got NaN$/],
  ['misspelled alias', { filename: jobs, resourceLimits: { maxOldGenerationSizeMB: 64 } }, /"maxOldGenerationSizeMB" \(did you mean maxOldGenerationSizeMb\?\)/],
];

function agentOutcome(options: unknown): 'ok' | AgentError {
  const before = liveAgentCount();
  try {
    const agent = spawnAgent(options as AgentOptions);
    void agent.terminate();
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof AgentError, `not an AgentError: ${String(error)}`);
    assert.equal(error.code, 'ERR_AGENT_INVALID_OPTION');
    assert.equal(liveAgentCount(), before, 'a refused Agent started nothing');
    return error;
  }
}

function poolOutcome(options: unknown): 'ok' | PoolError {
  try {
    // minAgents 0: a valid pool starts no agent until a task comes.
    const pool = new AgentPool(options as AgentPoolOptions);
    void pool.destroy();
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof PoolError, `not a PoolError: ${String(error)}`);
    assert.equal(error.code, 'ERR_POOL_INVALID_OPTION');
    return error;
  }
}

function check(outcome: 'ok' | Error, expected: Expect, label: string): void {
  if (expected === 'ok') assert.equal(outcome, 'ok', `${label}: refused: ${outcome === 'ok' ? '' : outcome.message}`);
  else {
    assert.notEqual(outcome, 'ok', `${label}: accepted`);
    assert.match((outcome as Error).message, expected, label);
  }
}

describe('resourceLimits: Agent and AgentPool accept and refuse the same values', () => {
  for (const [limits, expected] of limitRows) {
    const label = JSON.stringify(limits, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? `${v}n` : v));
    it(`${label} → ${expected === 'ok' ? 'accepted' : expected.source}`, () => {
      const agent = agentOutcome({ source: '', resourceLimits: limits });
      const pool = poolOutcome({ filename: jobs, minAgents: 0, resourceLimits: limits });
      check(agent, expected, `Agent ${label}`);
      check(pool, expected, `AgentPool ${label}`);
      if (agent !== 'ok' && pool !== 'ok') assert.equal(agent.message, pool.message, 'one validator, one message');
    });
  }
});

describe('Agent options', () => {
  for (const [label, options, expected] of agentRows) {
    it(`${label} → ERR_AGENT_INVALID_OPTION ${expected.source}`, () => check(agentOutcome(options), expected, label));
  }
});

describe('AgentPool options', () => {
  for (const [label, options, expected] of poolRows) {
    it(`${label} → ERR_POOL_INVALID_OPTION ${expected.source}`, () => check(poolOutcome(typeof options === 'object' ? { minAgents: 0, ...options } : options), expected, label));
  }

  it('run() and map() options: misspelled names and non-objects are refused', async () => {
    const pool = new AgentPool({ filename: jobs, minAgents: 0, maxAgents: 1 });
    try {
      const refused = (expected: RegExp) => (error: unknown) =>
        error instanceof PoolError && error.code === 'ERR_POOL_INVALID_OPTION' && expected.test(error.message);
      await assert.rejects(pool.run(1, { timout: 5 } as object), refused(/^Unknown run\(\) option "timout" \(did you mean timeout\?\)$/));
      await assert.rejects(pool.run(1, { transfer: [] } as object), refused(/"transfer" \(did you mean transferList\?\)/));
      await assert.rejects(pool.run(1, { priorty: 1 } as object), refused(/did you mean priority\?/));
      await assert.rejects(pool.run(1, 5 as unknown as object), refused(/"run\(\) options" option must be an object; got 5$/));
      await assert.rejects(pool.map([1], { concurency: 2 } as object).next(), refused(/^Unknown map\(\) option "concurency" \(did you mean concurrency\?\)$/));
      await assert.rejects(pool.map([1], { transferList: [] } as object).next(), refused(/"transferList"/));
      await assert.rejects(pool.map([1], { concurrency: 0 }).next(), refused(/"concurrency" option must be an integer >= 1; got 0$/));
      assert.equal(await pool.run(41, { timeout: 10_000, priority: 1 }), 42);
    } finally {
      await pool.destroy();
    }
  });
});

describe('accepted extremes run', () => {
  it('at the stack floor (0.25 MB) and the heap floor (4 MB) an agent runs, and deep recursion is a RangeError', async () => {
    const agent = spawnAgent({ source: '', resourceLimits: { stackSizeMB: 0.25, maxHeapMB: 4, maxYoungGenMB: 0.001 } });
    const result = await agent.evaluate<[string, boolean]>('let d = 0; function f() { d++; f(); } try { f(); } catch (e) { [e.name, d > 100] }');
    assert.deepEqual(result, ['RangeError', true]);
  });

  it('a stack below the floor given straight to the native handle is raised to it, not a crash (child process)', async () => {
    // Bypasses the TypeScript validation: 0.05 MB used to end in SIGSEGV.
    const code = `
      import { native } from './src/native.ts';
      import { toNativeOptions } from './src/agent/options.ts';
      const options = { ...toNativeOptions({ source: 'let d = 0; function f() { d++; f(); } try { f(); } catch (e) { close(); }' }), stackSizeMB: 0.05 };
      const handle = new native.AgentHandle(options, (batch) => {
        for (const event of batch) if (event[0] === 5) console.log('exit', event[2]);
      });`;
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 30_000 });
    assert.equal(result.signal, null, describeChild(result));
    assert.equal(result.code, 0, describeChild(result));
    assert.match(result.stdout, /exit closed/);
  });

  it('Agent is the class that refuses (a plain Error would not do)', () => {
    assert.throws(() => new Agent({ source: '', resourceLimits: { stackSizeMB: 0.05 } }), AgentError);
  });
});
