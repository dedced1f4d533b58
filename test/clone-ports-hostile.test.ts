// Hostile review of the port/transfer hardening (issue 11): what a user can
// do to the host realm before importing agentcluster, ports nobody holds,
// and what an agent sender is told at a full queue.
// Each case runs in a child process: globals are replaced there, and the
// old behaviour corrupted the child's Buffer pool.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeChild, repoRoot, runNode } from './support/agents.js';

/** Runs an ES module body in a child (`prelude` before the import, `lib` is the library); returns stdout lines. */
async function child(prelude: string, body: string, args: string[] = [], timeoutMs = 30_000): Promise<string[]> {
  const code = `${prelude}\nconst lib = await import(${JSON.stringify(repoRoot + 'src/index.ts')});\n${body}`;
  const result = await runNode([...args, '--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs });
  assert.equal(result.code, 0, describeChild(result));
  return result.stdout.trim().split('\n');
}

// Posts a pooled Buffer's memory and a plain ArrayBuffer to an agent; prints
// what arrived and whether the host's pool and values survived.
const postPooledAndPlain = `
  const agent = new lib.Agent({ source: 'onmessage = (e) => postMessage(String.fromCharCode(...new Uint8Array(e.data, 0, 4)) + ":" + e.data.byteLength)' });
  const pooled = Buffer.from('mine');
  const poolBytes = pooled.buffer.byteLength; // Node 26: Buffer.poolSize + 64
  const sibling = Buffer.from('next');
  const reply = new Promise((r) => agent.once('message', r));
  agent.postMessage(pooled.buffer, [pooled.buffer]);
  const got = await reply;
  const plain = new TextEncoder().encode('abcd').buffer;
  const reply2 = new Promise((r) => agent.once('message', r));
  agent.postMessage(plain, [plain]);
  const got2 = await reply2;
  console.log([got.split(':')[1] === String(poolBytes), poolBytes >= Buffer.poolSize && pooled.buffer.byteLength === poolBytes, sibling.toString(), Buffer.from('more').toString()].join(' '));
  console.log(got2);
  await agent.terminate();
`;

describe('host realm tampered with before the import', () => {
  for (const [what, prelude] of [
    ['structuredClone deleted', 'delete globalThis.structuredClone;'],
    ['structuredClone throwing', 'globalThis.structuredClone = () => { throw new Error("no"); };'],
    ['structuredClone returning another buffer', 'globalThis.decoy = new TextEncoder().encode("fake").buffer; globalThis.structuredClone = () => decoy;'],
  ] as const) {
    it(`${what}: pooled memory is still copied, never handed over, and values stay faithful`, async () => {
      const lines = await child(prelude, postPooledAndPlain);
      // Pool intact, sibling Buffer intact; the plain buffer arrives with its own bytes (moved or copied).
      assert.deepEqual(lines, ['true true next more', 'abcd:4']);
    });
  }

  it('a structuredClone that keeps the moved buffer: the host copy is detached (no alias of the agent memory)', async () => {
    const lines = await child(
      'const real = structuredClone; globalThis.kept = []; globalThis.structuredClone = (v, o) => { const r = real(v, o); kept.push(r); return r; };',
      `
      const agent = new lib.Agent({ source: 'onmessage = (e) => postMessage(e.data.byteLength)' });
      const plain = new ArrayBuffer(64);
      const reply = new Promise((r) => agent.once('message', r));
      agent.postMessage(plain, [plain]);
      console.log(await reply, plain.byteLength, kept.map((b) => b.byteLength).join(','));
      await agent.terminate();
    `,
    );
    assert.deepEqual(lines, ['64 0 0']);
  });

  it('a structuredClone that keeps the real clone and returns something else: the agent gets a copy, not an alias', async () => {
    // Before: the kept clone aliased the memory the agent then wrote to (a data race on plain memory).
    const lines = await child(
      'const real = structuredClone; globalThis.stash = undefined; globalThis.structuredClone = (v, o) => { stash = real(v, o); return {}; };',
      `
      const agent = new lib.Agent({ source: 'onmessage = (e) => { new Uint8Array(e.data)[0] = 99; postMessage(new Uint8Array(e.data)[1]); }' });
      const plain = new Uint8Array([1, 2, 3, 4]).buffer;
      const reply = new Promise((r) => agent.once('message', r));
      agent.postMessage(plain, [plain]);
      console.log(await reply, plain.byteLength, new Uint8Array(stash).join(','));
      await agent.terminate();
    `,
    );
    assert.deepEqual(lines, ['2 0 1,2,3,4']);
  });
});

describe('a structuredClone replaced before the import that steals from the message being sent', () => {
  it('finds its ports already gone and cannot empty its other buffers', async () => {
    const lines = await child(
      `const real = structuredClone; globalThis.hook = null;
       globalThis.structuredClone = (v, o) => { if (hook) { const h = hook; hook = null; h(); } return real(v, o); };`,
      `
      const sink = new lib.Agent({ source: 'onmessage = () => {}' });
      const agent = new lib.Agent({ source: 'onmessage = (e) => postMessage([e.data.a.byteLength, e.data.b.byteLength, e.ports.length])' });
      const { port1, port2 } = new lib.AgentChannel();
      const a = new ArrayBuffer(8), b = new ArrayBuffer(4);
      let portTheft = 'taken';
      hook = () => {
        try { sink.postMessage(null, [port1]); } catch (e) { portTheft = e.name; }
        globalThis.stolen = real(b, { transfer: [b] });
      };
      const reply = new Promise((r) => agent.once('message', r));
      agent.postMessage({ a, b }, [a, b, port1]);
      console.log(portTheft, (await reply).join(','));
      port2.close();
      await Promise.all([agent.terminate(), sink.terminate()]);
    `,
    );
    // The port was neutered before any user code ran; b's memory was taken before the theft.
    assert.deepEqual(lines, ['DataCloneError 8,4,1']);
  });
});

describe('ports nobody references or listens to', () => {
  it('are collected: the other end gets close, and dropped channels do not accumulate', async () => {
    const lines = await child(
      '',
      `
      const port1 = (() => new lib.AgentChannel().port1)();  // port2 is dropped without a listener
      port1.postMessage('queued, never read');
      const closed = new Promise((r) => port1.addEventListener('close', () => r('closed')));
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 5000; i++) { const c = new lib.AgentChannel(); c.port1.postMessage(new Uint8Array(16384)); }
      const keepAlive = setTimeout(() => {}, 20_000);
      for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(await Promise.race([closed, new Promise((r) => setTimeout(() => r('no close'), 5000))]));
      // 5000 x 16 KiB messages queued at ports nobody holds: ~80 MB if they were kept.
      const grown = (process.memoryUsage().arrayBuffers - before) / 1e6;
      console.log(grown < 20 ? 'released' : 'kept ' + grown.toFixed(0) + ' MB');
      clearTimeout(keepAlive);
    `,
      ['--expose-gc'],
    );
    assert.deepEqual(lines, ['closed', 'released']);
  });

  it('a port with a listener, or one still referenced, is kept and keeps receiving', async () => {
    const lines = await child(
      '',
      `
      const { port1, port2 } = new lib.AgentChannel();
      const got = new Promise((r) => { new lib.AgentChannel(); port2.onmessage = (e) => r(e.data); });
      const held = new lib.AgentChannel();
      for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      port1.postMessage('still here');
      const keepAlive = setTimeout(() => {}, 20_000);
      console.log(await got);
      const heldGot = new Promise((r) => (held.port2.onmessage = (e) => r(e.data)));
      held.port1.postMessage('held too');
      console.log(await heldGot);
      clearTimeout(keepAlive);
    `,
      ['--expose-gc'],
    );
    assert.deepEqual(lines, ['still here', 'held too']);
  });
});

describe('an agent sender at a full queue', () => {
  it('is told true once its (waited-for) post is queued, never a false it would wait on forever for a drain', async () => {
    const lines = await child(
      '',
      `
      const { port1, port2 } = new lib.AgentChannel({ highWaterMark: { messages: 2 } });
      const agent = new lib.Agent({ source: \`onmessage = (e) => { const p = e.data; const r = []; for (let i = 0; i < 8; i++) r.push(p.postMessage(i)); postMessage(r.join(',')); }\` });
      const seen = [];
      port2.onmessage = (e) => seen.push(e.data);
      const reply = new Promise((r) => agent.once('message', r));
      agent.postMessage(port1, [port1]);
      console.log(await reply);
      await new Promise((r) => setTimeout(r, 100));
      console.log(seen.join(','));
      await agent.terminate();
    `,
    );
    assert.deepEqual(lines, ['true,true,true,true,true,true,true,true', '0,1,2,3,4,5,6,7']);
  });

  it('with both ends in the same agent: false at the mark, then a drain', async () => {
    const lines = await child(
      '',
      `
      const agent = new lib.Agent({ source: \`
        const { port1, port2 } = new AgentChannel({ highWaterMark: { messages: 2 } });
        const r = [1, 2, 3].map((i) => port1.postMessage(i));
        port1.ondrain = () => postMessage(r.join(',') + ' drain');
        port2.onmessage = () => {};
      \` });
      console.log(await new Promise((r) => agent.once('message', r)));
      await agent.terminate();
    `,
    );
    assert.deepEqual(lines, ['true,false,false drain']);
  });
});
