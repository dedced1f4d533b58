// Issue 14 part A: the web-standard globals of an agent (TextEncoder,
// TextDecoder, URL, atob/btoa, structuredClone, crypto, AbortController,
// Event/EventTarget, DOMException, performance.mark/measure, navigator),
// compared with Node's own implementations, and installed lazily.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AgentPool, type Agent } from '../src/index.js';
import { describeChild, runNode, spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

let shared: Agent | undefined;
async function agent(): Promise<Agent> {
  shared ??= spawnAgent({ name: 'web-globals', source: '' });
  await shared.ready;
  return shared;
}

const WEB_NAMES = [
  'DOMException', 'Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal',
  'TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'atob', 'btoa', 'structuredClone',
  'crypto', 'Crypto', 'SubtleCrypto', 'navigator', 'Navigator', 'PerformanceEntry', 'PerformanceMark', 'PerformanceMeasure',
];

describe('installation', () => {
  it('every name is a non-enumerable, writable, configurable global of the right type', async () => {
    const a = spawnAgent({ source: '' });
    const found = await a.evaluate<Record<string, string>>(`(() => {
      const out = {};
      for (const name of ${JSON.stringify(WEB_NAMES)}) {
        const d = Object.getOwnPropertyDescriptor(globalThis, name);
        out[name] = d ? [typeof d.value, d.enumerable, d.writable, d.configurable].join() : 'missing';
      }
      return out;
    })()`);
    for (const name of WEB_NAMES) {
      const type = /^[a-z]/.test(name) && name !== 'atob' && name !== 'btoa' && name !== 'structuredClone' ? 'object' : 'function';
      assert.equal(found[name], `${type},false,true,true`, name);
    }
    assert.deepEqual(await a.evaluate('Object.keys(globalThis).filter((k) => k !== "onmessage")'), []);
  });

  it('is lazy: a fresh agent has compiled none of it; the first touch of URL costs heap, a second agent is unaffected', async () => {
    const a = spawnAgent({ source: '' });
    await a.ready;
    await a.evaluate('1');
    const before = (await a.getHeapStatistics()).used_heap_size;
    await a.evaluate('new URL("https://example.com/").href');
    const after = (await a.getHeapStatistics()).used_heap_size;
    // The URL bundle (whatwg-url, tr46's tables) is hundreds of KiB of heap
    // once compiled: had spawn compiled it, the touch would cost ~nothing.
    assert.ok(after - before > 256 * 1024, `URL's first use grew the heap by ${after - before} bytes`);
  });

  it('user code may replace or delete a global before or after its first touch', async () => {
    const a = spawnAgent({ source: 'globalThis.TextEncoder = 42; delete globalThis.URL;' });
    assert.deepEqual(await a.evaluate('[TextEncoder, typeof URL, typeof URLSearchParams]'), [42, 'undefined', 'function']);
    assert.equal(await a.evaluate('atob = null; atob'), null);
  });

  it('a global deleted or redefined while its own first read runs: the read gets the value, the host survives', async () => {
    // Hostile review F1: with V8's replace-on-access lazy properties this
    // was a release CHECK (SIGTRAP) in the host. In a child process.
    const cases = {
      // a replaced builtin the module body calls deletes the name (t01)
      t01: `const od = Object.defineProperty; let f = false;
        Object.defineProperty = function (o, k, d) { if (!f) { f = true; delete globalThis.TextEncoder; } return od(o, k, d); };
        const T = TextEncoder; Object.defineProperty = od; [typeof T, new T().encode('a')[0], typeof globalThis.TextEncoder]`,
      // only an Object.prototype setter named like an export (t02): the
      // bundle's exports objects have no prototype, so it never fires
      t02: `let fired = false;
        Object.defineProperty(Object.prototype, 'URLSearchParams', { configurable: true, set(v) { fired = true; delete globalThis.URL; } });
        const U = URL; delete Object.prototype.URLSearchParams; [typeof U, new U('http://a/b').href, typeof globalThis.URL, fired]`,
      // on the performance object (t22)
      t22: `const od = Object.defineProperty;
        Object.defineProperty = function (o, k, d) { Object.defineProperty = od; delete performance.mark; return od(o, k, d); };
        [typeof performance.mark, typeof performance.measure]`,
      // redefined to a plain value inside the getter: the user's value stays
      redefine: `const od = Object.defineProperty; let f = false;
        Object.defineProperty = function (o, k, d) { if (!f) { f = true; globalThis.btoa = 7; } return od(o, k, d); };
        const b = btoa; Object.defineProperty = od; [typeof b, globalThis.btoa]`,
    };
    const code = `
      import { Agent } from './src/index.ts';
      const cases = ${JSON.stringify(cases)};
      const out = {};
      for (const [name, source] of Object.entries(cases)) {
        const agent = new Agent({ source: '' });
        out[name] = await agent.evaluate(source).catch((e) => 'threw ' + e.message);
        await agent.terminate();
      }
      console.log(JSON.stringify(out));`;
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, describeChild(result));
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').pop()!), {
      t01: ['function', 97, 'undefined'],
      t02: ['function', 'http://a/b', 'function', false],
      t22: ['function', 'function'],
      redefine: ['function', 7],
    });
  });

  it('a first read leaves a plain data property; an assignment before it never loads the module', async () => {
    const a = spawnAgent({ source: '' });
    assert.deepEqual(await a.evaluate(`(() => {
      const u = URL; const d = Object.getOwnPropertyDescriptor(globalThis, 'URL');
      TextDecoder = 1; const t = Object.getOwnPropertyDescriptor(globalThis, 'TextDecoder');
      performance.clearMarks = 2;
      return [d.value === u, d.writable, d.enumerable, d.configurable, t.value, t.enumerable, performance.clearMarks];
    })()`), [true, true, false, true, 1, false, 2]);
  });

  it('test262 agents ($262 host set) have none of them', async () => {
    const lines: string[] = [];
    const a = spawnAgent({
      globals: 'test262',
      source: `print(${JSON.stringify(WEB_NAMES)}.filter((n) => Object.getOwnPropertyDescriptor(globalThis, n) !== undefined).join() || 'none');
        print(typeof performance.mark);`,
    });
    await new Promise<void>((resolve) => a.on('console', (_level, text) => { lines.push(text); if (lines.length === 2) resolve(); }));
    assert.deepEqual(lines, ['none', 'undefined']);
  });

  it('npm run build:web --check: the committed native/agent/web/web_sources.h is up to date', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const out = execFileSync(process.execPath, ['scripts/build-web-sources.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    assert.match(out, /up to date/);
  });
});

// Deterministic inputs, built the same way in the agent and here.
const MAKE_INPUTS = `(() => {
  const inputs = [];
  for (let a = 0; a < 256; a++) inputs.push([a]);
  for (let a = 0xC0; a < 0x100; a++) for (let b = 0; b < 256; b += 3) inputs.push([a, b]);
  const edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x41];
  for (const a of [0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5])
    for (const b of edges) for (const c of edges) { inputs.push([a, b, c]); inputs.push([a, b, c, 0x80]); inputs.push([a, b, c, 0x41]); }
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 400; i++) {
    const length = 1 + (next() % 24);
    const bytes = [];
    for (let j = 0; j < length; j++) bytes.push(next() < 128 ? next() & 0x7F : next() | 0x80);
    inputs.push(bytes);
  }
  inputs.push([0xEF, 0xBB, 0xBF, 0x41], [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF], [0xEF, 0xBB], [0xEF, 0xBB, 0xBF]);
  return inputs;
})()`;

// decode each input whole (fatal and not, BOM kept or not) and streamed one
// byte at a time; errors become 'TypeError'.
const DECODE_ALL = `((inputs) => inputs.map((bytes) => {
  const u8 = new Uint8Array(bytes);
  const out = [];
  for (const options of [{}, { fatal: true }, { ignoreBOM: true }]) {
    try { out.push(new TextDecoder('utf-8', options).decode(u8)); } catch (e) { out.push(e.name); }
    try {
      const d = new TextDecoder('utf-8', options);
      let s = '';
      for (let i = 0; i < u8.length; i++) s += d.decode(u8.subarray(i, i + 1), { stream: true });
      out.push(s + d.decode());
    } catch (e) { out.push(e.name); }
  }
  return out;
}))`;

describe('TextEncoder / TextDecoder (compared with Node)', () => {
  it('decodes every 1-byte, most 2-byte, edge 3/4-byte and random inputs exactly as Node: whole, streamed, fatal, ignoreBOM', async () => {
    const a = await agent();
    const mine = await a.evaluate<string[][]>(`${DECODE_ALL}(${MAKE_INPUTS})`);
    const node = (0, eval)(`${DECODE_ALL}(${MAKE_INPUTS})`) as string[][];
    assert.equal(mine.length, node.length);
    assert.ok(mine.length > 15000);
    const diffs = [];
    for (let i = 0; i < node.length; i++) if (JSON.stringify(mine[i]) !== JSON.stringify(node[i])) diffs.push(i);
    assert.deepEqual(diffs, []);
  });

  it('encodes like Node, lone surrogates as U+FFFD; encodeInto reports read/written and never splits a character', async () => {
    const a = await agent();
    const strings = ['', 'abc', 'h\u00e9llo', '\u20ac', '\u{1F600}x', '\uD800', 'a\uDC00b', '\uD83D\uDE00\uD83D', 'x'.repeat(1000) + '\u00ff'];
    const source = `(${JSON.stringify(strings)}).map((s) => {
      const enc = new TextEncoder();
      const into = [0, 1, 2, 3, 4, 5, 8].map((n) => { const r = enc.encodeInto(s, new Uint8Array(n)); return r.read + '/' + r.written; });
      return [Array.from(enc.encode(s)).join(), into.join(' ')];
    })`;
    assert.deepEqual(await a.evaluate(source), (0, eval)(source));
    assert.deepEqual(await a.evaluate('[new TextEncoder().encoding, new TextDecoder("  UTF8 ").encoding, new TextEncoder().encode().length, new TextEncoder().encode(undefined).length]'), ['utf-8', 'utf-8', 0, 0]);
  });

  it('refuses other encodings and bad inputs with Node\'s error classes', async () => {
    const a = await agent();
    const source = `[() => new TextDecoder('latin1'), () => new TextDecoder().decode('x'), () => new TextDecoder().decode(42), () => new TextEncoder().encodeInto('x', [])]
      .map((f) => { try { f(); return 'ok'; } catch (e) { return e.constructor.name; } })`;
    assert.deepEqual(await a.evaluate(source), ['RangeError', 'TypeError', 'TypeError', 'TypeError']);
  });

  it('decodes ArrayBuffer, SharedArrayBuffer, DataView and offset views', async () => {
    const a = await agent();
    const source = `(() => { const d = new TextDecoder(); const b = new TextEncoder().encode('xh\u00e9y');
      const sab = new SharedArrayBuffer(3); new Uint8Array(sab).set([0x61, 0xc3, 0xa9]);
      return [d.decode(b.buffer), d.decode(new DataView(b.buffer, 1, 3)), d.decode(b.subarray(1, 4)), d.decode(sab), d.decode(new Uint16Array(b.buffer, 0, 2))]; })()`;
    assert.deepEqual(await a.evaluate(source), ['xh\u00e9y', 'h\u00e9', 'h\u00e9', 'a\u00e9', 'xh\u00e9']);
  });
});

describe('hostile inputs', () => {
  it('detached, resizable and shared buffers, proxies and throwing toString neither crash the agent nor leak natives', async () => {
    const a = spawnAgent({ source: '' });
    const result = await a.evaluate(`(() => {
      const out = [];
      const t = (f) => { try { out.push(f()); } catch (e) { out.push(e.name); } };
      const buffer = new ArrayBuffer(8); const view = new Uint8Array(buffer); structuredClone(buffer, { transfer: [buffer] });
      t(() => new TextDecoder().decode(view));
      t(() => new TextEncoder().encodeInto('abc', view).written);
      t(() => crypto.getRandomValues(view).length);
      const rab = new ArrayBuffer(4, { maxByteLength: 16 }); const tracking = new Uint8Array(rab); rab.resize(12); tracking.fill(65);
      t(() => new TextDecoder().decode(tracking));
      rab.resize(0);
      t(() => new TextDecoder().decode(tracking));
      const sab = new Uint8Array(new SharedArrayBuffer(4));
      t(() => crypto.getRandomValues(sab).length);
      t(() => new TextEncoder().encodeInto('\u00e9\u00e9', sab).written);
      t(() => new TextDecoder().decode(new Proxy(new Uint8Array(2), {})));
      t(() => atob({ toString() { throw new RangeError('mine'); } }));
      t(() => btoa(Symbol()));
      t(() => new TextEncoder().encode('x'.repeat(1 << 20)).length);
      t(() => new TextDecoder().decode(new Uint8Array(0), { stream: true }));
      t(() => typeof natives + typeof require);
      return out; })()`);
    assert.deepEqual(result, ['', 0, 0, 'AAAAAAAAAAAA', '', 4, 4, 'TypeError', 'RangeError', 'TypeError', 1 << 20, '', 'undefinedundefined']);
    assert.equal(a.state, 'running');
  });
});

describe('atob / btoa (compared with Node)', () => {
  it('forgiving-base64 and binary strings exactly as Node, errors are InvalidCharacterError DOMExceptions', async () => {
    const a = await agent();
    const inputs = ['', 'aGVsbG8=', ' aGVs\tbG8 \n', 'aGVsbG8', 'aGVsbA==', 'aGVsbA=', 'aGVsbA', 'a', 'ab', 'abc', 'abcd', '=', '==', 'ab==', 'ab=c', 'a===', '////', '++++', '-_', 'ab\u00ff', '\u0100', 'YQ', 'YR', 'YQ==\n', null, undefined, 12, '\u00ff\u00fe', 'hello world'];
    const source = `(${JSON.stringify(inputs)}).flatMap((s) => [atob, btoa].map((f) => {
      try { return f(s); } catch (e) { return e.name + ':' + (e instanceof DOMException) + ':' + e.code; } }))`;
    assert.deepEqual(await a.evaluate(source), (0, eval)(source));
  });
});

describe('crypto', () => {
  it('getRandomValues fills integer arrays up to 65536 bytes; floats, DataViews and bigger arrays throw as in Node', async () => {
    const a = await agent();
    const source = `[
      () => crypto.getRandomValues(new Uint8Array(65536)).length,
      () => crypto.getRandomValues(new BigUint64Array(8192)).length,
      () => crypto.getRandomValues(new Int16Array(4)).length,
      () => crypto.getRandomValues(new Uint8Array(65537)),
      () => crypto.getRandomValues(new Float64Array(2)),
      () => crypto.getRandomValues(new DataView(new ArrayBuffer(4))),
      () => crypto.getRandomValues([1, 2]),
      () => crypto.getRandomValues(new Uint8Array(0)).length,
    ].map((f) => { try { return f(); } catch (e) { return e.name + ':' + (e instanceof DOMException) + ':' + (e.code ?? '-'); } })`;
    const mine = await a.evaluate<unknown[]>(source);
    assert.deepEqual(mine.slice(0, 5), (0, eval)(source).slice(0, 5));
    assert.equal(mine[5], 'TypeMismatchError:true:17');
    assert.equal((mine[6] as string).split(':')[0], 'TypeError');
    assert.equal(mine[7], 0);
  });

  it('the bytes look random; randomUUID is a v4 UUID, never repeated', async () => {
    const a = await agent();
    const [ones, uuids] = await a.evaluate<[number, string[]]>(`(() => {
      const b = crypto.getRandomValues(new Uint8Array(65536));
      let ones = 0; for (const x of b) for (let i = 0; i < 8; i++) ones += (x >> i) & 1;
      return [ones, Array.from({ length: 1000 }, () => crypto.randomUUID())]; })()`);
    assert.ok(Math.abs(ones - 262144) < 3000, `${ones} one bits of 524288`);
    assert.equal(new Set(uuids).size, 1000);
    for (const uuid of uuids) assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(await a.evaluate('[typeof crypto.subtle.importKey, (() => { try { new Crypto(); } catch (e) { return e.name; } })()]'), ['undefined', 'TypeError']);
  });

  it('crypto.subtle.digest: SHA-1/256/384/512 exactly as Node\'s, errors as rejections', async () => {
    const a = await agent();
    const source = `(async () => {
      const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
      const data = new TextEncoder().encode('abc'.repeat(1000));
      const out = [];
      for (const name of ['SHA-1', 'sha-256', { name: 'SHA-384' }, 'SHA-512']) {
        out.push(hex(await crypto.subtle.digest(name, data)), hex(await crypto.subtle.digest(name, data.buffer)), hex(await crypto.subtle.digest(name, new Uint8Array(0))));
        out.push(hex(await crypto.subtle.digest(name, new DataView(data.buffer, 5, 100))));
      }
      for (const [name, input] of [['MD5', data], ['SHA-256', 'text'], [42, data]]) {
        try { await crypto.subtle.digest(name, input); out.push('resolved'); } catch (e) { out.push(e.name); }
      }
      return out;
    })()`;
    assert.deepEqual(await a.evaluate(source), await (0, eval)(source));
  });
});

describe('structuredClone', () => {
  it('clones like postMessage, with transfer, and throws DataCloneError DOMExceptions', async () => {
    const a = await agent();
    const result = await a.evaluate(`(() => {
      const buffer = new ArrayBuffer(8);
      const map = new Map([[1, { d: new Date(5) }]]);
      const copy = structuredClone({ map, buffer, set: new Set([1n]) }, { transfer: [buffer] });
      const err = (f) => { try { f(); return 'ok'; } catch (e) { return e.name + ':' + (e instanceof DOMException) + ':' + e.code; } };
      return [buffer.byteLength, copy.buffer.byteLength, copy.map.get(1).d.getTime(), copy.map !== map, [...copy.set][0] === 1n,
        err(() => structuredClone(() => 1)), err(() => structuredClone(Symbol())), err(() => structuredClone(1, { transfer: [buffer] })),
        err(() => structuredClone()), err(() => structuredClone(1, { transfer: 5 }))];
    })()`);
    assert.deepEqual(result, [0, 8, 5, true, true, 'DataCloneError:true:25', 'DataCloneError:true:25', 'DataCloneError:true:25', 'TypeError:false:undefined', 'TypeError:false:undefined']);
  });

  it('an AgentPort moves through structuredClone and still works', async () => {
    const a = await agent();
    assert.equal(await a.evaluate(`new Promise((resolve) => {
      const { port1, port2 } = new AgentChannel();
      const moved = structuredClone(port2, { transfer: [port2] });
      moved.onmessage = (e) => resolve(e.data);
      port1.postMessage('through');
    })`), 'through');
  });
});

describe('DOMException', () => {
  it('has Node\'s shape: name, message, code, legacy constants, Error prototype, toString', async () => {
    const a = await agent();
    const source = `(() => { const e = new DOMException('m', 'NotFoundError'); const d = new DOMException();
      const o = new DOMException('x', { name: 'AbortError', cause: 7 });
      return [e.name, e.message, e.code, String(e), e instanceof Error, Object.prototype.toString.call(e), d.name, d.message, d.code,
        DOMException.DATA_CLONE_ERR, DOMException.prototype.ABORT_ERR, new DOMException('', 'Custom').code, o.name, o.cause, o.code,
        typeof e.stack, Object.getPrototypeOf(DOMException.prototype) === Error.prototype]; })()`;
    assert.deepEqual(await a.evaluate(source), (0, eval)(source));
  });

  it('name and message are own data properties: a DOMException crossing postMessage keeps its message', async () => {
    const a = spawnAgent({ source: `postMessage(new DOMException('the message', 'AbortError'));
      postMessage(Object.getOwnPropertyNames(new DOMException('m', 'AbortError')).sort());` });
    const received: unknown[] = [];
    await new Promise<void>((resolve) => a.on('message', (m) => { received.push(m); if (received.length === 2) resolve(); }));
    assert.ok(received[0] instanceof Error);
    assert.equal((received[0] as Error).message, 'the message');
    assert.deepEqual(received[1], ['message', 'name', 'stack']);
  });

  it('DataCloneErrors come from the original class even when user code replaced the global', async () => {
    const a = spawnAgent({ source: `const Original = DOMException; globalThis.DOMException = function Fake() { throw new Error('user code ran'); };
      const errors = [];
      try { postMessage(() => 1); } catch (e) { errors.push(e instanceof Original ? e.name : 'not original: ' + e); }
      try { structuredClone(Symbol()); } catch (e) { errors.push(e instanceof Original ? e.name : 'not original: ' + e); }
      delete globalThis.DOMException;
      try { postMessage({ f() {} }); } catch (e) { errors.push(e instanceof Original ? e.code : 'not original: ' + e); }
      postMessage(errors);` });
    const [message] = await new Promise<unknown[]>((resolve) => a.on('message', (m) => resolve([m])));
    assert.deepEqual(message, ['DataCloneError', 'DataCloneError', 25]);
  });
});

describe('host DataCloneError', () => {
  it('on the host too, a DataCloneError is Node\'s original DOMException even when the global was replaced', async () => {
    const a = await agent();
    const Original = globalThis.DOMException;
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'DOMException')!;
    Object.defineProperty(globalThis, 'DOMException', { value: function Fake() { throw new Error('user code ran'); }, configurable: true, writable: true });
    try {
      assert.throws(() => a.postMessage(() => 1), (error: unknown) => error instanceof Original && (error as DOMException).name === 'DataCloneError');
    } finally {
      Object.defineProperty(globalThis, 'DOMException', descriptor);
    }
  });
});

describe('AbortController / AbortSignal', () => {
  it('abort, reason, throwIfAborted, onabort and listeners as in Node', async () => {
    const a = await agent();
    const source = `(() => {
      const log = [];
      const c = new AbortController();
      c.signal.onabort = (e) => log.push('on:' + e.type + ':' + (e.target === c.signal));
      c.signal.addEventListener('abort', () => log.push('listener'));
      log.push(c.signal.aborted);
      c.abort();
      c.abort('again');
      log.push(c.signal.aborted, c.signal.reason.name, c.signal.reason instanceof DOMException);
      try { c.signal.throwIfAborted(); } catch (e) { log.push('threw ' + e.name); }
      const s = AbortSignal.abort('why');
      log.push(s.aborted, s.reason);
      try { new AbortSignal(); } catch (e) { log.push(e.name); }
      const d = new AbortController(); d.abort(undefined); log.push(d.signal.reason.name);
      return log; })()`;
    assert.deepEqual(await a.evaluate(source), (0, eval)(source));
  });

  it('an any() signal with abort listeners survives GC while a source can abort; without listeners it is not pinned', async () => {
    // Hostile review F3: sources held dependents only weakly, so a listened
    // any() signal nobody referenced was collected: its listeners never ran.
    const a = spawnAgent({ source: '', resourceLimits: { maxHeapMB: 128 } });
    const result = await a.evaluate<number[]>(`new Promise((resolve) => {
      const c = new AbortController();
      let fired = 0, handler = 0;
      for (let i = 0; i < 10; i++) AbortSignal.any([c.signal]).addEventListener('abort', () => { fired++; });
      for (let i = 0; i < 5; i++) AbortSignal.any([c.signal]).onabort = () => { handler++; };
      // removed again: must not stay held (would be a leak on a long-lived source)
      const removed = [];
      for (let i = 0; i < 5; i++) { const s = AbortSignal.any([c.signal]); const f = () => {}; s.addEventListener('abort', f); s.removeEventListener('abort', f); removed.push(new WeakRef(s)); }
      let n = 0;
      const churn = () => { let keep = []; for (let i = 0; i < 40; i++) keep.push(new Array(100000).fill(i)); keep = null; };
      const step = () => {
        churn();
        if (++n < 12) { setTimeout(step, 5); return; }
        const alive = removed.filter((r) => r.deref() !== undefined).length;
        c.abort();
        resolve([fired, handler, alive]);
      };
      setTimeout(step, 5);
    })`);
    assert.equal(result[0], 10);
    assert.equal(result[1], 5);
    assert.ok(result[2]! < 5, `unlistened dependents all still alive (${result[2]})`);
  });

  it('timeout aborts with a TimeoutError; any follows its first aborted source', async () => {
    const a = await agent();
    const result = await a.evaluate(`(async () => {
      const t = AbortSignal.timeout(20);
      const before = t.aborted;
      await new Promise((r) => t.addEventListener('abort', r));
      const c1 = new AbortController(), c2 = new AbortController();
      const any = AbortSignal.any([c1.signal, c2.signal]);
      const nested = AbortSignal.any([any]);
      let fired = 0; any.onabort = () => fired++; nested.onabort = () => fired++;
      c2.abort('second');
      c1.abort('first');
      const pre = AbortSignal.any([AbortSignal.abort('done'), c1.signal]);
      let typeError; try { AbortSignal.any([1]); } catch (e) { typeError = e.name; }
      return [before, t.aborted, t.reason.name, t.reason.code, any.aborted, any.reason, nested.reason, fired, pre.aborted, pre.reason, typeError];
    })()`);
    assert.deepEqual(result, [false, true, 'TimeoutError', 23, true, 'second', 'second', 2, true, 'done', 'TypeError']);
  });
});

describe('Event / EventTarget / CustomEvent', () => {
  it('listeners: once, capture distinct, duplicates ignored, handleEvent objects, signal removal, stopImmediatePropagation, preventDefault', async () => {
    const a = await agent();
    const source = `(() => {
      const log = [];
      const t = new EventTarget();
      const f = (e) => log.push('f:' + e.eventPhase + ':' + (e.currentTarget === t));
      t.addEventListener('x', f); t.addEventListener('x', f); t.addEventListener('x', f, true);
      t.addEventListener('x', { handleEvent(e) { log.push('obj:' + (this !== t)); } });
      t.addEventListener('x', () => log.push('once'), { once: true });
      const c = new AbortController();
      t.addEventListener('x', () => log.push('signal'), { signal: c.signal });
      log.push(t.dispatchEvent(new Event('x')));
      c.abort();
      t.removeEventListener('x', f, true);
      log.push(t.dispatchEvent(new Event('x')));
      t.addEventListener('y', (e) => { e.preventDefault(); e.stopImmediatePropagation(); log.push('first'); });
      t.addEventListener('y', () => log.push('never'));
      const y = new Event('y', { cancelable: true });
      log.push(t.dispatchEvent(y), y.defaultPrevented, y.eventPhase, y.target === t, y.isTrusted);
      const ce = new CustomEvent('z', { detail: { n: 1 } });
      log.push(ce.detail.n, ce instanceof Event, new CustomEvent('q').detail);
      t.addEventListener('p', (e) => { e.preventDefault(); log.push(e.defaultPrevented); }, { passive: true });
      log.push(t.dispatchEvent(new Event('p', { cancelable: true })));
      try { new Event(); } catch (e) { log.push(e.name); }
      return log; })()`;
    // Node differs on two points where we follow the DOM Standard: a capture
    // listener at target sees eventPhase AT_TARGET and currentTarget (Node
    // logs 'f:0:false'), and preventDefault() in a passive listener is
    // ignored (Node cancels the event).
    assert.deepEqual(await a.evaluate(source), [
      'f:2:true', 'f:2:true', 'obj:true', 'once', 'signal', true,
      'f:2:true', 'obj:true', true,
      'first', false, true, 0, true, false,
      1, true, null,
      false, true,
      'TypeError',
    ]);
  });

  it('an exception in a listener does not stop the other listeners and is reported as uncaught', async () => {
    const a = spawnAgent({ source: `const t = new EventTarget();
      t.addEventListener('x', () => { throw new Error('from listener'); });
      t.addEventListener('x', () => postMessage('second ran'));
      t.dispatchEvent(new Event('x'));` });
    const [message, error] = await Promise.all([
      new Promise((resolve) => a.on('message', resolve)),
      new Promise<Error>((resolve) => a.on('error', (error) => resolve(error as Error))),
    ]);
    assert.equal(message, 'second ran');
    assert.match(String(error.message), /from listener/);
  });
});

describe('performance and navigator', () => {
  it('timeOrigin + now() is the wall clock; mark/measure/getEntries* work', async () => {
    const a = await agent();
    const [origin, now, entries, measure, navigatorInfo] = await a.evaluate<[number, number, string[], number[], unknown[]]>(`(() => {
      performance.mark('a', { detail: { x: 1 } });
      performance.mark('b', { startTime: performance.now() + 5 });
      const m = performance.measure('a-b', 'a', 'b');
      const m2 = performance.measure('opt', { start: 1, duration: 2 });
      const entries = performance.getEntries().map((e) => e.entryType + ':' + e.name);
      performance.clearMarks('a');
      entries.push(performance.getEntriesByType('mark').length, performance.getEntriesByName('a-b').length, performance.getEntriesByName('a')[0]?.detail ?? 'cleared');
      let bad; try { performance.measure('x', 'nope'); } catch (e) { bad = e.name; }
      entries.push(bad);
      return [performance.timeOrigin, performance.now(), entries, [m.duration, m2.startTime, m2.duration],
        [navigator.hardwareConcurrency, typeof navigator.userAgent]];
    })()`);
    assert.ok(Math.abs(origin + now - Date.now()) < 1000);
    assert.deepEqual(entries, ['mark:a', 'mark:b', 'measure:a-b', 'measure:opt', 1, 1, 'cleared', 'SyntaxError']);
    assert.ok(measure[0]! >= 5 && measure[0]! < 1000, `a-b lasted ${measure[0]} ms`);
    assert.deepEqual(measure.slice(1), [1, 2]);
    assert.ok(Number.isInteger(navigatorInfo[0]) && (navigatorInfo[0] as number) >= 1);
    assert.equal(navigatorInfo[1], 'string');
  });
});

describe('in AgentPool jobs', () => {
  it('a job uses URL, TextEncoder/TextDecoder, btoa, AbortSignal and crypto', async () => {
    const pool = new AgentPool({ filename: new URL('./pool-fixtures/web-jobs.mjs', import.meta.url), minAgents: 1, maxAgents: 1 });
    try {
      assert.deepEqual(await pool.run({ url: 'https://EXAMPLE.org:443/p\u00e4th?q=h%C3%A9' }), {
        host: 'example.org', bytes: 3, decoded: 'h\u00e9', base64: btoa('/p%C3%A4th'), aborted: true, uuid: 36,
      });
    } finally {
      await pool.destroy();
    }
  });
});

describe('URL special schemes', () => {
  // Hostile review F6: whatwg-url's specialSchemes lookup read
  // Object.prototype ("constructor:" was special; a polluted key made any
  // scheme special). The bundle is patched to an own-key lookup.
  const inputs = ['constructor:foo', 'constructor:///x', 'constructor://h\\a\\b', '__proto__:x', 'toString://h/p',
    'javascript:alert(1)', 'javascript://evil.com/%0aalert(1)', 'foo://h:443/', 'http://h:80/', 'ws://h:80/'];
  const parse = (input: string): string => { try { return new URL(input).href; } catch { return 'throws'; } };

  it('parses like Node, also with Object.prototype polluted in the agent', async () => {
    const a = spawnAgent({ source: '' });
    const expected = inputs.map(parse);
    const code = `(() => {
      const parse = ${parse.toString()};
      const inputs = ${JSON.stringify(inputs)};
      const clean = inputs.map(parse);
      const canParse = URL.canParse('constructor://');
      Object.prototype.javascript = 80; Object.prototype.foo = 443; Object.prototype.constructorx = 1;
      const polluted = inputs.map(parse);
      const u = new URL('http://h/'); u.protocol = 'foo';
      delete Object.prototype.javascript; delete Object.prototype.foo; delete Object.prototype.constructorx;
      return [clean, polluted, canParse, u.href];
    })()`;
    const [clean, polluted, canParse, setter] = await a.evaluate<[string[], string[], boolean, string]>(code);
    assert.deepEqual(clean, expected);
    assert.deepEqual(polluted, expected);
    assert.equal(canParse, URL.canParse('constructor://'));
    assert.equal(setter, 'http://h/');
  });
});
