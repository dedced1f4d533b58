// Issue 2: agent lifecycle — ready/online, close, terminate in every state,
// AbortSignal, pending evaluate() rejection, use after exit, ref/unref.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, AgentError, liveAgentCount } from '../src/index.js';
import { describeChild, runFixture, spawnAgent, terminateAll } from './support/agents.js';
import { nextMessage, once, within } from './support/waits.js';

afterEach(terminateAll);

const isCoded = (code: string) => (error: unknown) => {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.equal((error as AgentError).code, code, `code of ${String(error)}`);
  return true;
};

describe('startup', () => {
  it('ready resolves after the entry ran, emits online, moves state starting → running', async () => {
    const agent = spawnAgent({ name: 'starter', source: 'globalThis.x = 41; x++;' });
    assert.equal(agent.state, 'starting');
    assert.equal(agent.name, 'starter');
    assert.ok(Number.isInteger(agent.threadId) && agent.threadId > 0);
    let online = 0;
    agent.on('online', () => online++);
    await within(agent.ready, 10_000, 'ready');
    assert.equal(agent.state, 'running');
    assert.equal(online, 1);
    assert.equal(await agent.evaluate('x'), 42);
  });

  it('gives every agent its own thread id', async () => {
    const agents = [0, 1, 2].map(() => spawnAgent({ source: '' }));
    await Promise.all(agents.map((agent) => agent.ready));
    assert.equal(new Set(agents.map((agent) => agent.threadId)).size, 3);
  });

  it('delivers messages posted before ready, in order', async () => {
    const agent = spawnAgent({ source: 'const seen = []; onmessage = (e) => { seen.push(e.data); if (seen.length === 3) postMessage(seen); };' });
    agent.postMessage(1);
    agent.postMessage(2);
    agent.postMessage(3);
    assert.deepEqual(await nextMessage(agent), [1, 2, 3]);
  });

  it('exit resolves `exited` and emits exit once, then state is exited and liveAgentCount drops', async () => {
    const before = liveAgentCount();
    const agent = spawnAgent({ source: '' });
    await agent.ready;
    assert.equal(liveAgentCount(), before + 1);
    let exits = 0;
    agent.on('exit', () => exits++);
    const info = await agent.terminate();
    assert.deepEqual(info, { code: 1, reason: 'terminated' });
    assert.deepEqual(await agent.exited, info);
    assert.equal(agent.state, 'exited');
    assert.equal(exits, 1);
    assert.equal(liveAgentCount(), before);
  });
});

describe('close()', () => {
  it('close() in the entry: ready resolves, exit { code: 0, reason: closed }', async () => {
    const agent = spawnAgent({ source: 'close();' });
    await agent.ready;
    assert.deepEqual(await within(agent.exited, 10_000, 'exit'), { code: 0, reason: 'closed' });
  });

  it('close() from onmessage finishes the current task, then exits with closed', async () => {
    const agent = spawnAgent({ source: 'onmessage = (e) => { close(); postMessage("after close " + e.data); };' });
    await agent.ready;
    const exit = once<[unknown]>(agent, 'exit');
    const reply = nextMessage(agent);
    agent.postMessage('x');
    assert.equal(await reply, 'after close x');
    assert.deepEqual((await exit)[0], { code: 0, reason: 'closed' });
  });

  it('after close, postMessage throws ERR_AGENT_CLOSED and evaluate rejects with it', async () => {
    const agent = spawnAgent({ source: 'close();' });
    await agent.exited;
    assert.throws(() => agent.postMessage(1), isCoded('ERR_AGENT_CLOSED'));
    await assert.rejects(agent.evaluate('1'), isCoded('ERR_AGENT_CLOSED'));
  });

  it('evaluate() calls pending when the agent closes reject with ERR_AGENT_CLOSED', async () => {
    const agent = spawnAgent({ source: '' });
    await agent.ready;
    const pending = agent.evaluate('new Promise(() => {})');
    await agent.evaluate('setTimeout(() => close(), 0)');
    await assert.rejects(within(pending, 10_000, 'rejection'), isCoded('ERR_AGENT_CLOSED'));
  });
});

describe('terminate()', () => {
  it('terminates an idle agent; terminate() resolves with the exit info and is idempotent', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => {};' });
    await agent.ready;
    const [first, second] = await Promise.all([agent.terminate(), agent.terminate()]);
    assert.deepEqual(first, { code: 1, reason: 'terminated' });
    assert.deepEqual(second, first);
    assert.deepEqual(await agent.terminate(), first);
  });

  it('terminates an agent spinning in while(true){} in its entry (ready rejects)', async () => {
    const agent = spawnAgent({ source: 'while (true) {}' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await within(agent.terminate(), 10_000, 'terminate'), { code: 1, reason: 'terminated' });
    await assert.rejects(agent.ready, isCoded('ERR_AGENT_TERMINATED'));
  });

  it('terminates an agent spinning inside evaluate(); the evaluate rejects with ERR_AGENT_TERMINATED', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => { postMessage("spinning"); for (;;) {} };' });
    await agent.ready;
    const spinning = nextMessage(agent);
    agent.postMessage(0);
    await spinning;
    const queued = [agent.evaluate('1'), agent.evaluate('2'), agent.evaluate('new Promise(() => {})')];
    const info = await within(agent.terminate(), 10_000, 'terminate');
    assert.deepEqual(info, { code: 1, reason: 'terminated' });
    for (const pending of queued) await assert.rejects(pending, isCoded('ERR_AGENT_TERMINATED'));
  });

  it('terminates an agent blocked in Atomics.wait(..., Infinity)', async () => {
    const agent = spawnAgent({
      source: 'onmessage = (e) => { const a = new Int32Array(e.data); postMessage("waiting"); postMessage(Atomics.wait(a, 0, 0)); };',
    });
    await agent.ready;
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    const waiting = nextMessage(agent);
    agent.postMessage(i32.buffer);
    assert.equal(await waiting, 'waiting');
    // It posted "waiting" right before Atomics.wait: give it a moment to park.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const messages: unknown[] = [];
    agent.on('message', (value) => messages.push(value));
    assert.deepEqual(await within(agent.terminate(), 10_000, 'terminate'), { code: 1, reason: 'terminated' });
    assert.deepEqual(messages, [], 'the wait must not have returned normally');
    assert.equal(i32[0], 0);
  });

  it('terminate right after construction (before the isolate exists) is not lost', async () => {
    for (let i = 0; i < 20; i++) {
      const agent = spawnAgent({ source: 'postMessage("ran"); onmessage = () => {};' });
      const messages: unknown[] = [];
      agent.on('message', (value) => messages.push(value));
      const info = await within(agent.terminate(), 10_000, `terminate #${i}`);
      assert.deepEqual(info, { code: 1, reason: 'terminated' });
      assert.equal(agent.state, 'exited');
      // It may or may not have run its entry, but if it did not become ready, ready rejects.
      const outcome = await agent.ready.then(
        () => 'ready',
        (error: unknown) => (isCoded('ERR_AGENT_TERMINATED')(error), 'rejected'),
      );
      assert.ok(outcome === 'ready' || outcome === 'rejected');
    }
    assert.equal(liveAgentCount(), 0);
  });

  it('terminates many agents at once, whatever each is doing', async () => {
    const sources = ['', 'for(;;){}', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)', 'setInterval(() => {}, 1)', 'onmessage = () => {}'];
    const agents = sources.flatMap((source) => [spawnAgent({ source }), spawnAgent({ source })]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const infos = await within(Promise.all(agents.map((agent) => agent.terminate())), 20_000, 'all terminations');
    for (const info of infos) assert.deepEqual(info, { code: 1, reason: 'terminated' });
    assert.equal(liveAgentCount(), 0);
  });
});

describe('signal', () => {
  it('an already-aborted signal: exit terminated, ready rejects', async () => {
    const agent = spawnAgent({ source: '', signal: AbortSignal.abort() });
    assert.deepEqual(await within(agent.exited, 10_000, 'exit'), { code: 1, reason: 'terminated' });
  });

  it(
    'an already-aborted signal never runs the agent\'s code (even with busy CPUs)',
    async () => {
      const spinners = [0, 1, 2].map(() => spawnAgent({ source: 'for (;;) {}' }));
      try {
        let ran = 0;
        for (let i = 0; i < 60; i++) {
          const agent = spawnAgent({ source: 'postMessage("ran")', signal: AbortSignal.abort() });
          agent.on('message', () => ran++);
          assert.deepEqual(await within(agent.exited, 10_000, 'exit'), { code: 1, reason: 'terminated' });
          await assert.rejects(agent.ready, isCoded('ERR_AGENT_TERMINATED'));
        }
        assert.equal(ran, 0);
      } finally {
        await Promise.all(spinners.map((agent) => agent.terminate()));
      }
    },
  );

  it('aborting after start terminates a spinning agent and rejects its pending evaluate', async () => {
    const controller = new AbortController();
    const agent = spawnAgent({ source: '', signal: controller.signal });
    await agent.ready;
    const pending = agent.evaluate('for (;;) {}');
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort();
    assert.deepEqual(await within(agent.exited, 10_000, 'exit'), { code: 1, reason: 'terminated' });
    await assert.rejects(pending, isCoded('ERR_AGENT_TERMINATED'));
  });

  it('aborting after the agent exited is harmless', async () => {
    const controller = new AbortController();
    const agent = spawnAgent({ source: 'close()', signal: controller.signal });
    assert.equal((await agent.exited).reason, 'closed');
    controller.abort();
    assert.equal((await agent.exited).reason, 'closed');
  });
});

describe('use after exit', () => {
  it('postMessage after terminate throws ERR_AGENT_TERMINATED; evaluate rejects with it', async () => {
    const agent = spawnAgent({ source: '' });
    await agent.terminate();
    assert.throws(() => agent.postMessage({ x: 1 }), isCoded('ERR_AGENT_TERMINATED'));
    await assert.rejects(agent.evaluate('1'), isCoded('ERR_AGENT_TERMINATED'));
    // ref/unref on a dead agent are no-ops, not crashes
    agent.ref();
    agent.unref();
  });

  it('the error is an AgentError naming the agent', async () => {
    const agent = spawnAgent({ name: 'gone', source: '' });
    await agent.terminate();
    assert.throws(
      () => agent.postMessage(1),
      (error: unknown) => error instanceof AgentError && error.agentName === 'gone' && /gone/.test(error.message),
    );
  });
});

describe('ref / unref (child process)', () => {
  it('an unref()\'d idle agent lets the process exit by itself', async () => {
    const result = await runFixture('ref-unref.ts', ['unref'], { timeoutMs: 20_000 });
    assert.equal(result.timedOut, false, describeChild(result));
    assert.equal(result.code, 0, describeChild(result));
    assert.equal(result.signal, null, describeChild(result));
    assert.match(result.stdout, /unref\n/);
    assert.match(result.stdout, /process exit 0/);
  });

  it('a ref\'d idle agent keeps the process alive until it is terminated', async () => {
    const result = await runFixture('ref-unref.ts', ['ref'], { timeoutMs: 20_000 });
    assert.equal(result.timedOut, false, describeChild(result));
    assert.equal(result.code, 0, describeChild(result));
    assert.match(result.stdout, /still alive\nagent exit terminated\nprocess exit 0/, describeChild(result));
  });

  it('ref() after unref() keeps the process alive again', async () => {
    const result = await runFixture('ref-unref.ts', ['unref-then-ref'], { timeoutMs: 20_000 });
    assert.equal(result.code, 0, describeChild(result));
    assert.match(result.stdout, /still alive\nagent exit terminated\nprocess exit 0/, describeChild(result));
  });
});

// Type-level check that the exported class is what tests construct.
void Agent;
