// Port lifecycle: ports in transit while a sender floods them (numbered
// messages hop through agents and back), ports dropped on every path (in a
// transfer list but not the value, sent to an agent that closes or is
// terminated at once), a port in its own transfer list and the target port
// in its own message (the "doomed" rule), floods against a small high-water
// mark (agent senders block, host senders see false and 'drain'), and pooled
// Buffer memory in transfer lists.
//
// Checked: per-port FIFO with nothing lost or doubled; a dropped port's peer
// always gets 'close'; self-transfer throws DataCloneError and the channel
// still works; a doomed post closes both ends; a blocked sender loses
// nothing and stays terminable; the Buffer pool is never detached.
import { AgentChannel, clone, type AgentPort } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { deferred, delay, nextMessage, within } from '../lib/util.js';

const CASES = ['hop-flood', 'dropped', 'self-and-peer', 'backpressure', 'untransferable'] as const;
type Case = (typeof CASES)[number];

const asTransfer = (port: AgentPort) => port as unknown as ArrayBuffer;
const closeOf = (port: AgentPort) => new Promise<void>((resolve) => port.addEventListener('close', () => resolve()));

// Takes `take` messages from the port it is given, then hands port and messages back.
const HOP_SOURCE = `onmessage = (e) => { const p = e.data.port; const seen = [];
  p.onmessage = (m) => { seen.push(m.data); if (seen.length === e.data.take) { p.onmessage = null; postMessage({ seen, port: p }, [p]); } }; };`;
// Floods the port it is given with `count` numbered messages.
const FLOOD_SOURCE = `onmessage = (e) => { const p = e.data.port; for (let i = 0; i < e.data.count; i++) p.postMessage(i); postMessage('sent'); };`;

export const portLifecycle: Scenario = {
  name: 'port-lifecycle',
  description: 'ports in transit under a flood, dropped ports, self/peer transfer, floods with backpressure, untransferable pooled memory',
  async run(ctx: StressContext) {
    const counts: Record<string, number> = {};
    const result = await iterate(ctx, async ({ rng }) => {
      const kind: Case = rng.pick(CASES);
      counts[kind] = (counts[kind] ?? 0) + 1;
      ctx.log(`iteration ${ctx.iteration}: ${kind}`);
      switch (kind) {
        case 'hop-flood': {
          const total = rng.int(200, ctx.size(5000, 1000));
          const mark = rng.chance(0.5) ? { messages: rng.int(4, 64) } : undefined;
          const { port1, port2 } = new AgentChannel(mark ? { highWaterMark: mark } : undefined);
          const sender = ctx.spawn({ name: 'flood', source: FLOOD_SOURCE });
          const hops = [ctx.spawn({ name: 'hop-a', source: HOP_SOURCE }), ctx.spawn({ name: 'hop-b', source: HOP_SOURCE })];
          const early = rng.chance(0.5);
          if (early) port1.postMessage('early'); // queued before the port even moved
          const sent = nextMessage(sender, 30_000);
          sender.postMessage({ port: port1, count: total }, [asTransfer(port1)]);
          const received: unknown[] = [];
          const wanted = total + (early ? 1 : 0);
          let port = port2;
          for (let hop = 0; received.length < wanted; hop++) {
            const agent = hops[hop % 2]!;
            const take = Math.min(rng.int(1, 400), wanted - received.length);
            const back = nextMessage<{ seen: unknown[]; port: AgentPort }>(agent, 30_000);
            agent.postMessage({ port, take }, [asTransfer(port)]);
            const reply = await back;
            received.push(...reply.seen);
            port = reply.port;
          }
          await within(sent, 30_000, 'the flood to finish');
          const numbers = received.filter((v) => v !== 'early');
          ctx.check(numbers.length === total, `hop-flood: ${numbers.length} of ${total} messages`);
          const firstBad = numbers.findIndex((v, i) => v !== i);
          ctx.check(firstBad === -1, `hop-flood: out of order at ${firstBad}: got ${String(numbers[firstBad])}`);
          if (received.includes('early')) ctx.check(received[0] === 'early', 'hop-flood: the early message was not first');
          port.close();
          break;
        }
        case 'dropped': {
          const how = rng.pick(['not-in-value', 'closing-agent', 'terminated-agent', 'agent-drops'] as const);
          const { port1, port2 } = new AgentChannel();
          const gotClose = closeOf(port1);
          if (how === 'not-in-value') {
            // The host Agent 'message' event has no ports: a port only in the list is dropped.
            const agent = ctx.spawn({ name: 'dropper', source: 'onmessage = (e) => postMessage("x", [e.ports[0]])' });
            agent.postMessage(null, [asTransfer(port2)]);
            await nextMessage(agent);
          } else if (how === 'closing-agent') {
            const agent = ctx.spawn({ name: 'closer', source: 'close();' });
            try {
              agent.postMessage({ port: port2 }, [asTransfer(port2)]);
            } catch {
              port2.close();
            }
          } else if (how === 'terminated-agent') {
            const agent = ctx.spawn({ name: 'victim', source: 'onmessage = () => {}' });
            agent.postMessage({ port: port2 }, [asTransfer(port2)]);
            void agent.terminate();
          } else {
            const agent = ctx.spawn({ name: 'ignorer', source: 'onmessage = () => {}' });
            agent.postMessage('ports only in e.ports, never used', [asTransfer(port2)]);
            await delay(rng.int(0, 20));
            void agent.terminate();
          }
          try {
            await within(gotClose, 15_000, `close of a dropped port (${how})`);
          } catch {
            ctx.check(false, `dropped/${how}: the peer never got close`);
          }
          break;
        }
        case 'self-and-peer': {
          const inAgent = rng.chance(0.5);
          if (inAgent) {
            const agent = ctx.spawn({
              name: 'self-transfer',
              source: `const { port1, port2 } = new AgentChannel();
                let r = [];
                try { port1.postMessage('x', [port1]); r.push('no throw'); } catch (e) { r.push(e.name); }
                port2.onmessage = (e) => { r.push(e.data);
                  const d = new AgentChannel(); let closes = 0;
                  d.port1.onclose = d.port2.onclose = () => { if (++closes === 2) { r.push('doomed closed'); postMessage(r); } };
                  d.port1.postMessage(d.port2, [d.port2]); };
                port1.postMessage('works');`,
            });
            const r = await nextMessage<unknown[]>(agent, 15_000);
            ctx.check(JSON.stringify(r) === JSON.stringify(['DataCloneError', 'works', 'doomed closed']), `self-and-peer in agent: ${JSON.stringify(r)}`);
          } else {
            const { port1, port2 } = new AgentChannel();
            let threw = '';
            try {
              port1.postMessage('x', [asTransfer(port1)]);
            } catch (error) {
              threw = (error as Error).name;
            }
            ctx.check(threw === 'DataCloneError', `self transfer on the host threw '${threw}'`);
            const got = new Promise<unknown>((resolve) => (port2.onmessage = (e) => resolve(e.data)));
            port1.postMessage('works');
            ctx.check((await within(got, 5000, 'message after a refused self-transfer')) === 'works', 'channel broken after self-transfer');
            const d = new AgentChannel();
            const both = Promise.all([closeOf(d.port1), closeOf(d.port2)]);
            const onWarning = () => {};
            process.on('warning', onWarning);
            d.port1.postMessage(d.port2, [asTransfer(d.port2)]);
            await within(both, 5000, 'close of both ends of a doomed channel');
            process.off('warning', onWarning);
            port1.close();
          }
          break;
        }
        case 'backpressure': {
          const messages = rng.int(2, 32);
          const total = rng.int(100, ctx.size(3000, 500));
          const { port1, port2 } = new AgentChannel({ highWaterMark: { messages } });
          if (rng.chance(0.5)) {
            // Agent sender: blocks at the mark while the host holds off, loses nothing.
            const sender = ctx.spawn({ name: 'blocked-sender', source: FLOOD_SOURCE });
            let done = false;
            const sent = nextMessage(sender, 30_000).then(() => (done = true));
            sender.postMessage({ port: port1, count: total }, [asTransfer(port1)]);
            await delay(rng.int(10, 100));
            ctx.check(!done || total <= messages, `backpressure: ${total} messages went through a mark of ${messages} with nobody reading`);
            if (rng.chance(0.2)) {
              sent.catch(() => {}); // it never finishes: terminated while blocked
              await within(sender.terminate(), 5000, 'terminate of a blocked sender');
              port2.close();
              break;
            }
            const seen: unknown[] = [];
            const all = deferred<void>();
            port2.onmessage = (e) => {
              seen.push(e.data);
              if (seen.length === total) all.resolve();
            };
            await within(Promise.all([sent, all.promise]), 30_000, 'the blocked sender to finish');
            const firstBad = seen.findIndex((v, i) => v !== i);
            ctx.check(firstBad === -1, `backpressure: out of order at ${firstBad}`);
          } else {
            // Host sender: never blocks, sees false at the mark, then 'drain'.
            let falses = 0;
            for (let i = 0; i < total; i++) if (!port1.postMessage(i)) falses++;
            ctx.check(falses === total - messages + 1, `host sender: ${falses} false returns for ${total} posts at mark ${messages}`);
            ctx.check(port1.bufferedMessages === total, `bufferedMessages ${port1.bufferedMessages}, expected ${total}`);
            const drained = new Promise<void>((resolve) => (port1.ondrain = () => resolve()));
            let n = 0;
            const all = deferred<void>();
            port2.onmessage = (e) => {
              if (e.data !== n) all.reject(new Error(`host flood: got ${String(e.data)}, expected ${n}`));
              if (++n === total) all.resolve();
            };
            await within(Promise.all([drained, all.promise]), 30_000, 'drain and delivery');
          }
          port2.close();
          break;
        }
        case 'untransferable': {
          const buf = Buffer.from(`pooled-${ctx.iteration}`);
          const pool = buf.buffer;
          const poolBytes = pool.byteLength; // not Buffer.poolSize: Node 26 allocates the pool 64 bytes larger
          const path = rng.pick(['clone', 'agent', 'port', 'data'] as const);
          if (path === 'clone') {
            clone(pool, { transfer: [pool] });
          } else if (path === 'agent') {
            const agent = ctx.spawn({ name: 'pool-taker', source: 'onmessage = (e) => postMessage(e.data.byteLength)' });
            agent.postMessage(pool, [pool]);
            ctx.check((await nextMessage(agent)) === poolBytes, 'the agent did not get a copy of the pool');
          } else if (path === 'port') {
            const { port1, port2 } = new AgentChannel();
            const got = new Promise<unknown>((resolve) => (port2.onmessage = (e) => resolve(e.data)));
            port1.postMessage(pool, [pool]);
            await within(got, 5000, 'the pool copy over a port');
            port1.close();
          } else {
            const agent = ctx.spawn({ name: 'pool-data', source: 'postMessage(agentData.byteLength)', data: pool, transferList: [pool] });
            await nextMessage(agent);
          }
          ctx.check(poolBytes > 0 && pool.byteLength === poolBytes && buf.toString() === `pooled-${ctx.iteration}`, `untransferable/${path}: the Buffer pool was detached`);
          ctx.check(Buffer.from('still works').toString() === 'still works', 'Buffer.from broke');
          break;
        }
      }
    }, { timeoutMs: 90_000 });
    result.stats = Object.fromEntries(Object.entries(counts).map(([k, v]) => [`n_${k}`, v]));
    return result;
  },
};
