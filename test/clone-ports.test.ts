// Issue 11 (ports and transfer state): a port in its own transfer list, the
// "doomed" rule, untransferable pooled Buffer memory, messages queued before
// a port is started or while it travels, per-port FIFO, close on dropped
// ports and event.ports, no detach on a failed Agent start, the clone step
// order of HTML's StructuredSerializeWithTransfer (web-platform-tests'
// transfer-errors), closed ports released, and port flow control.
// What used to crash the process runs in a child process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, AgentChannel, AgentPool, clone, type AgentPort } from '../src/index.js';
import { collectMessages, delay, nextMessage, within } from './support/waits.js';
import { describeChild, repoRoot, runNode, spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

const asTransfer = (port: AgentPort) => port as unknown as ArrayBuffer;

/** Runs an ES module body in a child (`lib` is the library) and returns its stdout lines. */
async function child(body: string, timeoutMs = 30_000): Promise<string[]> {
  const code = `const lib = await import(${JSON.stringify(repoRoot + 'src/index.ts')});\n${body}`;
  const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs });
  assert.equal(result.code, 0, describeChild(result));
  return result.stdout.trim().split('\n');
}

const message = (port: AgentPort) => new Promise<unknown>((resolve) => (port.onmessage = (event) => resolve(event.data)));
const closed = (port: AgentPort) => new Promise<void>((resolve) => port.addEventListener('close', () => resolve()));

describe('a port in its own transfer list (item 1)', () => {
  it('on the host: DataCloneError, and the channel still works', async () => {
    const lines = await child(`
      const { port1, port2 } = new lib.AgentChannel();
      try { port1.postMessage('x', [port1]); console.log('no throw'); } catch (e) { console.log(e.name + ': ' + e.message); }
      const got = new Promise((r) => (port2.onmessage = (e) => r(e.data)));
      port1.postMessage('after');
      const keepAlive = setTimeout(() => {}, 10_000); // open ports do not keep a process alive
      console.log('got ' + await got);
      clearTimeout(keepAlive);
    `);
    assert.deepEqual(lines, ['DataCloneError: Transfer list contains source port', 'got after']);
  });

  it('inside an agent: DataCloneError, the agent and the channel go on', async () => {
    const lines = await child(`
      const agent = new lib.Agent({ source: \`
        const { port1, port2 } = new AgentChannel();
        try { port1.postMessage('x', [port1]); postMessage('no throw'); } catch (e) { postMessage(e.name); }
        port2.onmessage = (e) => postMessage('got ' + e.data);
        port1.postMessage('after');
      \` });
      const seen = [];
      await new Promise((resolve) => agent.on('message', (m) => { seen.push(m); if (seen.length === 2) resolve(); }));
      console.log(seen.join('|'));
      await agent.terminate();
    `);
    assert.deepEqual(lines, ['DataCloneError|got after']);
  });

  it('a getter that transfers the source port mid-serialization: DataCloneError, nothing detached', async () => {
    const lines = await child(`
      const { port1 } = new lib.AgentChannel();
      const buffer = new ArrayBuffer(8);
      let moved;
      const value = { get x() { moved = lib.clone(port1, { transfer: [port1] }); return 1; }, buffer };
      try { port1.postMessage(value, [buffer]); console.log('no throw'); } catch (e) { console.log(e.name); }
      console.log(buffer.byteLength);
      moved.close();
    `);
    assert.deepEqual(lines, ['DataCloneError', '8']);
  });

  it('inside an agent, a getter that transfers the source port mid-serialization: DataCloneError, nothing detached', async () => {
    const lines = await child(`
      const agent = new lib.Agent({ source: \`
        const { port1 } = new AgentChannel();
        const other = new AgentChannel();
        const buffer = new ArrayBuffer(8);
        const value = { get x() { other.port1.postMessage(null, [port1]); return 1; }, buffer };
        try { port1.postMessage(value, [buffer]); postMessage('no throw'); } catch (e) { postMessage(e.name); }
        postMessage(buffer.byteLength);
      \` });
      const seen = [];
      await new Promise((resolve) => agent.on('message', (m) => { seen.push(m); if (seen.length === 2) resolve(); }));
      console.log(seen.join('|'));
      console.log(String(await agent.evaluate('1 + 1')));
      await agent.terminate();
    `);
    assert.deepEqual(lines, ['DataCloneError|8', '2']);
  });

  it('inside an agent, the target port in the list (doomed): dropped, both ends get close, a console warning', async () => {
    const agent = spawnAgent({
      source: `
        const { port1, port2 } = new AgentChannel();
        let closes = 0;
        const onClose = () => { if (++closes === 2) postMessage('both closed'); };
        port1.addEventListener('close', onClose);
        port2.addEventListener('close', onClose);
        port2.onmessage = () => postMessage('delivered');
        postMessage(String(port1.postMessage(port2, [port2])));
      `,
    });
    const warnings: string[] = [];
    agent.on('console', (level: string, text: string) => level === 'warn' && warnings.push(text));
    assert.deepEqual(await collectMessages(agent, 2), ['false', 'both closed']);
    await delay(20);
    assert.ok(warnings.some((text) => /posted to itself/.test(text)), warnings.join());
    assert.equal(await agent.evaluate('1 + 1'), 2);
  });

  it('the target port in the list (doomed): message dropped, both ends get close, a warning', async () => {
    const { port1, port2 } = new AgentChannel();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    let delivered = false;
    port2.onmessage = () => (delivered = true);
    const both = Promise.all([closed(port1), closed(port2)]);
    assert.equal(port1.postMessage(port2, [asTransfer(port2)]), false); // nothing sent: the other end is closed
    await within(both, 5000, 'close on both ends');
    await delay(20);
    process.off('warning', onWarning);
    assert.equal(delivered, false);
    assert.ok(warnings.some((text) => /posted to itself/.test(text)), warnings.join());
    assert.throws(() => port1.postMessage('late'), TypeError);
  });
});

describe('pooled Buffer memory is untransferable, as in structuredClone (item 3)', () => {
  const fresh = () => Buffer.from('mine');
  // The pool's own length, not Buffer.poolSize: Node 26 allocates it 64 bytes larger.
  const poolBytes = fresh().buffer.byteLength;
  assert.ok(poolBytes >= Buffer.poolSize);
  const assertPoolIntact = (buf: Buffer) => {
    assert.equal(buf.buffer.byteLength, poolBytes);
    assert.equal(buf.toString(), 'mine');
    assert.equal(Buffer.from('more').toString(), 'more');
    assert.equal(typeof process.stderr.write(''), 'boolean'); // broke when the pool was handed over
  };

  it('clone() and agent.postMessage copy it and leave the pool alone', async () => {
    const a = fresh();
    const copy = clone(a.buffer, { transfer: [a.buffer] });
    assert.equal(copy.byteLength, poolBytes);
    assertPoolIntact(a);
    const agent = spawnAgent({ source: 'onmessage = (e) => postMessage(e.data.byteLength)' });
    const b = fresh();
    const reply = nextMessage(agent);
    agent.postMessage(b.buffer, [b.buffer]);
    assert.equal(await reply, poolBytes);
    assertPoolIntact(b);
    // Ordinary buffers still move.
    const plain = new ArrayBuffer(4);
    const moved = nextMessage(agent);
    agent.postMessage(plain, [plain]);
    assert.equal(await moved, 4);
    assert.equal(plain.byteLength, 0);
  });

  it('port.postMessage, Agent data/transferList and pool transferList copy it too', async () => {
    const { port1, port2 } = new AgentChannel();
    const a = fresh();
    const got = message(port2);
    port1.postMessage(a.buffer, [a.buffer]);
    assert.equal(((await got) as ArrayBuffer).byteLength, poolBytes);
    assertPoolIntact(a);
    port1.close();

    const b = fresh();
    const agent = spawnAgent({ source: 'postMessage(agentData.byteLength)', data: b.buffer, transferList: [b.buffer] });
    assert.equal(await nextMessage(agent), poolBytes);
    assertPoolIntact(b);

    const pool = new AgentPool({ source: 'export default (buffer) => buffer.byteLength', minAgents: 1, maxAgents: 1 });
    try {
      const c = fresh();
      assert.equal(await pool.run(c.buffer, { transferList: [c.buffer] }), poolBytes);
      assertPoolIntact(c);
    } finally {
      await pool.destroy();
    }
  });
});

describe('queued, not lost, and in order (items 7, 8)', () => {
  it('messages posted before the port is transferred and started all arrive', async () => {
    const agent = spawnAgent({ source: 'onmessage = (e) => { e.data.port.onmessage = (m) => postMessage(m.data); }' });
    const { port1, port2 } = new AgentChannel();
    port1.postMessage('a');
    port1.postMessage('b');
    const got = collectMessages(agent, 3);
    agent.postMessage({ port: port2 }, [asTransfer(port2)]);
    port1.postMessage('c');
    assert.deepEqual(await got, ['a', 'b', 'c']);
  });

  it('a port queues until start(); addEventListener starts it too', async () => {
    const { port1, port2 } = new AgentChannel();
    port1.postMessage(1);
    port1.postMessage(2);
    const seen: unknown[] = [];
    port2.addEventListener('close', () => seen.push('close-listener-does-not-start'));
    await delay(30);
    assert.equal(seen.length, 0, "nothing delivered before start");
    const done = new Promise<void>((resolve) => port2.addEventListener('message', (e: { data: unknown }) => { seen.push(e.data); if (seen.length === 2) resolve(); }));
    await within(done, 5000, 'queued messages');
    assert.deepEqual(seen, [1, 2]);
    port1.close();
  });

  it('per-port FIFO while the receiving port hops between agents and a sender floods', async () => {
    const total = 3000;
    const { port1, port2 } = new AgentChannel();
    // The sender floods port1 from its own thread.
    const sender = spawnAgent({ source: `onmessage = (e) => { const p = e.data.port; for (let i = 0; i < ${total}; i++) p.postMessage(i); postMessage('sent'); }` });
    // Each hop agent takes what arrives, then hands the port back to the host.
    const hopSource = `let seen = []; onmessage = (e) => { const p = e.data.port; let n = 0;
      p.onmessage = (m) => { seen.push(m.data); if (++n === e.data.take) { p.onmessage = null; postMessage({ seen, port: p }, [p]); seen = []; } }; };`;
    const hops = [spawnAgent({ source: hopSource }), spawnAgent({ source: hopSource })];
    const received: number[] = [];
    let port: AgentPort = port2;
    const sent = nextMessage(sender);
    sender.postMessage({ port: port1 }, [asTransfer(port1)]);
    for (let hop = 0; received.length < total; hop++) {
      const agent = hops[hop % 2]!;
      const take = Math.min(100 + hop * 37, total - received.length);
      const back = nextMessage<{ seen: number[]; port: AgentPort }>(agent, 20_000);
      agent.postMessage({ port, take }, [asTransfer(port)]);
      const reply = await back;
      received.push(...reply.seen);
      port = reply.port;
    }
    assert.equal(await sent, 'sent');
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i));
    port.close();
  });
});

describe('close when a port is dropped; event.ports (item 9)', () => {
  it('a port in the transfer list but not in the value is in event.ports inside an agent', async () => {
    const agent = spawnAgent({ source: 'onmessage = (e) => { const [p] = e.ports; p.onmessage = (m) => postMessage(["via ports", e.ports.length, m.data]); }' });
    const { port1, port2 } = new AgentChannel();
    const reply = nextMessage(agent);
    agent.postMessage('no port in here', [asTransfer(port2)]);
    port1.postMessage('hi');
    assert.deepEqual(await reply, ['via ports', 1, 'hi']);
    port1.close();
  });

  it('a port no one can receive (host message event, not in the value) closes: its peer gets close', async () => {
    const agent = spawnAgent({ source: 'const { port1, port2 } = new AgentChannel(); port1.onclose = () => postMessage("peer closed"); postMessage("dropping", [port2]);' });
    const got = collectMessages(agent, 2);
    assert.deepEqual(await got, ['dropping', 'peer closed']);
  });

  it('a port queued for an agent that close()s first closes', async () => {
    const agent = spawnAgent({ source: 'close();' });
    const { port1, port2 } = new AgentChannel();
    const gotClose = closed(port1);
    try {
      agent.postMessage({ port: port2 }, [asTransfer(port2)]);
    } catch {
      // already closed: the port stays here; close it ourselves
      port2.close();
    }
    await within(gotClose, 10_000, 'close of the dropped port');
  });

  it('a port sent to an agent terminated at once closes', async () => {
    const agent = new Agent({ source: 'onmessage = () => {}' });
    const { port1, port2 } = new AgentChannel();
    const gotClose = closed(port1);
    agent.postMessage({ port: port2 }, [asTransfer(port2)]);
    await agent.terminate();
    await within(gotClose, 10_000, 'close of the port that never arrived');
  });
});

describe('transfers happen only when they must (items 10, 11)', () => {
  it('a failed Agent start detaches nothing', async () => {
    // The thread cannot be created: a 1 GiB stack under an address-space
    // limit (prlimit on the child itself) just above what it already maps.
    const lines = await child(`
      const { execFileSync } = await import('node:child_process');
      const { readFileSync } = await import('node:fs');
      // Node 24+: tsx loads its WebAssembly lexer lazily, and under the limit
      // V8 cannot reserve Wasm memory; tsx then uses its JS lexer instead.
      process.on('unhandledRejection', (e) => { if (!/Wasm memory/.test(String(e))) throw e; });
      const mapped = Number(/VmSize:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (mapped + 256 * 1024 * 1024)]);
      const buffer = new ArrayBuffer(16);
      const { port1, port2 } = new lib.AgentChannel();
      try {
        new lib.Agent({ source: '1', data: { buffer, port: port2 }, transferList: [buffer, port2], resourceLimits: { stackSizeMB: 1024 } });
        console.log('started');
      } catch (e) { console.log(e.code); }
      console.log(buffer.byteLength, port2.postMessage('still mine'));
      port1.close();
    `);
    assert.deepEqual(lines, ['ERR_AGENT_START_FAILED', '16 true']);
  });

  const posts: [string, (value: unknown, transfer: unknown[]) => void][] = [
    ['clone()', (value, transfer) => clone(value, { transfer: transfer as ArrayBuffer[] })],
    ['port.postMessage', (value, transfer) => new AgentChannel().port1.postMessage(value, transfer)],
  ];
  for (const [name, post] of posts) {
    it(`${name}: a throwing getter wins over a detached buffer or port in the list`, () => {
      const detached = new ArrayBuffer(1);
      clone(detached, { transfer: [detached] });
      const custom = new Error('hi');
      assert.throws(() => post({ get whatever() { throw custom; } }, [detached]), (e) => e === custom);
      assert.throws(() => post(null, [detached]), { name: 'DataCloneError' });
      const { port1 } = new AgentChannel();
      const moved = clone(port1, { transfer: [asTransfer(port1)] }) as AgentPort;
      assert.throws(() => post({ get whatever() { throw custom; } }, [port1]), (e) => e === custom);
      assert.throws(() => post(null, [port1]), { name: 'DataCloneError' });
      moved.close();
      // Duplicates are found before the value is read.
      const twice = new ArrayBuffer(1);
      assert.throws(() => post({ get whatever() { throw custom; } }, [twice, twice]), { name: 'DataCloneError' });
    });

    it(`${name}: a buffer detached during serialization fails the post instead of sending 0 bytes`, () => {
      const buffer = new ArrayBuffer(8);
      let seen = false;
      const value = { get a() { clone(null, { transfer: [buffer] }); seen = true; return 1; }, buffer };
      assert.throws(() => post(value, [buffer]), { name: 'DataCloneError' });
      assert.equal(seen, true);
    });
  }

  it('agent.postMessage and an agent\'s own postMessage follow the same order', async () => {
    const agent = spawnAgent({ source: `
      const detached = new ArrayBuffer(1); postMessage(null, [detached]);
      const results = [];
      try { postMessage({ get x() { throw new Error('getter'); } }, [detached]); } catch (e) { results.push(e.message); }
      const b = new ArrayBuffer(8);
      try { postMessage({ get x() { postMessage('inner', [b]); return 1; }, b }, [b]); } catch (e) { results.push(e.name); }
      postMessage(results);
      onmessage = () => {};
    ` });
    const [first, inner, results] = await collectMessages(agent, 3);
    assert.equal(first, null);
    assert.equal(inner, 'inner');
    assert.deepEqual(results, ['getter', 'DataCloneError']);
    const detached = new ArrayBuffer(1);
    clone(detached, { transfer: [detached] });
    const custom = new Error('host getter');
    assert.throws(() => agent.postMessage({ get x() { throw custom; } }, [detached]), (e) => e === custom);
  });
});

/**
 * Heap growth over two more rounds of `churn` after a first warming round, with
 * forced GCs: what a leak per channel shows up as.
 */
async function heapGrowthOver(churn: () => Promise<void>): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await churn();
  gc();
  const before = process.memoryUsage().heapUsed;
  await churn();
  await churn();
  gc();
  gc();
  return process.memoryUsage().heapUsed - before;
}

describe('closed ports are released (item 14)', () => {
  it('2,000 channels closed by their own side do not keep their handlers', async () => {
    let closes = 0;
    const churn = async () => {
      const target = closes + 2000;
      for (let i = 0; i < 2000; i++) {
        const { port1, port2 } = new AgentChannel();
        const payload = new Array(1024).fill(i); // ~8 KB held by the handlers
        port1.onmessage = () => payload.length;
        port2.onmessage = () => payload.length;
        port2.onclose = () => closes++;
        port1.close();
      }
      // The peers' close events come through the event loop (a loaded machine is slow).
      while (closes < target) await delay(10);
    };
    const grown = await heapGrowthOver(churn);
    assert.ok(grown < 8 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB over 4,000 closed channels`);
  });
});

describe('doomed posts are released (item 1)', () => {
  it('2,000 doomed posts free their channels and the queue that held the port itself', async () => {
    const warn = process.emitWarning;
    process.emitWarning = () => {}; // one warning per doomed post: not what is measured here
    let closes = 0;
    const churn = async () => {
      const target = closes + 4000;
      for (let i = 0; i < 2000; i++) {
        const { port1, port2 } = new AgentChannel();
        const payload = new Array(1024).fill(i); // ~8 KB held by the handlers
        port1.onmessage = () => payload.length;
        port2.onmessage = () => payload.length;
        port1.onclose = () => closes++;
        port2.onclose = () => closes++;
        port1.postMessage({ payload: 'x'.repeat(1024), port: port2 }, [asTransfer(port2)]);
      }
      while (closes < target) await delay(10);
    };
    try {
      const grown = await heapGrowthOver(churn);
      assert.ok(grown < 8 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB over 4,000 doomed posts`);
    } finally {
      process.emitWarning = warn;
    }
  });
});

describe('port flow control', () => {
  it('host sender: false at the high-water mark, buffered figures, drain', async () => {
    const { port1, port2 } = new AgentChannel({ highWaterMark: { messages: 4 } });
    const results = [1, 2, 3, 4, 5].map((i) => port1.postMessage(i));
    assert.deepEqual(results, [true, true, true, false, false]);
    assert.equal(port1.bufferedMessages, 5);
    assert.ok(port1.bufferedBytes > 0);
    const drained = new Promise<void>((resolve) => (port1.ondrain = () => resolve()));
    const seen: unknown[] = [];
    port2.onmessage = (e) => seen.push(e.data);
    await within(drained, 5000, 'drain');
    await delay(20);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(port1.bufferedMessages, 0);
    port1.close();
  });

  it('a post to a closed peer returns false and still moves its transfer list (unchanged contract)', () => {
    const { port1, port2 } = new AgentChannel();
    port2.close();
    const buffer = new ArrayBuffer(8);
    assert.equal(port1.postMessage(buffer, [buffer]), false);
    assert.equal(buffer.byteLength, 0);
  });

  it('validates highWaterMark (positive integers, known keys)', () => {
    assert.throws(() => new AgentChannel({ highWaterMark: { messages: 0 } }), { code: 'ERR_AGENT_INVALID_OPTION' });
    assert.throws(() => new AgentChannel({ highWaterMark: { bites: 5 } as never }), { code: 'ERR_AGENT_INVALID_OPTION' });
  });

  it('an agent sender blocks at the mark until the host drains, loses nothing, and terminates promptly', async () => {
    const { port1, port2 } = new AgentChannel({ highWaterMark: { messages: 16 } });
    const total = 500;
    const agent = spawnAgent({ source: `onmessage = (e) => { const p = e.data.port; for (let i = 0; i < ${total}; i++) p.postMessage(i); postMessage('done'); }` });
    let finished = false;
    agent.once('message', () => (finished = true));
    agent.postMessage({ port: port1 }, [asTransfer(port1)]);
    await delay(300);
    // port2 is not started: the agent waits with the queue at the mark.
    assert.equal(finished, false, 'the agent should be blocked at the high-water mark');
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => agent.once('message', () => resolve()));
    port2.onmessage = (e) => seen.push(e.data as number);
    await within(done, 20_000, 'the blocked sender to finish');
    await delay(50);
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i));

    // Blocked forever (nobody drains): terminate still ends it quickly.
    const other = new AgentChannel({ highWaterMark: { messages: 2 } });
    const stuck = spawnAgent({ source: `onmessage = (e) => { postMessage('flooding'); for (;;) e.data.port.postMessage(1); }` });
    const flooding = nextMessage(stuck);
    stuck.postMessage({ port: other.port1 }, [asTransfer(other.port1)]);
    assert.equal(await flooding, 'flooding');
    await delay(100);
    const started = Date.now();
    await within(stuck.terminate(), 5000, 'terminate of a blocked sender');
    assert.ok(Date.now() - started < 5000);
    other.port2.close();
  });

  it('an agent flooding a host-side port does not starve host callbacks', async () => {
    const { port1, port2 } = new AgentChannel();
    const total = 20_000;
    const agent = spawnAgent({ source: `onmessage = (e) => { const p = e.data.port; for (let i = 0; i < ${total}; i++) p.postMessage(i); }` });
    let count = 0;
    let countAtImmediate = -1;
    const all = new Promise<void>((resolve) => {
      port2.onmessage = () => {
        if (count === 0) setImmediate(() => (countAtImmediate = count));
        if (++count === total) resolve();
      };
    });
    agent.postMessage({ port: port1 }, [asTransfer(port1)]);
    await within(all, 30_000, 'the flood');
    assert.ok(countAtImmediate >= 0 && countAtImmediate < total / 2, `setImmediate ran after ${countAtImmediate} of ${total} messages`);
    port2.close();
  });
});
