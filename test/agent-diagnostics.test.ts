// Issue 18: per-agent observability — heap statistics, heap snapshots, CPU
// profiles and thread CPU time, on idle agents, agents busy in a
// `while (true)` loop (reached by an interrupt) and agents that exit meanwhile.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { Agent, AgentError } from '../src/index.js';
import { delay, nextMessage, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

const busyLoop = 'postMessage("spinning"); for (;;) {}';
const isCode = (code: string) => (error: unknown) => error instanceof AgentError && error.code === code;

async function spinning(source = busyLoop): Promise<Agent> {
  const agent = spawnAgent({ source });
  await nextMessage(agent);
  return agent;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Whether the snapshot holds an object node whose constructor name is `name`. */
function hasObjectNamed(text: string, name: string): boolean {
  const snapshot = JSON.parse(text) as Snapshot;
  const fields = snapshot.snapshot.meta.node_fields;
  const typeIndex = fields.indexOf('type');
  const nameIndex = fields.indexOf('name');
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object');
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (snapshot.nodes[i + typeIndex] === objectType && snapshot.strings[snapshot.nodes[i + nameIndex]!] === name) return true;
  }
  return false;
}

describe('getHeapStatistics', () => {
  it('idle: the fields of v8.getHeapStatistics(), plus externalMemory', async () => {
    const agent = spawnAgent({ source: '' });
    await agent.ready;
    const stats = await agent.getHeapStatistics();
    for (const key of Object.keys(getHeapStatistics())) assert.equal(typeof (stats as unknown as Record<string, unknown>)[key], 'number', key);
    assert.equal(typeof stats.externalMemory, 'number');
    assert.ok(stats.used_heap_size > 0 && stats.used_heap_size <= stats.total_heap_size);
    assert.equal(stats.number_of_native_contexts, 1);
  });

  it('busy in a while (true) loop of the entry script: answered by an interrupt', async () => {
    const agent = await spinning();
    const stats = await within(agent.getHeapStatistics(), 20_000, 'heap statistics of a busy agent');
    assert.ok(stats.used_heap_size > 0);
    await agent.terminate();
  });

  it('asked before the agent even started, while its entry script spins: still answered', async () => {
    const agent = spawnAgent({ source: 'for (;;) {}' });
    const stats = await within(agent.getHeapStatistics(), 20_000, 'heap statistics of a starting agent');
    assert.ok(stats.used_heap_size > 0);
    await agent.terminate();
  });

  it('blocked in Atomics.wait: answered, and the wait goes on', async () => {
    const sab = new SharedArrayBuffer(4);
    const agent = spawnAgent({ source: 'const a = new Int32Array(agentData); postMessage("waiting"); postMessage(Atomics.wait(a, 0, 0));', data: sab });
    assert.equal(await nextMessage(agent), 'waiting');
    await delay(20);
    const stats = await within(agent.getHeapStatistics(), 20_000, 'heap statistics of a waiting agent');
    assert.ok(stats.used_heap_size > 0);
    const result = nextMessage(agent);
    Atomics.notify(new Int32Array(sab), 0);
    assert.equal(await result, 'ok');
  });

  it('a buffer received by transfer is accounted to the receiving agent', async () => {
    const agent = spawnAgent({ source: 'onmessage = (e) => { globalThis.kept = e.data; postMessage(0); };' });
    await agent.ready;
    const before = (await agent.getHeapStatistics()).externalMemory;
    const buffer = new ArrayBuffer(32 * 1024 * 1024);
    agent.postMessage(buffer, [buffer]);
    await nextMessage(agent);
    const afterTransfer = (await agent.getHeapStatistics()).externalMemory;
    assert.ok(afterTransfer - before >= 32 * 1024 * 1024, `${before} -> ${afterTransfer}`);
  });

  it('the agent exits meanwhile (terminate): rejects with ERR_AGENT_TERMINATED', async () => {
    const agent = spawnAgent({ source: 'for (;;) {}' });
    const pending = agent.getHeapStatistics();
    void agent.terminate();
    // Either answered first or rejected with the exit error: never left pending.
    await within(pending.then(() => undefined, (error: unknown) => assert.ok(isCode('ERR_AGENT_TERMINATED')(error), String(error))), 20_000, 'the request');
    await assert.rejects(agent.getHeapStatistics(), isCode('ERR_AGENT_TERMINATED'));
  });

  it('the agent closes itself meanwhile: rejects with ERR_AGENT_CLOSED', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => { close(); };' });
    await agent.ready;
    agent.postMessage(0);
    await agent.exited;
    await assert.rejects(agent.getHeapStatistics(), isCode('ERR_AGENT_CLOSED'));
  });
});

describe('getHeapSnapshot', () => {
  const marker = 'class DiagnosticsMarker { constructor() { this.tag = "m"; } } globalThis.marker = new DiagnosticsMarker();';

  it('idle: a .heapsnapshot (DevTools JSON) holding the marker object the agent made', async () => {
    const agent = spawnAgent({ source: marker });
    await agent.ready;
    const text = await agent.getHeapSnapshotString();
    assert.ok(hasObjectNamed(text, 'DiagnosticsMarker'));
  });

  it('busy in while (true): the stream arrives in chunks, and parses', async () => {
    const agent = await spinning(`${marker} ${busyLoop}`);
    const stream = await within(agent.getHeapSnapshot(), 30_000, 'a busy agent snapshot');
    // 'data' in flowing mode sees each chunk as pushed (an async iterator's read()
    // joins whatever is buffered, one piece when the host was busy meanwhile).
    let chunks = 0;
    const parts: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        chunks++;
        parts.push(chunk);
      });
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    assert.ok(chunks > 1, `${chunks} chunks`);
    assert.ok(hasObjectNamed(Buffer.concat(parts).toString(), 'DiagnosticsMarker'));
    await agent.terminate();
  });

  it('a destroyed stream cancels the snapshot; the agent goes on', async () => {
    const agent = spawnAgent({ source: marker });
    await agent.ready;
    const stream = await agent.getHeapSnapshot();
    stream.destroy();
    assert.equal(await within(agent.evaluate('1 + 1'), 20_000, 'evaluate after a cancelled snapshot'), 2);
    assert.ok(hasObjectNamed(await agent.getHeapSnapshotString(), 'DiagnosticsMarker'));
  });

  it('an unread stream holds the agent back (bounded window); reading releases it', async () => {
    const agent = spawnAgent({ source: 'globalThis.big = Array.from({ length: 200000 }, (_, i) => ({ i }));' });
    await agent.ready;
    const stream = await agent.getHeapSnapshot();
    await delay(200);
    // The agent stopped at the window (4 MiB) instead of queueing the whole snapshot.
    assert.ok(stream.readableLength < 8 * 1024 * 1024, `${stream.readableLength} bytes buffered`);
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 8 * 1024 * 1024, `${bytes} bytes`);
    assert.equal(await agent.evaluate('big.length'), 200000);
  });

  it('the agent is terminated meanwhile: the promise rejects or the stream errors, with an AgentError', async () => {
    const agent = spawnAgent({ source: 'globalThis.big = Array.from({ length: 200000 }, (_, i) => ({ i }));' });
    await agent.ready;
    const outcome = agent.getHeapSnapshot().then(
      async (stream) => {
        await delay(50);
        void agent.terminate();
        for await (const _ of stream) await delay(5);
        return 'completed';
      },
      (error: unknown) => error,
    );
    const result = await within(outcome.catch((error: unknown) => error), 30_000, 'the snapshot outcome');
    // Finishing first is allowed; otherwise a typed error, never a hang.
    if (result !== 'completed') assert.ok(result instanceof AgentError, String(result));
    await agent.exited;
  });
});

describe('CPU profiles', () => {
  it('finds the hot function of a busy loop', async () => {
    const agent = spawnAgent({ source: 'function hotSpinner() { for (;;) {} } onmessage = () => hotSpinner();' });
    await agent.ready;
    await agent.startCpuProfile();
    agent.postMessage(0);
    await delay(300);
    const profile = await within(agent.stopCpuProfile(), 20_000, 'stopCpuProfile on a busy agent');
    assert.ok(profile.samples.length > 0 && profile.samples.length === profile.timeDeltas.length);
    assert.ok(profile.endTime >= profile.startTime);
    const hits = new Map<string, number>();
    for (const node of profile.nodes) hits.set(node.callFrame.functionName, (hits.get(node.callFrame.functionName) ?? 0) + node.hitCount);
    const hottest = [...hits].sort((a, b) => b[1] - a[1])[0]![0];
    assert.equal(hottest, 'hotSpinner', JSON.stringify([...hits]));
    const hot = profile.nodes.find((node) => node.callFrame.functionName === 'hotSpinner')!;
    assert.equal(hot.callFrame.lineNumber, 0); // 0-based, as DevTools expects
    await agent.terminate();
  });

  it('stop without start, and start twice, are typed errors', async () => {
    const agent = spawnAgent({ source: '' });
    await agent.ready;
    await assert.rejects(agent.stopCpuProfile(), isCode('ERR_AGENT_NO_PROFILE'));
    await agent.startCpuProfile();
    await assert.rejects(agent.startCpuProfile(), isCode('ERR_AGENT_PROFILE_ACTIVE'));
    const profile = await agent.stopCpuProfile();
    assert.ok(Array.isArray(profile.nodes));
  });

  it('a profile still running when the agent exits is dropped; stop rejects', async () => {
    const agent = spawnAgent({ source: 'for (;;) {}' });
    await agent.startCpuProfile();
    await agent.terminate();
    await assert.rejects(agent.stopCpuProfile(), isCode('ERR_AGENT_TERMINATED'));
  });
});

describe('cpuUsage', () => {
  it('counts the thread CPU time of a busy agent, not of an idle one; frozen after exit', async () => {
    const busy = await spinning();
    const idle = spawnAgent({ source: '' });
    await idle.ready;
    const busyStart = busy.cpuUsage();
    const idleStart = idle.cpuUsage();
    await delay(300);
    const busyEnd = busy.cpuUsage();
    const idleEnd = idle.cpuUsage();
    assert.ok(busyEnd.wallMs - busyStart.wallMs >= 250);
    // On a loaded machine the busy thread may get little CPU, but more than an idle one.
    assert.ok(busyEnd.cpuMs - busyStart.cpuMs > idleEnd.cpuMs - idleStart.cpuMs, `${JSON.stringify([busyStart, busyEnd, idleStart, idleEnd])}`);
    assert.ok(idleEnd.cpuMs - idleStart.cpuMs < 50);
    await busy.terminate();
    const final = busy.cpuUsage();
    await delay(50);
    assert.deepEqual(busy.cpuUsage(), final);
    assert.ok(final.cpuMs >= busyEnd.cpuMs);
  });
});

describe('out-of-memory diagnostics', () => {
  it('the exit info carries the heap statistics at the limit; the near-limit snapshot is written', async () => {
    const file = join(tmpdir(), `agentcluster-oom-${process.pid}.heapsnapshot`);
    rmSync(file, { force: true });
    const agent = spawnAgent({
      source: 'class OomMarker {} const keep = []; for (;;) keep.push(new OomMarker(), [1, 2, 3]);',
      resourceLimits: { maxHeapMB: 24, heapSnapshotNearLimitFile: file },
    });
    agent.on('error', () => {});
    const info = await within(agent.exited, 60_000, 'the out-of-memory exit');
    assert.equal(info.reason, 'out-of-memory');
    assert.ok(info.heapStatistics, 'heapStatistics in the exit info');
    assert.ok(info.heapStatistics.used_heap_size > 16 * 1024 * 1024, String(info.heapStatistics.used_heap_size));
    assert.ok(statSync(file).size > 0);
    assert.ok(hasObjectNamed(readFileSync(file, 'utf8'), 'OomMarker'));
    rmSync(file, { force: true });
  });

  it('other exits carry no heap statistics', async () => {
    const agent = spawnAgent({ source: 'close();' });
    const info = await agent.exited;
    assert.equal(info.heapStatistics, undefined);
  });

  it('heapSnapshotNearLimitFile is validated', () => {
    for (const bad of ['', 42, 'a\0b']) {
      assert.throws(() => new Agent({ source: '', resourceLimits: { heapSnapshotNearLimitFile: bad as string } }), isCode('ERR_AGENT_INVALID_OPTION'));
    }
  });
});
