// Issue 2: the agent's global scope — exactly the web-worker-like globals,
// console forwarding, timers, microtasks, performance.now, data, name.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent, ConsoleLevel } from '../src/index.js';
import { collectMessages, nextMessage } from './support/waits.js';
import { describeChild, runFixture, spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

/** One shared idle agent for the read-only checks. */
let shared: Agent | undefined;
async function idle(): Promise<Agent> {
  shared ??= spawnAgent({ name: 'globals-probe', source: '' });
  await shared.ready;
  return shared;
}

describe('global scope', () => {
  it('has self === globalThis and every listed global with the right type', async () => {
    const agent = await idle();
    const types = await agent.evaluate<Record<string, string>>(`({
      self: self === globalThis ? 'same' : 'different',
      name: typeof name,
      agentData: typeof agentData,
      postMessage: typeof postMessage,
      onmessage: onmessage === null ? 'null' : typeof onmessage,
      addEventListener: typeof addEventListener,
      removeEventListener: typeof removeEventListener,
      close: typeof close,
      console: typeof console,
      'console.log': typeof console.log,
      'console.info': typeof console.info,
      'console.warn': typeof console.warn,
      'console.error': typeof console.error,
      'console.debug': typeof console.debug,
      setTimeout: typeof setTimeout,
      clearTimeout: typeof clearTimeout,
      setInterval: typeof setInterval,
      clearInterval: typeof clearInterval,
      queueMicrotask: typeof queueMicrotask,
      performance: typeof performance,
      'performance.now': typeof performance.now,
    })`);
    assert.deepEqual(types, {
      self: 'same',
      name: 'string',
      agentData: 'undefined',
      postMessage: 'function',
      onmessage: 'null',
      addEventListener: 'function',
      removeEventListener: 'function',
      close: 'function',
      console: 'object',
      'console.log': 'function',
      'console.info': 'function',
      'console.warn': 'function',
      'console.error': 'function',
      'console.debug': 'function',
      setTimeout: 'function',
      clearTimeout: 'function',
      setInterval: 'function',
      clearInterval: 'function',
      queueMicrotask: 'function',
      performance: 'object',
      'performance.now': 'function',
    });
  });

  it('has nothing of Node: no require, process, Buffer, fetch, module, global, setImmediate, ...', async () => {
    const agent = await idle();
    const names = ['require', 'process', 'Buffer', 'fetch', 'module', 'exports', '__filename', '__dirname', 'global', 'setImmediate', 'clearImmediate'];
    const types = await agent.evaluate<string[]>(`${JSON.stringify(names)}.map((n) => typeof globalThis[n])`);
    assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, types[i]])), Object.fromEntries(names.map((n) => [n, 'undefined'])));
    // and the standard library is all there
    assert.deepEqual(
      await agent.evaluate('[typeof Atomics, typeof SharedArrayBuffer, typeof WebAssembly, typeof Intl, typeof WeakRef].join()'),
      'object,function,object,object,function',
    );
  });

  it('the API globals are native functions that are not constructors', async () => {
    const agent = await idle();
    assert.equal(await agent.evaluate('try { new postMessage(1); "constructed" } catch (e) { e.name }'), 'TypeError');
    assert.equal(await agent.evaluate('postMessage.name + "/" + setTimeout.name'), 'postMessage/setTimeout');
  });
});

describe('name and data', () => {
  it('exposes the name option as self.name; a default name otherwise', async () => {
    const named = spawnAgent({ name: 'Ada', source: '' });
    assert.equal(await named.evaluate('self.name'), 'Ada');
    const anonymous = spawnAgent({ source: '' });
    assert.equal(await anonymous.evaluate('name'), anonymous.name);
    assert.match(anonymous.name, /\S/);
  });

  it('clones `data` into agentData (nested values, Map, Date, typed arrays)', async () => {
    const data = { n: 1, s: 'x', list: [1, 2, { deep: true }], map: new Map([['k', new Set([1])]]), when: new Date(5), bytes: new Uint16Array([1, 65535]) };
    const agent = spawnAgent({ source: 'postMessage(agentData)', data });
    const back = await nextMessage(agent);
    assert.deepEqual(back, data);
    assert.notEqual(back, data);
  });

  it('a data of undefined/null/0 is still defined as given', async () => {
    for (const value of [null, 0, false, '']) {
      const agent = spawnAgent({ source: 'postMessage(["agentData" in globalThis, agentData])', data: value });
      assert.deepEqual(await nextMessage(agent), [true, value]);
    }
  });

  it('transferList moves ArrayBuffers in data: detached on the host, bytes seen in the agent', async () => {
    const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
    const agent = spawnAgent({
      source: 'postMessage([agentData.buffer.byteLength, Array.from(new Uint8Array(agentData.buffer))])',
      data: { buffer },
      transferList: [buffer],
    });
    assert.equal(buffer.byteLength, 0, 'the host buffer is detached by the constructor');
    assert.deepEqual(await nextMessage(agent), [4, [1, 2, 3, 250]]);
  });

  it('a non-cloneable data throws DataCloneError from the constructor and starts nothing', async () => {
    assert.throws(() => spawnAgent({ source: '', data: { f() {} } }), (error: unknown) => (error as Error).name === 'DataCloneError');
  });
});

describe('messaging globals', () => {
  it('onmessage and every addEventListener listener receive { type, data }; removeEventListener works; duplicates ignored', async () => {
    const agent = spawnAgent({
      source: `
        const log = [];
        const a = (e) => log.push('a:' + e.type + ':' + e.data);
        const b = (e) => log.push('b:' + e.data);
        addEventListener('message', a);
        addEventListener('message', a); // same listener twice: called once
        addEventListener('message', b);
        onmessage = (e) => {
          log.push('on:' + e.data);
          if (e.data === 1) removeEventListener('message', b);
          if (e.data === 2) { onmessage = null; queueMicrotask(() => postMessage(log)); }
        };
      `,
    });
    await agent.ready;
    agent.postMessage(1);
    agent.postMessage(2);
    assert.deepEqual(await nextMessage(agent), ['on:1', 'a:message:1', 'b:1', 'on:2', 'a:message:2']);
  });

  it('postMessage(value, { transfer }) and postMessage(value, [transfer]) both move the buffer', async () => {
    const agent = spawnAgent({
      source: `
        const a = new ArrayBuffer(8), b = new ArrayBuffer(16);
        postMessage(a, [a]);
        postMessage(b, { transfer: [b] });
        postMessage([a.byteLength, b.byteLength]);
      `,
    });
    const [a, b, lengths] = await collectMessages<unknown>(agent, 3);
    assert.equal((a as ArrayBuffer).byteLength, 8);
    assert.equal((b as ArrayBuffer).byteLength, 16);
    assert.deepEqual(lengths, [0, 0]);
  });
});

describe('console', () => {
  it('forwards each level with its text to the console event', async () => {
    const agent = spawnAgent({
      source: `
        console.log('plain', 42);
        console.info('info', true);
        console.warn('warn', null);
        console.error('error', undefined);
        console.debug('debug', 1.5);
        postMessage('done');
      `,
    });
    const lines: [ConsoleLevel, string][] = [];
    agent.on('console', (level, text) => lines.push([level, text]));
    await nextMessage(agent);
    assert.deepEqual(lines, [
      ['log', 'plain 42'],
      ['info', 'info true'],
      ['warn', 'warn null'],
      ['error', 'error undefined'],
      ['debug', 'debug 1.5'],
    ]);
  });

  it('formats objects, errors and symbols readably', async () => {
    const agent = spawnAgent({ source: `console.log({ a: 1 }, [1, 'x'], Symbol('s'), 10n); console.log(new RangeError('bad')); postMessage(0);` });
    const lines: string[] = [];
    agent.on('console', (_level, text) => lines.push(text));
    await nextMessage(agent);
    assert.match(lines[0]!, /\{\s*"?a"?:\s*1\s*\}/);
    assert.match(lines[0]!, /Symbol\(s\)/);
    assert.match(lines[0]!, /10n/);
    assert.match(lines[1]!, /RangeError: bad/);
  });

  it('keeps console output and messages in the order the agent produced them', async () => {
    const agent = spawnAgent({ source: `console.log('one'); postMessage('two'); console.log('three'); postMessage('end');` });
    const seen: string[] = [];
    agent.on('console', (_level, text) => seen.push(text));
    agent.on('message', (value) => seen.push(String(value)));
    await new Promise<void>((resolve) => agent.on('message', (value) => value === 'end' && resolve()));
    assert.deepEqual(seen, ['one', 'two', 'three', 'end']);
  });

  it('without a console listener writes log/info/debug to stdout and warn/error to stderr (child process)', async () => {
    const result = await runFixture('console-default.ts', [], { timeoutMs: 20_000 });
    assert.equal(result.code, 0, describeChild(result));
    for (const line of ['LOG-LINE 1', 'INFO-LINE', 'DEBUG-LINE']) {
      assert.ok(result.stdout.includes(line), `${line} on stdout\n${describeChild(result)}`);
      assert.ok(!result.stderr.includes(line), `${line} not on stderr`);
    }
    for (const line of ['WARN-LINE', 'ERROR-LINE']) {
      assert.ok(result.stderr.includes(line), `${line} on stderr\n${describeChild(result)}`);
      assert.ok(!result.stdout.includes(line), `${line} not on stdout`);
    }
  });
});

describe('timers and microtasks', () => {
  it('fires timeouts by due time, equal delays in creation order, with their arguments', async () => {
    const agent = spawnAgent({
      source: `
        const log = [];
        setTimeout((x) => log.push('30:' + x), 30, 'a');
        setTimeout(() => log.push('0a'), 0);
        setTimeout(() => log.push('10'), 10);
        setTimeout(() => log.push('0b'));
        setTimeout((x, y) => log.push('0c:' + x + y), 0, 1, 2);
        setTimeout(() => postMessage(log), 60);
      `,
    });
    assert.deepEqual(await nextMessage(agent), ['0a', '0b', '0c:12', '10', '30:a']);
  });

  it('setTimeout does not fire before its delay (performance.now)', async () => {
    const agent = spawnAgent({ source: 'const t0 = performance.now(); setTimeout(() => postMessage(performance.now() - t0), 40);' });
    const elapsed = await nextMessage<number>(agent);
    assert.ok(elapsed >= 39, `fired after ${elapsed} ms`);
  });

  it('clearTimeout cancels; ids are distinct positive numbers; clearing unknown ids is harmless', async () => {
    const agent = spawnAgent({
      source: `
        const log = [];
        const a = setTimeout(() => log.push('a'), 5);
        const b = setTimeout(() => log.push('b'), 5);
        clearTimeout(a);
        clearTimeout(123456); clearTimeout(undefined); clearTimeout('x'); clearInterval(-1);
        setTimeout(() => postMessage({ log, ids: [typeof a, a > 0, a !== b] }), 20);
      `,
    });
    assert.deepEqual(await nextMessage(agent), { log: ['b'], ids: ['number', true, true] });
  });

  it('setInterval repeats until clearInterval (also from inside its own callback)', async () => {
    const agent = spawnAgent({
      source: `
        let n = 0;
        const id = setInterval((step) => { n += step; if (n === 5) { clearInterval(id); setTimeout(() => postMessage(n), 30); } }, 1, 1);
      `,
    });
    assert.equal(await nextMessage(agent), 5);
  });

  it('a timer callback that is not a function throws TypeError', async () => {
    const agent = await idle();
    assert.equal(await agent.evaluate('try { setTimeout(42); "no" } catch (e) { e.name }'), 'TypeError');
    assert.equal(await agent.evaluate('try { queueMicrotask({}); "no" } catch (e) { e.name }'), 'TypeError');
  });

  it('runs microtasks (queueMicrotask and promises, FIFO) after the current task and before timers', async () => {
    const agent = spawnAgent({
      source: `
        const log = [];
        setTimeout(() => { log.push('timeout'); postMessage(log); }, 0);
        queueMicrotask(() => log.push('micro1'));
        Promise.resolve().then(() => log.push('promise'));
        queueMicrotask(() => { log.push('micro2'); queueMicrotask(() => log.push('nested')); });
        log.push('sync');
      `,
    });
    assert.deepEqual(await nextMessage(agent), ['sync', 'micro1', 'promise', 'micro2', 'nested', 'timeout']);
  });

  it('drains microtasks between two message tasks', async () => {
    const agent = spawnAgent({
      source: `
        const log = [];
        onmessage = (e) => {
          log.push('msg' + e.data);
          queueMicrotask(() => log.push('micro' + e.data));
          if (e.data === 2) setTimeout(() => postMessage(log), 0);
        };
      `,
    });
    await agent.ready;
    agent.postMessage(1);
    agent.postMessage(2);
    assert.deepEqual(await nextMessage(agent), ['msg1', 'micro1', 'msg2', 'micro2']);
  });

  it('performance.now() is a non-decreasing millisecond clock starting near 0', async () => {
    const agent = await idle();
    const [a, b, c] = await agent.evaluate<number[]>('const __x = [performance.now()]; for (let i = 0; i < 1e5; i++); __x.push(performance.now(), performance.now()); __x');
    assert.ok(typeof a === 'number' && a >= 0);
    assert.ok(b! >= a! && c! >= b!);
    assert.ok(a! < 60_000, 'relative to the agent start, not the epoch');
  });

  it('pending timers do not stop terminate()', async () => {
    const agent = spawnAgent({ source: 'setInterval(() => {}, 1); setTimeout(() => {}, 1e9);' });
    await agent.ready;
    assert.deepEqual(await agent.terminate(), { code: 1, reason: 'terminated' });
  });
});
