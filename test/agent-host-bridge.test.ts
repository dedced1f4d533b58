// The host bridge (issue 14): `new Agent({ host })` / `new AgentPool({ host })`.
// What the agent can call, what comes back (clones only), errors, transfer,
// the blocking form, and attempts to reach anything else of the host.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError, AgentPool, move, type Agent, type AgentOptions, type HostFunctions } from '../src/index.js';
import { hostCallIdLimitForTests } from '../src/agent/host-bridge.js';
import { spawnAgent, terminateAll } from './support/agents.js';
import { until } from './support/waits.js';

after(terminateAll);

function withHost(host: HostFunctions, extra: Partial<AgentOptions> = {}): Agent {
  return spawnAgent({ source: '', host, ...extra });
}

/** Runs an async function body in the agent and returns its (cloned) result. */
function inAgent<T = unknown>(agent: Agent, body: string): Promise<T> {
  return agent.evaluate<T>(`(async () => { ${body} })()`);
}

describe('host bridge: calls', () => {
  it('host.NAME() resolves with a clone of what the host function returned; arguments arrive cloned; this is the host object', async () => {
    const seen: unknown[] = [];
    const api = {
      prefix: 'cfg:',
      async readConfig(this: { prefix: string }, name: string, options: { n: bigint; when: Date }) {
        seen.push(name, options);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { value: this.prefix + name, map: new Map([[1, options.n]]), when: options.when };
      },
    };
    const agent = withHost(api as unknown as HostFunctions);
    const result = await inAgent<{ value: string; map: Map<number, bigint>; sameDate: boolean }>(agent, `
      const when = new Date(5);
      const r = await host.readConfig('a', { n: 7n, when });
      return { value: r.value, map: r.map, sameDate: r.when !== when && r.when.getTime() === 5 && r.when instanceof Date };`);
    assert.deepEqual(result, { value: 'cfg:a', map: new Map([[1, 7n]]), sameDate: true });
    assert.equal(seen[0], 'a');
    assert.deepEqual(seen[1], { n: 7n, when: new Date(5) });
  });

  it('host.sync.NAME() returns the value, also when the host function awaits (the host loop keeps turning)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const agent = withHost({
      async slow(n: number) {
        const before = ticks;
        await new Promise((resolve) => setTimeout(resolve, 30));
        return { n: n * 2, hostTicked: ticks > before };
      },
    });
    try {
      const result = await inAgent(agent, `const r = host.sync.slow(21); return [r, typeof r.then];`);
      assert.deepEqual(result, [{ n: 42, hostTicked: true }, 'undefined']);
    } finally {
      clearInterval(timer);
    }
  });

  it('calls are answered in any order and each gets its own answer; a flood past highWaterMark loses and reorders nothing', async () => {
    const order: number[] = [];
    const agent = withHost({
      echo: async (i: number) => {
        order.push(i);
        if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        return i;
      },
    }, { highWaterMark: { messages: 16 } });
    const result = await inAgent<number[]>(agent, `
      const calls = []; for (let i = 0; i < 2000; i++) calls.push(host.echo(i));
      return Promise.all(calls);`);
    assert.deepEqual(result, Array.from({ length: 2000 }, (_, i) => i));
    assert.deepEqual(order, Array.from({ length: 2000 }, (_, i) => i), 'the host received them in call order');
  });

  it('an agent without host has no host global; one with host: {} has an empty frozen one', async () => {
    assert.equal(await spawnAgent({ source: '' }).evaluate('typeof host'), 'undefined');
    assert.deepEqual(await withHost({}).evaluate('[Object.keys(host).length, Object.keys(host.sync).length, Object.isFrozen(host)]'), [0, 0, true]);
  });

  it('only own enumerable function-valued data properties are exposed, read once at creation (no getter runs)', async () => {
    let getterRuns = 0;
    class Api {
      inherited() { return 'no'; }
    }
    const api = new Api() as unknown as Record<string, unknown>;
    api.visible = () => 'yes';
    api.notAFunction = 42;
    Object.defineProperty(api, 'hidden', { value: () => 'no', enumerable: false });
    Object.defineProperty(api, 'viaGetter', { get: () => { getterRuns++; return () => 'no'; }, enumerable: true });
    (api as Record<symbol, unknown>)[Symbol('s')] = () => 'no';
    const agent = withHost(api as HostFunctions);
    api.addedLater = () => 'no';
    api.visible = () => 'replaced';
    assert.deepEqual(await inAgent(agent, `return [Object.keys(host), Object.keys(host.sync), await host.visible(), host.sync.visible()];`),
      [['visible'], ['visible'], 'yes', 'yes']);
    assert.equal(getterRuns, 0, 'the host getter never ran');
  });

  it('host.NAME.transfer(list, ...args) moves buffers to the host; move(value, list) moves the answer back', async () => {
    let received: ArrayBuffer | undefined;
    let sent: ArrayBuffer | undefined;
    const agent = withHost({
      store(buffer: ArrayBuffer) {
        received = buffer;
        return buffer.byteLength;
      },
      make(size: number) {
        sent = new ArrayBuffer(size);
        new Uint8Array(sent).fill(7);
        return move({ buffer: sent }, [sent]);
      },
    });
    const result = await inAgent(agent, `
      const b = new ArrayBuffer(1024); new Uint8Array(b)[0] = 9;
      const n = await host.store.transfer([b], b);
      const s = new ArrayBuffer(8);
      const m = host.sync.store.transfer([s], s);
      const back = (await host.make(4096)).buffer;
      const backSync = host.sync.make(16).buffer;
      return [n, b.byteLength, m, s.byteLength, back.byteLength, new Uint8Array(back)[4095], backSync.byteLength];`);
    assert.deepEqual(result, [1024, 0, 8, 0, 4096, 7, 16]);
    assert.equal(received?.byteLength, 8);
    assert.equal(sent?.byteLength, 0, "the host's buffer was detached (moved, not copied)");
  });
});

describe('host bridge: errors come back with class, message, code and stack', () => {
  const api = {
    typeError() { throw new TypeError('bad type'); },
    rangeError: async () => { throw new RangeError('out of range'); },
    coded() { throw Object.assign(new Error('with code'), { code: 'E_CODED' }); },
    agentError() { throw new AgentError('ERR_AGENT_INVALID_OPTION', 'agent error'); },
    primitive() { throw 42; },
    plain() { throw { reason: 'plain object' }; },
    uncloneable() { return () => 1; },
    nested() { return { deep: { fn() {} } }; },
  };
  for (const form of ['host', 'host.sync']) {
    it(`${form}: every class and field survives`, async () => {
      const agent = withHost(api);
      const call = form === 'host' ? (n: string) => `await host.${n}()` : (n: string) => `host.sync.${n}()`;
      const result = await inAgent<unknown[]>(agent, `
        const out = [];
        const describe = (e) => (e instanceof Error ? { cls: e.constructor.name, name: e.name, message: e.message, code: e.code, stack: e.stack } : { thrown: e });
        async function attempt(f) { try { await f(); return 'no throw'; } catch (e) { return describe(e); } }
        out.push(await attempt(async () => ${call('typeError')}));
        out.push(await attempt(async () => ${call('rangeError')}));
        out.push(await attempt(async () => ${call('coded')}));
        out.push(await attempt(async () => ${call('agentError')}));
        out.push(await attempt(async () => ${call('primitive')}));
        out.push(await attempt(async () => ${call('plain')}));
        out.push(await attempt(async () => ${call('uncloneable')}));
        out.push(await attempt(async () => ${call('nested')}));
        return out;`);
      const [typeError, rangeError, coded, agentError, primitive, plain, uncloneable, nested] = result as Record<string, unknown>[];
      assert.deepEqual([typeError!.cls, typeError!.message], ['TypeError', 'bad type']);
      assert.match(String(typeError!.stack), /TypeError: bad type\n\s+at Object\.typeError/, 'the host stack');
      assert.deepEqual([rangeError!.cls, rangeError!.message], ['RangeError', 'out of range']);
      assert.deepEqual([coded!.cls, coded!.message, coded!.code], ['Error', 'with code', 'E_CODED']);
      assert.deepEqual([agentError!.name, agentError!.message, agentError!.code], ['AgentError', 'agent error', 'ERR_AGENT_INVALID_OPTION']);
      assert.deepEqual(primitive, { thrown: 42 });
      assert.deepEqual(plain, { thrown: { reason: 'plain object' } });
      assert.equal(uncloneable!.name, 'DataCloneError', 'a function result cannot be cloned: the call fails, nothing of the host leaks');
      assert.equal(nested!.name, 'DataCloneError');
    });
  }

  it('arguments that cannot be cloned: host.NAME() rejects, host.sync.NAME() throws, the host function never runs', async () => {
    let runs = 0;
    const agent = withHost({ f: () => runs++ });
    const result = await inAgent(agent, `
      const a = await host.f(() => 1).then(() => 'resolved', (e) => e.name);
      let b; try { host.sync.f(Symbol()); b = 'returned'; } catch (e) { b = e.name; }
      return [a, b];`);
    assert.deepEqual(result, ['DataCloneError', 'DataCloneError']);
    assert.equal(runs, 0);
  });
});

describe('host bridge: nothing else of the host is reachable', () => {
  it('host, host.sync and every method are frozen with no host prototype; their constructors are the agent\'s own', async () => {
    const agent = withHost({ f: () => 1 });
    const result = await inAgent(agent, `
      'use strict';
      const attempts = [];
      for (const mutate of [() => { host.f = 1; }, () => { host.g = 1; }, () => { host.sync.f = 1; }, () => { host.f.transfer = 1; }, () => { delete host.sync; }]) {
        try { mutate(); attempts.push('mutated'); } catch (e) { attempts.push(e.name); }
      }
      const viaConstructor = host.f.constructor('return typeof process + typeof require + typeof globalThis.host')();
      return [attempts, Object.getPrototypeOf(host), Object.getPrototypeOf(host.sync), 'constructor' in host, viaConstructor, typeof host.nope, typeof host.sync.nope];`);
    assert.deepEqual(result, [['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError'], null, null, false, 'undefinedundefinedobject', 'undefined', 'undefined']);
    await assert.rejects(inAgent(agent, 'return host.nope()'), (e: unknown) => e instanceof TypeError && /not a function/.test(e.message));
  });

  it('results are plain clones: prototype walks end in the agent, class instances and proxies arrive as data, host getters run on the host only', async () => {
    let getterRuns = 0;
    let trapRuns = 0;
    class Secret {
      token = 's3cret';
      leak() { return process; }
    }
    const agent = withHost({
      instance: () => new Secret(),
      withGetter: () => ({ get x() { getterRuns++; return 1; } }),
      proxy: () => new Proxy({ a: 1 }, { get: (t, k) => { trapRuns++; return Reflect.get(t, k); } }),
    });
    const result = await inAgent(agent, `
      const s = await host.instance();
      const walk = [Object.getPrototypeOf(s) === Object.prototype, typeof s.leak, s.constructor === Object,
        s.constructor.constructor('return typeof process')(), Object.keys(s)];
      const g = host.sync.withGetter();
      const d = Object.getOwnPropertyDescriptor(g, 'x');
      const p = await host.proxy().then((v) => ['value', JSON.stringify(v)], (e) => ['error', e.name]);
      return [walk, [typeof d.get, d.value], p];`);
    const [walk, getter, proxy] = result as unknown[][];
    assert.deepEqual(walk, [true, 'undefined', true, 'undefined', ['token']]);
    assert.deepEqual(getter, ['undefined', 1], 'a data property in the agent: the getter ran on the host');
    assert.equal(getterRuns, 1);
    // V8's serializer refuses proxies: the agent gets a DataCloneError, never the proxy.
    // Its traps ran on the host (the host-side await and move() check read it), never in the agent.
    assert.deepEqual(proxy, ['error', 'DataCloneError']);
    assert.ok(trapRuns > 0);
  });

  it('a returned thenable is resolved on the host (its then runs there); the agent gets the settled value', async () => {
    let thenRuns = 0;
    const agent = withHost({
      thenable: () => ({ then(resolve: (v: unknown) => void) { thenRuns++; resolve({ settled: true }); } }),
      rejecting: () => ({ then(_: unknown, reject: (e: unknown) => void) { reject(new RangeError('from then')); } }),
    });
    const result = await inAgent(agent, `
      const a = await host.thenable();
      const b = host.sync.thenable();
      const c = await host.rejecting().catch((e) => e instanceof RangeError && e.message);
      return [a, b, typeof a.then, c];`);
    assert.deepEqual(result, [{ settled: true }, { settled: true }, 'undefined', 'from then']);
    assert.equal(thenRuns, 2);
  });

  it('hostile call forms: bad transfer lists, construct, foreign this: typed errors, nothing sent', async () => {
    let calls = 0;
    const agent = withHost({ f: (...args: unknown[]) => { calls++; return args.length; } });
    const result = await inAgent<[string, string][]>(agent, `
      const tries = {
        nullList: () => host.f.transfer(null, 1),
        notTransferable: () => host.f.transfer([1], 1),
        stringList: () => host.f.transfer('ab', 1),
        syncNotTransferable: () => host.sync.f.transfer([{}], 1),
        construct: () => new host.f(),
        foreignThis: () => Reflect.apply(host.sync.f, { x: 1 }, [1, 2, 3]),
        listedTwice: () => { const b = new ArrayBuffer(8); return host.sync.f.transfer([b, b], b); },
        shared: () => host.sync.f.transfer([new SharedArrayBuffer(8)]),
      };
      const out = [];
      for (const [k, t] of Object.entries(tries)) {
        try { out.push([k, 'returned ' + await t()]); } catch (e) { out.push([k, e.name]); }
      }
      return out;`);
    assert.deepEqual(Object.fromEntries(result), {
      nullList: 'returned 1', notTransferable: 'DataCloneError', stringList: 'TypeError', syncNotTransferable: 'DataCloneError',
      construct: 'TypeError', foreignThis: 'returned 3', listedTwice: 'DataCloneError', shared: 'DataCloneError',
    });
    assert.equal(calls, 2, 'only the two valid calls reached the host');
  });

  it('huge arguments and answers go through (bounded by the flow control, not refused) and stay intact', async () => {
    const agent = withHost({ size: (s: string) => s.length, big: (n: number) => 'y'.repeat(n) });
    const result = await inAgent(agent, `
      const s = 'x'.repeat(48 * 1024 * 1024);
      return [await host.size(s), host.sync.size(s), (await host.big(32 * 1024 * 1024)).length];`);
    assert.deepEqual(result, [48 * 1024 * 1024, 48 * 1024 * 1024, 32 * 1024 * 1024]);
  });
});

describe('host bridge: re-entrancy, blocking, termination', () => {
  it('a host function may call agent.evaluate() during an async call; during a sync call evaluate() is refused (ERR_AGENT_BLOCKED), not a deadlock', async () => {
    let agent!: Agent;
    let refused: unknown;
    agent = withHost({
      reenter: async () => agent.evaluate('6 * 7'),
      reenterBlocked: async () => {
        refused = await agent.evaluate('1').then(() => 'ran', (e: AgentError) => e.code);
        return 'answered';
      },
    });
    assert.deepEqual(await inAgent(agent, `return [await host.reenter(), host.sync.reenterBlocked()];`), [42, 'answered']);
    assert.equal(refused, 'ERR_AGENT_BLOCKED');
  });

  it('terminate() ends a pending sync call at once; no more of its JS runs; a late answer is dropped', async () => {
    let answer!: (v: unknown) => void;
    let called!: () => void;
    const calledPromise = new Promise<void>((resolve) => (called = resolve));
    const agent = withHost({ never: () => new Promise((resolve) => { answer = resolve; called(); }) });
    const messages: unknown[] = [];
    agent.on('message', (m) => messages.push(m));
    await agent.evaluate(`onmessage = () => { postMessage('before'); host.sync.never(); postMessage('after'); }; 0`);
    agent.postMessage(0);
    await calledPromise;
    const started = performance.now();
    const info = await agent.terminate();
    assert.equal(info.reason, 'terminated');
    assert.ok(performance.now() - started < 2000, 'terminated promptly');
    answer('late');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(messages, ['before']);
  });

  it('a worker_thread that ends while its agent waits in host.sync terminates promptly (environment teardown ends the wait)', async () => {
    const { Worker } = await import('node:worker_threads');
    const index = new URL('../dist/src/index.js', import.meta.url).href; // built (npm run build); workers do not get tsx
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(index)}).then(({ Agent }) => {
        new Agent({ source: 'host.sync.never()', host: { never: () => { parentPort.postMessage('called'); return new Promise(() => {}); } } });
      });`, { eval: true, execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const started = performance.now();
    await worker.terminate();
    assert.ok(performance.now() - started < 2000, 'the worker ended promptly');
  });

  it('agent.interrupt() wakes a pending sync call: it throws ERR_AGENT_INTERRUPTED and the agent goes on', async () => {
    let called!: () => void;
    const calledPromise = new Promise<void>((resolve) => (called = resolve));
    const agent = withHost({ never: () => { called(); return new Promise(() => {}); }, ok: () => 'ok' });
    const result = inAgent(agent, `
      let e; try { host.sync.never(); } catch (error) { e = [error.code, error.message]; }
      return [e, host.sync.ok(), await host.ok()];`);
    await calledPromise;
    assert.equal(agent.interrupt(), true);
    assert.deepEqual(await result, [['ERR_AGENT_INTERRUPTED', 'host.sync.never() was interrupted by the host'], 'ok', 'ok']);
    assert.equal(agent.interrupt(), false, 'nothing to interrupt any more');
    assert.equal(await agent.evaluate('1 + 1'), 2, 'evaluate works again although the host function never answered');
  });

  it('in a canBlock: false agent host.sync throws ERR_AGENT_CANNOT_BLOCK (a TypeError); the async form works', async () => {
    const agent = withHost({ f: () => 1 }, { canBlock: false });
    const result = await inAgent(agent, `
      let e; try { host.sync.f(); } catch (error) { e = [error instanceof TypeError, error.code, error.message]; }
      return [e, await host.f()];`);
    assert.deepEqual(result, [[true, 'ERR_AGENT_CANNOT_BLOCK', 'host.sync.f() cannot block in an agent created with canBlock: false; use host.f() (a promise)'], 1]);
  });

  it('bad host options are refused with ERR_AGENT_INVALID_OPTION / ERR_POOL_INVALID_OPTION', () => {
    for (const host of [42, null, [() => 1], { sync: () => 1 }]) {
      assert.throws(() => spawnAgent({ source: '', host: host as HostFunctions }), (e: unknown) => e instanceof AgentError && e.code === 'ERR_AGENT_INVALID_OPTION', String(host));
      assert.throws(() => new AgentPool({ source: 'export default () => 1', host: host as HostFunctions }), (e: unknown) => (e as { code?: string }).code === 'ERR_POOL_INVALID_OPTION', String(host));
    }
  });
});

describe('host bridge in AgentPool', () => {
  const filename = new URL('./pool-fixtures/host-jobs.mjs', import.meta.url);

  it('jobs call the host (async), on every agent of the pool', async () => {
    const pool = new AgentPool({ filename, name: 'doubleViaHost', maxAgents: 2, host: { double: async (n: number) => n * 2 } });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, n) => pool.run({ n })));
      assert.deepEqual(results, Array.from({ length: 20 }, (_, n) => n * 2 + 1));
    } finally {
      await pool.destroy();
    }
  });

  it('the pool reads host once, at creation: later changes reach no agent, replacements included', async () => {
    const api: Record<string, (n: number) => number> = { double: (n) => n * 2 };
    const pool = new AgentPool({ filename, name: 'doubleViaHost', maxAgents: 1, host: api });
    try {
      api.double = () => -1;
      assert.equal(await pool.run({ n: 1 }), 3);
    } finally {
      await pool.destroy();
    }
  });

  it('a job reads its input through host.sync and parses it with an npm YAML parser (yaml, by bare name)', async () => {
    const files: Record<string, string> = {
      a: 'name: a\nlist: [1, 2, 3]\nnested:\n  ok: true\n',
      b: '- x\n- y: 2\n',
    };
    const pool = new AgentPool({ filename, maxAgents: 2, host: { readInput: (name: string) => files[name] ?? '' } });
    try {
      assert.deepEqual(await pool.run({ name: 'a' }), { name: 'a', list: [1, 2, 3], nested: { ok: true } });
      assert.deepEqual(await pool.run({ name: 'b' }), ['x', { y: 2 }]);
    } finally {
      await pool.destroy();
    }
  });
});

describe('host bridge: hostile-review fixes', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('F1: at most highWaterMark.messages async calls are unanswered at once; the rest wait in the agent and go out in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const order: number[] = [];
    const waiting: (() => void)[] = [];
    const agent = withHost({
      slow: (i: unknown) => {
        order.push(i as number);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<unknown>((resolve) => waiting.push(() => { inFlight--; resolve(i); }));
      },
    }, { highWaterMark: { messages: 8 } });
    const all = inAgent<number[]>(agent, `const p = []; for (let i = 0; i < 100; i++) p.push(host.slow(i)); return Promise.all(p);`);
    await sleep(100);
    assert.equal(inFlight, 8, 'the host sees only highWaterMark.messages calls');
    // Answer in bursts: every answer lets one queued call out, in FIFO order.
    while (order.length < 100 || waiting.length > 0) {
      const burst = waiting.splice(0);
      for (const answer of burst) answer();
      await sleep(5);
    }
    assert.deepEqual(await all, Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(order, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(maxInFlight, 8);
  });

  it('F1: a queued call is serialized when it goes out: an uncloneable argument rejects that call only', async () => {
    const agent = withHost({ echo: async (v: unknown) => { await sleep(5); return v; } }, { highWaterMark: { messages: 1 } });
    const result = await inAgent(agent, `
      const a = host.echo(1), b = host.echo(() => 0), c = host.echo(3);
      return Promise.allSettled([a, b, c]).then((r) => r.map((x) => x.status === 'fulfilled' ? x.value : x.reason.name));`);
    assert.deepEqual(result, [1, 'DataCloneError', 3]);
  });

  it('F2: answers never pile up past highWaterMark.messages in the agent mailbox', async () => {
    const big = 'y'.repeat(1 << 16);
    const agent = spawnAgent({ source: `for (let i = 0; i < 2000; i++) host.big(); postMessage('sent'); for (;;) {}`,
      host: { big: () => big }, highWaterMark: { messages: 16, bytes: 65536 } });
    await new Promise((resolve) => agent.once('message', resolve));
    await sleep(300);
    assert.ok(agent.bufferedMessages <= 16, `bufferedMessages ${agent.bufferedMessages}`);
    assert.ok(agent.bufferedBytes <= 16 * 65600, `bufferedBytes ${agent.bufferedBytes}`);
    await agent.terminate();
  });

  it('F3: a returned pooled Buffer or partial view arrives as an exact-size copy (no other host bytes)', async () => {
    const secret = Buffer.from('Authorization: Bearer sk-live-TOPSECRET-1234');
    const backing = new Float64Array(new ArrayBuffer(64), 8, 2);
    backing.set([1.5, 2.5]);
    const agent = withHost({
      buf: () => Buffer.from('hello'),
      nested: () => ({ list: [Buffer.from('ab')], map: new Map([['k', new DataView(new ArrayBuffer(16), 4, 4)]]), f: backing }),
    });
    const result = await inAgent(agent, `
      const b = await host.buf();
      const n = await host.nested();
      const text = String.fromCharCode(...new Uint8Array(b.buffer));
      return [b.constructor.name, b.length, b.buffer.byteLength, text, text.includes('TOPSECRET'),
        n.list[0].buffer.byteLength, n.map.get('k').constructor.name, n.map.get('k').buffer.byteLength,
        n.f.constructor.name, n.f.buffer.byteLength, Array.from(n.f)];`);
    assert.deepEqual(result, ['Uint8Array', 5, 5, 'hello', false, 2, 'DataView', 4, 'Float64Array', 16, [1.5, 2.5]]);
    assert.equal(secret.length > 0, true);
  });

  it('F4: an answer or throw that cannot be cloned rejects with a DataCloneError that quotes no host source', async () => {
    const agent = withHost({
      retFn: () => function hostSecretBody() { return 'SECRET-SOURCE'; },
      throwFn: () => { throw { f: () => 'SECRET-SOURCE' }; },
    });
    const result = await inAgent<string[][]>(agent, `
      const r = [];
      for (const f of [host.retFn, host.throwFn]) {
        try { await f(); r.push(['no throw']); } catch (e) { r.push([e.name, e.message, String(e.stack)]); }
      }
      return r;`);
    for (const [name, message, stack] of result) {
      assert.equal(name, 'DataCloneError');
      assert.match(message!, /^the host function's answer could not be cloned: /);
      assert.doesNotMatch(message! + stack!, /SECRET-SOURCE|hostSecretBody/);
    }
    assert.equal(result[0]![1], "the host function's answer could not be cloned: function");
  });

  it('F5: host names with lone surrogates are refused with ERR_AGENT_INVALID_OPTION (they would collapse into U+FFFD)', () => {
    for (const name of ['\uD800', 'a\uDBFFb', '\uDC00']) {
      assert.throws(() => spawnAgent({ source: '', host: { [name]: () => 1 } }),
        (e: unknown) => e instanceof AgentError && e.code === 'ERR_AGENT_INVALID_OPTION');
    }
    // A well-formed pair is a name like any other.
    assert.doesNotThrow(() => spawnAgent({ source: '', host: { '\uD83D\uDE00': () => 1 } }));
  });

  it('F6: getHeapStatistics/getHeapSnapshot/start/stopCpuProfile during host.sync are refused with ERR_AGENT_BLOCKED, not a hang', async () => {
    let agent!: Agent;
    const codes: unknown[] = [];
    agent = withHost({
      stats: async () => {
        for (const request of [() => agent.getHeapStatistics(), () => agent.getHeapSnapshot(), () => agent.startCpuProfile(), () => agent.stopCpuProfile()]) {
          codes.push(await Promise.race([request().then(() => 'answered', (e: AgentError) => e.code), sleep(3000).then(() => 'hang')]));
        }
        return 'ok';
      },
    });
    assert.equal(await agent.evaluate('host.sync.stats()'), 'ok');
    assert.deepEqual(codes, ['ERR_AGENT_BLOCKED', 'ERR_AGENT_BLOCKED', 'ERR_AGENT_BLOCKED', 'ERR_AGENT_BLOCKED']);
    assert.equal(typeof (await agent.getHeapStatistics()).used_heap_size, 'number', 'answered again once the call returned');
  });

  it('F7: the answer of an interrupted host.sync call detaches none of the host buffers it would move', async () => {
    const buf = new ArrayBuffer(1 << 16);
    let answered!: () => void;
    const done = new Promise<void>((resolve) => (answered = resolve));
    let entered!: () => void;
    const called = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const agent = withHost({
      handOff: async () => { entered(); await released; setImmediate(answered); return move({ buf }, [buf]); },
    });
    const result = agent.evaluate(`try { host.sync.handOff(); 'answered' } catch (e) { e.code }`);
    // The host has the call; the agent blocks in it (interrupt() is false until it does).
    await called;
    await until(() => agent.interrupt(), 10_000, 'the agent blocked in host.sync to take the interrupt');
    assert.equal(await result, 'ERR_AGENT_INTERRUPTED');
    release(); // the answer arrives only after the interrupt, as in the race this guards
    await done;
    assert.equal(buf.byteLength, 1 << 16, 'the host keeps its buffer');
  });

  it('F8: call ids that wrap skip a call still pending (a long-poll keeps its own answer)', async () => {
    let release!: (v: unknown) => void;
    const agent = spawnAgent({
      source: '',
      host: { longPoll: () => new Promise((resolve) => (release = resolve)), quick: (i: unknown) => i },
      // Ids wrap at 4 instead of 2^32: 1 (the long-poll), 2, 3, then 1 again unless skipped.
      [hostCallIdLimitForTests]: 4,
    } as AgentOptions);
    await agent.evaluate(`globalThis.poll = host.longPoll().then((v) => 'poll:' + v); 0`);
    const quick = await inAgent(agent, `const r = []; for (let i = 0; i < 6; i++) r.push(await host.quick(i)); return r;`);
    assert.deepEqual(quick, [0, 1, 2, 3, 4, 5]);
    release('late');
    assert.equal(await agent.evaluate('poll'), 'poll:late');
  });

  it('F9: the arguments array is defined, not [[Set]]: a setter on Array.prototype sees nothing', async () => {
    let received: unknown;
    const agent = withHost({ f: (...args: unknown[]) => { received = args; return args.length; } });
    const result = await agent.evaluate(`
      let stash = 'untouched';
      Object.defineProperty(Array.prototype, '0', { set(v) { stash = v; }, configurable: true });
      const n = host.sync.f('secret-arg', 2);
      delete Array.prototype[0];
      [n, stash]`);
    assert.deepEqual(result, [2, 'untouched']);
    assert.deepEqual(received, ['secret-arg', 2]);
  });
});
