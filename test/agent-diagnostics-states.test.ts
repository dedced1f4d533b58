// Per-agent diagnostics in the (call × agent state) pairs that
// test/agent-diagnostics.test.ts does not cover: the snapshot string and a
// profile started while the agent spins in `while (true)`, every call on an
// agent that has already exited (closed, terminated, out of memory), and calls
// in flight while the agent stops for its heap limit or closes itself.
// The full table is in docs/architecture.md ("Diagnostics per agent").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Agent, AgentError } from '../src/index.js';
import { delay, nextMessage, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

const isCode = (code: string) => (error: unknown) => error instanceof AgentError && error.code === code;
const marker = 'class StatesMarker { constructor() { this.tag = "s"; } } globalThis.marker = new StatesMarker();';

/** Whether the parsed snapshot has an object node whose constructor name is `name`. */
function hasObjectNamed(text: string, name: string): boolean {
  const snapshot = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object');
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = snapshot.nodes[i + fields.indexOf('type')];
    if (type === objectType && snapshot.strings[snapshot.nodes[i + fields.indexOf('name')]!] === name) return true;
  }
  return false;
}

/** The function name with the most samples in a .cpuprofile. */
function hottestFunction(profile: Awaited<ReturnType<Agent['stopCpuProfile']>>): string {
  const hits = new Map<string, number>();
  for (const node of profile.nodes) hits.set(node.callFrame.functionName, (hits.get(node.callFrame.functionName) ?? 0) + node.hitCount);
  return [...hits].sort((a, b) => b[1] - a[1])[0]![0];
}

/** Every asynchronous diagnostics call, so that each can be checked in one state. */
const asyncCalls: [string, (agent: Agent) => Promise<unknown>][] = [
  ['getHeapStatistics', (agent) => agent.getHeapStatistics()],
  ['getHeapSnapshot', (agent) => agent.getHeapSnapshot()],
  ['getHeapSnapshotString', (agent) => agent.getHeapSnapshotString()],
  ['startCpuProfile', (agent) => agent.startCpuProfile()],
  ['stopCpuProfile', (agent) => agent.stopCpuProfile()],
];

/** 'answered', or for a snapshot stream how it ended: a stream handed out before the stop must end or error, typed. */
async function settleStream(value: unknown): Promise<string> {
  if (!(value instanceof Readable)) return 'answered';
  return new Promise<string>((resolve) => {
    value.on('error', (error: unknown) => resolve(error instanceof AgentError ? error.code : String(error)));
    value.on('end', () => resolve('answered'));
    value.resume();
  });
}

describe('busy in while (true)', () => {
  it('getHeapSnapshotString: parses and holds the marker the agent made', async () => {
    const agent = spawnAgent({ source: `${marker} postMessage("spinning"); for (;;) {}` });
    await nextMessage(agent);
    const text = await within(agent.getHeapSnapshotString(), 30_000, 'a busy agent snapshot string');
    assert.ok(hasObjectNamed(text, 'StatesMarker'));
    await agent.terminate();
  });

  it('startCpuProfile reaches a spinning agent; the profile names the hot function', async () => {
    // The agent spins in a loop until the profile has started, then enters
    // the hot function. (Code already optimized when a profile starts is
    // credited to its caller: on V8 11 only a never-returning OSR function,
    // on V8 12+ also a hot function the loop re-enters; see
    // docs/architecture.md.)
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const agent = spawnAgent({
      data: flag.buffer,
      source: 'const flag = new Int32Array(agentData); postMessage("spinning"); while (Atomics.load(flag, 0) === 0) {} ' +
        'function busyHot() { let s = 0; for (let i = 0; i < 1e6; i++) s += i % 7; return s; } for (;;) busyHot();',
    });
    await nextMessage(agent);
    await delay(100);
    await within(agent.startCpuProfile(), 20_000, 'startCpuProfile on a busy agent');
    Atomics.store(flag, 0, 1);
    await delay(300);
    const profile = await within(agent.stopCpuProfile(), 20_000, 'stopCpuProfile on a busy agent');
    assert.equal(hottestFunction(profile), 'busyHot');
    await agent.terminate();
  });
});

describe('after the agent exited', () => {
  const exits: [string, () => Promise<Agent>, string][] = [
    ['closed itself', async () => {
      const agent = spawnAgent({ source: 'close();' });
      await agent.exited;
      return agent;
    }, 'ERR_AGENT_CLOSED'],
    ['terminated', async () => {
      const agent = spawnAgent({ source: 'for (;;) {}' });
      await agent.terminate();
      return agent;
    }, 'ERR_AGENT_TERMINATED'],
    ['out of memory', async () => {
      const agent = spawnAgent({ source: 'const keep = []; for (;;) keep.push([1, 2, 3, {}]);', resourceLimits: { maxHeapMB: 8 } });
      agent.on('error', () => {});
      await agent.exited;
      return agent;
    }, 'ERR_AGENT_OUT_OF_MEMORY'],
  ];
  for (const [how, exited, code] of exits) {
    it(`${how}: every call rejects with ${code}; cpuUsage stays readable`, async () => {
      const agent = await exited();
      for (const [name, call] of asyncCalls) await assert.rejects(within(call(agent), 10_000, name), isCode(code), name);
      const usage = agent.cpuUsage();
      assert.ok(usage.cpuMs >= 0 && usage.wallMs > 0);
      assert.deepEqual(agent.cpuUsage(), usage);
    });
  }
});

describe('exiting while the calls are in flight', () => {
  it('the agent reaches its heap limit: the call in flight rejects with ERR_AGENT_OUT_OF_MEMORY', async () => {
    const agent = spawnAgent({ source: 'postMessage(0); const keep = []; for (;;) keep.push([1, 2, 3, {}]);', resourceLimits: { maxHeapMB: 16 } });
    agent.on('error', () => {});
    await nextMessage(agent);
    // Each loop keeps one call in flight until one fails: the last is the
    // one in flight when the agent stops, the earlier ones were answered.
    const untilRejected = async (call: () => Promise<unknown>): Promise<[number, string]> => {
      for (let answered = 0; ; answered++) {
        try {
          if ((await settleStream(await call())) !== 'answered') return [answered, 'stream error'];
        } catch (error) {
          return [answered, error instanceof AgentError ? error.code : String(error)];
        }
      }
    };
    const results = await within(
      Promise.all([
        untilRejected(() => agent.getHeapStatistics()),
        untilRejected(() => agent.getHeapSnapshotString()),
        untilRejected(async () => {
          await agent.startCpuProfile();
          return agent.stopCpuProfile();
        }),
      ]),
      120_000,
      'the in-flight calls',
    );
    assert.equal((await agent.exited).reason, 'out-of-memory');
    for (const [, code] of results) assert.ok(['ERR_AGENT_OUT_OF_MEMORY', 'ERR_AGENT_SNAPSHOT_FAILED'].includes(code), JSON.stringify(results));
    assert.equal(results[0]![1], 'ERR_AGENT_OUT_OF_MEMORY');
  });

  it('the agent closes itself while a profile runs and a snapshot is pending: typed rejections, never a hang', async () => {
    const agent = spawnAgent({ source: `${marker} onmessage = () => close();` });
    await agent.ready;
    await agent.startCpuProfile();
    agent.postMessage(0);
    const stop = agent.stopCpuProfile().then(() => 'answered', (error: unknown) => (error instanceof AgentError ? error.code : String(error)));
    const snapshot = agent.getHeapSnapshotString().then((text) => (hasObjectNamed(text, 'StatesMarker') ? 'answered' : 'no marker'), (error: unknown) => (error instanceof AgentError ? error.code : String(error)));
    const results = await within(Promise.all([stop, snapshot]), 30_000, 'the calls');
    for (const result of results) assert.ok(['answered', 'ERR_AGENT_CLOSED'].includes(result), JSON.stringify(results));
    assert.equal((await agent.exited).reason, 'closed');
  });
});
