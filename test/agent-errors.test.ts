// Issue 2: faults — uncaught errors and unhandled rejections end the agent
// with 'error'; evaluate() failures do not; invalid options are coded errors;
// handles refuse foreign threads.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, AgentError, liveAgentCount, type AgentOptions, type ExitInfo } from '../src/index.js';
import { native, type NativeEventBatch } from '../src/native.js';
import { HostEventKind } from '../src/native-event-schema.js';
import { toNativeOptions } from '../src/agent/options.js';
import { asAgentError } from '../src/agent/errors.js';
import { describeChild, repoRoot, runFixture, runNode, spawnAgent, terminateAll } from './support/agents.js';
import { nextMessage, once, within } from './support/waits.js';

after(terminateAll);

/** Waits for the agent's first 'error' and its 'exit'; asserts the order. */
async function errorThenExit(agent: Agent): Promise<{ error: unknown; exit: ExitInfo; errors: number }> {
  const order: string[] = [];
  let errors = 0;
  let firstError: unknown;
  agent.on('error', (error) => {
    errors++;
    firstError ??= error;
    order.push('error');
  });
  const [exit] = await once<[ExitInfo]>(agent, 'exit');
  order.push('exit');
  assert.deepEqual(order.slice(0, 2), ['error', 'exit'], `events in order: ${order}`);
  return { error: firstError, exit, errors };
}

function assertAgentError(error: unknown, name: string, message: string, stackMentions: string[] = []) {
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  assert.equal(error.name, name);
  assert.equal(error.message, message);
  assert.equal(typeof error.stack, 'string');
  assert.ok(error.stack!.includes(`${name}: ${message}`), `stack starts with the header:\n${error.stack}`);
  for (const part of stackMentions) assert.ok(error.stack!.includes(part), `stack mentions ${part}:\n${error.stack}`);
}

describe('uncaught errors in the entry', () => {
  it('reject ready with the agent\'s error (name, message, stack from inside the agent); exit error', async () => {
    const agent = spawnAgent({ name: 'thrower', source: 'function explode() { throw new TypeError("bad input"); }\nexplode();' });
    let caught: unknown;
    await within(agent.ready.catch((error: unknown) => (caught = error)), 10_000, 'ready to settle');
    assertAgentError(caught, 'TypeError', 'bad input', ['explode', 'thrower']);
    assert.ok(caught instanceof TypeError, 'the host gets a real TypeError');
    assert.deepEqual(await agent.exited, { code: 1, reason: 'error' });
    assert.equal(agent.state, 'exited');
  });

  it("also emit 'error' when a listener is attached", async () => {
    const agent = spawnAgent({ source: 'throw new RangeError("early")' });
    const { error, exit } = await errorThenExit(agent);
    assertAgentError(error, 'RangeError', 'early');
    assert.deepEqual(exit, { code: 1, reason: 'error' });
    await assert.rejects(agent.ready, (e: unknown) => e === error);
  });

  it('keep a thrown non-Error value as is (string, number, object); an uncloneable one becomes an Error with its text', async () => {
    const cases: [string, (value: unknown) => void][] = [
      ['throw "plain string"', (value) => assert.equal(value, 'plain string')],
      ['throw 42', (value) => assert.equal(value, 42)],
      ['throw { code: "E_CUSTOM", detail: [1, 2] }', (value) => assert.deepEqual(value, { code: 'E_CUSTOM', detail: [1, 2] })],
    ];
    for (const [source, check] of cases) {
      const agent = spawnAgent({ source });
      const value = await agent.ready.then(
        () => assert.fail(`${source}: ready resolved`),
        (error: unknown) => error,
      );
      check(value);
      assert.equal((await agent.exited).reason, 'error', source);
    }
  });

  it(
    'a thrown uncloneable value (a Symbol) rejects ready with an Error whose message is its text',
    async () => {
      const agent = spawnAgent({ source: 'throw Symbol("sym")' });
      const value = await agent.ready.then(() => assert.fail('ready resolved'), (error: unknown) => error);
      assert.ok(value instanceof Error, String(value));
      assert.match(value.message, /Symbol\(sym\)/);
    },
  );

  it(
    'a custom error class keeps its name as worker_threads does',
    async () => {
      const agent = spawnAgent({
        source: 'class ValidationError extends Error { constructor(m) { super(m); this.name = "ValidationError"; this.field = "email"; } }\nthrow new ValidationError("bad email");',
      });
      const error = (await agent.ready.then(() => assert.fail('ready resolved'), (e: unknown) => e)) as Error;
      assert.match(error.stack ?? '', /^ValidationError: bad email/);
      assert.equal(error.message, 'bad email');
      assert.equal(error.name, 'ValidationError');
    },
  );

  it('a string `code` on the error survives (uncaught in the entry and evaluate() rejections)', async () => {
    const agent = spawnAgent({ source: 'const e = new TypeError("coded"); e.code = "E_CODED"; throw e;' });
    await assert.rejects(agent.ready, (error: unknown) => error instanceof TypeError && (error as { code?: string }).code === 'E_CODED');
    const other = spawnAgent({ source: '' });
    await assert.rejects(other.evaluate('const e = new RangeError("x"); e.code = "E_EVAL"; throw e'), (error: unknown) => error instanceof RangeError && (error as { code?: string }).code === 'E_EVAL');
  });

  it('a SyntaxError in the source rejects ready with SyntaxError', async () => {
    const agent = spawnAgent({ source: 'let = = 1;' });
    await assert.rejects(agent.ready, (error: unknown) => (error as Error).name === 'SyntaxError');
    assert.equal((await agent.exited).reason, 'error');
  });
});

describe('uncaught errors after ready', () => {
  it("in onmessage: 'error' with the stack, then exit error; later messages are not handled", async () => {
    const agent = spawnAgent({ source: 'onmessage = function handler(e) { if (e.data === "boom") throw new EvalError("in handler"); postMessage(e.data); };' });
    await agent.ready;
    const handled: unknown[] = [];
    agent.on('message', (value) => handled.push(value));
    const outcome = errorThenExit(agent);
    agent.postMessage('boom');
    try {
      agent.postMessage('after');
    } catch (error) {
      // The agent may already have died on 'boom' (the exit is not delivered yet): a coded error is fine.
      assert.equal((error as AgentError).code, 'ERR_AGENT_TERMINATED');
    }
    const { error, exit, errors } = await outcome;
    assertAgentError(error, 'EvalError', 'in handler', ['handler']);
    assert.deepEqual(exit, { code: 1, reason: 'error' });
    assert.equal(errors, 1);
    assert.deepEqual(handled, []);
  });

  it('in an addEventListener listener', async () => {
    const agent = spawnAgent({ source: 'addEventListener("message", () => { throw new Error("listener"); });' });
    await agent.ready;
    const outcome = errorThenExit(agent);
    agent.postMessage(1);
    const { error, exit } = await outcome;
    assertAgentError(error, 'Error', 'listener');
    assert.equal(exit.reason, 'error');
  });

  it('in a timer callback', async () => {
    const agent = spawnAgent({ source: 'setTimeout(function tick() { throw new ReferenceError("in timer"); }, 5);' });
    const { error, exit } = await errorThenExit(agent);
    assertAgentError(error, 'ReferenceError', 'in timer', ['tick']);
    assert.equal(exit.reason, 'error');
  });

  it('in a setInterval callback (reported once, interval stops with the agent)', async () => {
    const agent = spawnAgent({ source: 'setInterval(() => { throw new Error("interval"); }, 1);' });
    const { error, errors } = await errorThenExit(agent);
    assertAgentError(error, 'Error', 'interval');
    assert.equal(errors, 1);
  });

  it('in a queueMicrotask callback', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => queueMicrotask(function micro() { throw new SyntaxError("in microtask"); });' });
    await agent.ready;
    const outcome = errorThenExit(agent);
    agent.postMessage(0);
    const { error, exit } = await outcome;
    assertAgentError(error, 'SyntaxError', 'in microtask', ['micro']);
    assert.equal(exit.reason, 'error');
  });

  it('in a microtask queued by the entry', async () => {
    const agent = spawnAgent({ source: 'queueMicrotask(() => { throw new Error("entry microtask"); });' });
    const { error, exit } = await errorThenExit(agent);
    assertAgentError(error, 'Error', 'entry microtask');
    assert.equal(exit.reason, 'error');
  });

  it('an unhandled rejection ends the agent like an uncaught error', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => { Promise.reject(new TypeError("nobody catches me")); };' });
    await agent.ready;
    const outcome = errorThenExit(agent);
    agent.postMessage(0);
    const { error, exit } = await outcome;
    assertAgentError(error, 'TypeError', 'nobody catches me');
    assert.deepEqual(exit, { code: 1, reason: 'error' });
  });

  it('an unhandled rejection from an async function in a timer too', async () => {
    const agent = spawnAgent({ source: 'setTimeout(async () => { await null; throw new Error("async fail"); }, 1);' });
    const { error } = await errorThenExit(agent);
    assertAgentError(error, 'Error', 'async fail');
  });

  it('a rejection handled before the microtask queue drains is not reported', async () => {
    const agent = spawnAgent({
      source: 'onmessage = () => { const p = Promise.reject(new Error("late")); queueMicrotask(() => p.catch(() => {})); setTimeout(() => postMessage("alive"), 5); };',
    });
    await agent.ready;
    let errors = 0;
    agent.on('error', () => errors++);
    agent.postMessage(0);
    assert.equal(await nextMessage(agent), 'alive');
    assert.equal(errors, 0);
  });

  it('trackUnhandledRejections: false keeps the agent alive', async () => {
    const agent = spawnAgent({ trackUnhandledRejections: false, source: 'Promise.reject(new Error("ignored")); setTimeout(() => postMessage("alive"), 5);' });
    let errors = 0;
    agent.on('error', () => errors++);
    assert.equal(await nextMessage(agent), 'alive');
    assert.equal(errors, 0);
  });

  it('pending evaluate() calls reject when the agent dies of an uncaught error', async () => {
    const agent = spawnAgent({ source: 'onmessage = () => { throw new Error("dies"); };' });
    await agent.ready;
    agent.on('error', () => {});
    const pending = agent.evaluate('new Promise(() => {})');
    await agent.evaluate('1'); // the first one is parked
    agent.postMessage(0);
    await assert.rejects(within(pending, 10_000, 'rejection'), (error: unknown) => error instanceof AgentError && error.code === 'ERR_AGENT_TERMINATED');
    assert.throws(() => agent.postMessage(1), (error: unknown) => (error as AgentError).code === 'ERR_AGENT_TERMINATED');
  });
});

describe('evaluate() failures keep the agent alive', () => {
  it('a thrown error, a rejected promise, a SyntaxError and an uncloneable result each reject that call only', async () => {
    const agent = spawnAgent({ source: 'globalThis.counter = 0;' });
    await agent.ready;
    let errors = 0;
    agent.on('error', () => errors++);

    await assert.rejects(agent.evaluate('counter++; throw new RangeError("sync")'), (error: unknown) => {
      assertAgentError(error, 'RangeError', 'sync');
      return error instanceof RangeError;
    });
    await assert.rejects(agent.evaluate('counter++; Promise.reject(new URIError("async"))'), (error: unknown) => {
      assertAgentError(error, 'URIError', 'async');
      return true;
    });
    await assert.rejects(agent.evaluate('counter++; (async () => { await null; throw "raw"; })()'), (error: unknown) => error === 'raw');
    await assert.rejects(agent.evaluate('}{'), (error: unknown) => (error as Error).name === 'SyntaxError');
    await assert.rejects(agent.evaluate('counter++; (function f() {})'), (error: unknown) => /could not be cloned/.test((error as Error).message));
    assert.equal(await agent.evaluate('counter'), 4);
    assert.equal(await agent.evaluate('Promise.resolve(counter * 10)'), 40);
    assert.equal(errors, 0);
    assert.equal(agent.state, 'running');
  });

  it(
    'an uncloneable evaluate() result rejects with a DataCloneError (name kept across the boundary)',
    async () => {
      const agent = spawnAgent({ source: '' });
      await assert.rejects(agent.evaluate('(function f() {})'), (error: unknown) => {
        assert.equal((error as Error).name, 'DataCloneError');
        assert.equal((error as Error).message, 'function f() {} could not be cloned.');
        return true;
      });
      assert.equal(await agent.evaluate('"alive"'), 'alive');
    },
  );

  it('evaluate() of a non-string rejects with TypeError', async () => {
    const agent = spawnAgent({ source: '' });
    await assert.rejects(agent.evaluate(42 as unknown as string), TypeError);
  });

  it('concurrent evaluate() calls settle independently and each with its own result', async () => {
    const agent = spawnAgent({ source: '' });
    const results = await Promise.allSettled([
      agent.evaluate('new Promise((r) => setTimeout(() => r("slow"), 20))'),
      agent.evaluate('"fast"'),
      agent.evaluate('throw 1'),
    ]);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : ['rejected', r.reason])), ['slow', 'fast', ['rejected', 1]]);
  });
});

describe('invalid options', () => {
  const cases: [string, unknown][] = [
    ['no source or file', {}],
    ['both source and file', { source: '', file: 'x.mjs' }],
    ['source not a string', { source: 42 }],
    ['file not a path', { file: 42 }],
    ['unknown type', { source: '', type: 'commonjs' }],
    ['name not a string', { source: '', name: 7 }],
    ['negative maxHeapMB', { source: '', resourceLimits: { maxHeapMB: -1 } }],
    ['zero maxHeapMB', { source: '', resourceLimits: { maxHeapMB: 0 } }],
    ['NaN maxYoungGenMB', { source: '', resourceLimits: { maxYoungGenMB: Number.NaN } }],
    ['string stackSizeMB', { source: '', resourceLimits: { stackSizeMB: '8' } }],
    ['infinite stackSizeMB', { source: '', resourceLimits: { stackSizeMB: Infinity } }],
    ['canBlock not a boolean', { source: '', canBlock: 'yes' }],
    ['null options', null],
    ['string options', 'onmessage = () => {}'],
  ];
  for (const [label, options] of cases) {
    it(`${label} → ERR_AGENT_INVALID_OPTION, nothing started`, () => {
      const before = liveAgentCount();
      assert.throws(
        () => new Agent(options as AgentOptions),
        (error: unknown) => error instanceof AgentError && error.code === 'ERR_AGENT_INVALID_OPTION' && error instanceof Error,
      );
      assert.equal(liveAgentCount(), before);
    });
  }
});

describe('canBlock', () => {
  it('canBlock: false makes Atomics.wait throw; the default lets it block', async () => {
    const src = 'try { postMessage(Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)); } catch (e) { postMessage(e.name); }';
    assert.equal(await nextMessage(spawnAgent({ source: src, canBlock: false })), 'TypeError');
    assert.equal(await nextMessage(spawnAgent({ source: src })), 'timed-out');
    assert.equal(await nextMessage(spawnAgent({ source: src, canBlock: true })), 'timed-out');
  });
});

describe('thread affinity', () => {
  it('the native handle reports that a call from a foreign OS thread would be refused with ERR_AGENT_WRONG_THREAD', async () => {
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    const handle = new native.AgentHandle(toNativeOptions({ source: '' }), (batch: NativeEventBatch) => {
      if (batch.some((event) => event[0] === HostEventKind.Exit)) exited();
    });
    try {
      assert.equal(handle.checkThreadFromForeignThread(), true);
    } finally {
      handle.terminate();
      await within(done, 10_000, 'the raw handle to exit');
    }
  });

  it('an agent handle works from its own thread (no false positives)', async () => {
    const agent = spawnAgent({ source: '' });
    assert.equal(await agent.evaluate('"same thread"'), 'same thread');
  });
});

describe('texts too long for a V8 string', () => {
  // Issue 11 item 6: the agent rebuilds sources from UTF-8; past 2^29-24
  // bytes V8 refuses the string, and ToLocalChecked() aborted the process.
  it('source → ERR_AGENT_INVALID_OPTION, evaluate() → RangeError, native path → the agent fails with a RangeError; nothing aborts (child process)', async () => {
    const result = await runFixture('long-source.ts', [], { timeoutMs: 240_000 });
    assert.equal(result.signal, null, describeChild(result));
    assert.equal(result.code, 0, describeChild(result));
    const results = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.deepEqual(results['new Agent'], [true, 'ERR_AGENT_INVALID_OPTION']);
    assert.deepEqual(results['evaluate'], ['RangeError', true]);
    assert.equal(results['after'], 42);
    assert.match(String((results['native'] as unknown[])[0]), /^RangeError: Invalid string length/);
    assert.equal((results['native'] as unknown[])[1], 'error');
  });
});

describe('between an agent closing itself and its exit event', () => {
  // Issue 11 item 18: postMessage/evaluate said ERR_AGENT_TERMINATED there.
  it('postMessage and evaluate report ERR_AGENT_CLOSED', async () => {
    const agent = spawnAgent({ source: 'close();' });
    // Spin without yielding, so the exit event cannot have been dispatched.
    const end = Date.now() + 20_000;
    let error: unknown;
    while (error === undefined && Date.now() < end) {
      try {
        agent.postMessage(1);
      } catch (e) {
        error = e;
      }
    }
    assert.notEqual(agent.state, 'exited', 'the exit event has not been dispatched yet');
    assert.ok(error instanceof AgentError && error.code === 'ERR_AGENT_CLOSED', String(error));
    await assert.rejects(agent.evaluate('1'), (e: unknown) => e instanceof AgentError && e.code === 'ERR_AGENT_CLOSED');
    assert.deepEqual(await agent.exited, { code: 0, reason: 'closed' });
  });
});

describe('errors thrown by native code', () => {
  // Issue 11 item 19: native ERR_AGENT_* errors (START_FAILED, WRONG_THREAD,
  // INVALID_OPTION) arrived as plain Errors; the Agent constructor now hands
  // them on as AgentError instances, same code and message.
  it('asAgentError turns a native ERR_AGENT_* Error into an AgentError and leaves others alone', () => {
    const plain = Object.assign(new Error('could not start the agent thread'), { code: 'ERR_AGENT_START_FAILED' });
    const converted = asAgentError(plain, 'a1');
    assert.ok(converted instanceof AgentError);
    assert.equal((converted as AgentError).code, 'ERR_AGENT_START_FAILED');
    assert.equal((converted as AgentError).message, 'could not start the agent thread');
    assert.equal((converted as AgentError).agentName, 'a1');
    const clone = Object.assign(new Error('x'), { name: 'DataCloneError', code: 25 });
    assert.equal(asAgentError(clone), clone);
  });

  // Arguments of the wrong type are a TypeError at the native boundary, as
  // for every entry point (test/native-arg-types.test.ts).
  it('the native handle itself refuses bad arguments with a TypeError ERR_INVALID_ARG_TYPE', () => {
    assert.throws(() => new native.AgentHandle(null as never, null as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  // The addon is handed the AgentError class at load and builds its errors
  // from it (CodedError), so every native ERR_AGENT_* path (a failed start,
  // ERR_AGENT_WRONG_THREAD on any method) yields an AgentError, not only
  // the ones the Agent constructor rewraps. A failed start, in a child: a
  // 1 GiB stack under an address-space limit just above what it maps.
  it('the native handle throws AgentError instances itself, without any TypeScript rewrap (child process)', async () => {
    const code = `
      const { native } = await import(${JSON.stringify(repoRoot + 'src/native.ts')});
      const { toNativeOptions } = await import(${JSON.stringify(repoRoot + 'src/agent/options.ts')});
      const { AgentError } = await import(${JSON.stringify(repoRoot + 'src/agent/errors.ts')});
      const { execFileSync } = await import('node:child_process');
      const { readFileSync } = await import('node:fs');
      process.on('unhandledRejection', (e) => { if (!/Wasm memory/.test(String(e))) throw e; });
      const mapped = Number(/VmSize:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (mapped + 256 * 1024 * 1024)]);
      try {
        new native.AgentHandle({ ...toNativeOptions({ source: '' }), stackSizeMB: 1024 }, () => {});
        console.log('started');
      } catch (e) { console.log(JSON.stringify([e instanceof AgentError, e.name, e.code])); }
    `;
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, describeChild(result));
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').pop()!), [true, 'AgentError', 'ERR_AGENT_START_FAILED']);
  });
});
