// Storms: many small messages (per-channel order, none lost), spawn/terminate
// cycles with an RSS slope bound, hundreds of agents alive at once.
import { AgentChannel, liveAgentCount, type Agent } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import { enforceMemoryBounds, rssMB, settledRssMB, slope } from '../lib/memory.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { deferred, describeError, nextMessage, within } from '../lib/util.js';

// ---------------------------------------------------------------- message storm

const RECEIVER = `
let expected = 0, errors = 0, first = '';
const check = (v, where) => {
  if (v !== expected) { errors++; if (!first) first = where + ': got ' + v + ', expected ' + expected; expected = v; }
  expected++;
};
let target = -1, channel = -1;
const maybeDone = () => { if (expected === target) postMessage({ done: channel, received: expected, errors, first }); };
onmessage = (e) => {
  const m = e.data;
  if (typeof m === 'number') { check(m, 'host'); if (target >= 0) maybeDone(); return; }
  if (m.type === 'expect') { target = m.count; channel = m.channel; maybeDone(); }
  else if (m.type === 'port-in') {
    target = m.count; channel = m.channel;
    m.port.onmessage = (ev) => { check(ev.data, 'port'); maybeDone(); };
    postMessage({ listening: m.channel });
  }
  else if (m.type === 'send-host') { for (let i = 0; i < m.count; i++) postMessage(i); }
  else if (m.type === 'send-port') {
    // In slices, so the agent also stays responsive; the order must survive that.
    let i = 0;
    const pump = () => { const end = Math.min(m.count, i + 5000); for (; i < end; i++) m.port.postMessage(i); if (i < m.count) setTimeout(pump, 0); };
    pump();
  }
};
`;

type Kind = 'host->agent' | 'agent->host' | 'agent->agent';

export const messageStorm: Scenario = {
  name: 'message-storm',
  description: '1M small messages per iteration (100k with --quick) over host<->agent and agent<->agent channels; order kept, none lost',
  weight: 1.5,
  async run(ctx: StressContext) {
    const perIteration = ctx.size(1_000_000, 100_000);
    let total = 0;
    let bestRate = 0;
    const result = await iterate(
      ctx,
      async ({ rng }) => {
        const channels = rng.int(2, 6);
        const kinds: Kind[] = Array.from({ length: channels }, (_, i) => (i < 3 ? (['host->agent', 'agent->host', 'agent->agent'] as const)[i]! : rng.pick(['host->agent', 'agent->host', 'agent->agent'] as const)));
        const weights = kinds.map(() => rng.int(1, 4));
        const sum = weights.reduce((a, b) => a + b, 0);
        const counts = weights.map((w) => Math.floor((perIteration * w) / sum));
        counts[0]! += perIteration - counts.reduce((a, b) => a + b, 0);
        const started = performance.now();
        const agents: Agent[] = [];
        const finished: Promise<void>[] = [];
        const go: (() => void)[] = [];
        for (let c = 0; c < channels; c++) {
          const count = counts[c]!;
          const kind = kinds[c]!;
          const receiver = ctx.spawn({ name: `storm-${c}-rx`, source: RECEIVER });
          agents.push(receiver);
          await receiver.ready;
          const doneMessage = (agent: Agent) =>
            nextMessage<{ done: number; received: number; errors: number; first: string }>(agent, 600_000, (m) => typeof m === 'object' && m !== null && (m as { done?: number }).done === c).then((r) => {
              ctx.check(r.errors === 0, `${kind} channel ${c}: ${r.errors} order errors, first ${r.first}`);
              ctx.check(r.received === count, `${kind} channel ${c}: ${r.received}/${count} received`);
            });
          if (kind === 'host->agent') {
            const done = doneMessage(receiver);
            receiver.postMessage({ type: 'expect', count, channel: c });
            finished.push(done);
            go.push(() => {
              for (let i = 0; i < count; i++) receiver.postMessage(i);
            });
          } else if (kind === 'agent->host') {
            let expected = 0;
            let errors = 0;
            let first = '';
            const done = deferred<void>();
            receiver.on('message', (v) => {
              if (typeof v !== 'number') return;
              if (v !== expected) {
                errors++;
                if (!first) first = `got ${v}, expected ${expected}`;
                expected = v;
              }
              if (++expected === count) done.resolve();
            });
            receiver.on('exit', () => done.reject(new Error(`${receiver.name} exited mid-storm`)));
            finished.push(
              done.promise.then(() => {
                ctx.check(errors === 0, `agent->host channel ${c}: ${errors} order errors, first ${first}`);
              }),
            );
            go.push(() => receiver.postMessage({ type: 'send-host', count }));
          } else {
            const sender = ctx.spawn({ name: `storm-${c}-tx`, source: RECEIVER });
            agents.push(sender);
            await sender.ready;
            const { port1, port2 } = new AgentChannel();
            const listening = nextMessage(receiver, 10_000, (m) => (m as { listening?: number }).listening === c);
            receiver.postMessage({ type: 'port-in', port: port2, count, channel: c }, [port2]);
            await listening;
            finished.push(doneMessage(receiver));
            go.push(() => sender.postMessage({ type: 'send-port', port: port1, count }, [port1]));
          }
        }
        for (const start of rng.shuffle(go)) start();
        await within(Promise.all(finished), 600_000, `${perIteration} messages over ${channels} channels`);
        const seconds = (performance.now() - started) / 1000;
        total += perIteration;
        bestRate = Math.max(bestRate, perIteration / seconds);
        ctx.log(`${perIteration} messages over ${kinds.join(', ')} in ${seconds.toFixed(1)} s`);
        await Promise.all(agents.map((agent) => agent.terminate()));
      },
      { timeoutMs: 700_000 },
    );
    result.stats = { messages: total, bestRatePerSec: Math.round(bestRate) };
    return result;
  },
};

// ---------------------------------------------------------------- spawn / terminate cycles

export const spawnCycles: Scenario = {
  name: 'spawn-cycles',
  description: '10k spawn/terminate cycles (1k with --quick) in every lifecycle shape; RSS slope bounded, no live agent left',
  weight: 1.5,
  async run(ctx: StressContext) {
    const target = ctx.size(10_000, 1_000);
    const batch = 100;
    const warmup = Math.max(2, Math.ceil(target / batch / 10));
    const samples: [number, number][] = [];
    let cycles = 0;
    const baseline = liveAgentCount();
    const result = await iterate(
      ctx,
      async ({ rng, index }) => {
        const concurrency = rng.int(1, 6);
        let next = 0;
        const worker = async () => {
          while (next < batch) {
            next++;
            const shape = rng.int(0, 5);
            const agent = ctx.spawn({ name: `cycle-${index}-${next}`, source: shape === 5 ? 'setInterval(() => {}, 1); onmessage = (e) => postMessage(e.data);' : 'onmessage = (e) => postMessage(e.data);' });
            switch (shape) {
              case 0: // terminate before it ran
                break;
              case 1:
                await agent.ready;
                break;
              case 2:
                ctx.assert((await agent.evaluate('6 * 7')) === 42, 'evaluate() in a fresh agent');
                break;
              case 3: {
                const echo = nextMessage(agent, 10_000);
                await agent.ready;
                agent.postMessage({ n: next, s: 'x'.repeat(rng.int(0, 1000)) });
                await echo;
                break;
              }
              case 4: // closes itself
                await agent.ready;
                agent.postMessage(0);
                await agent.evaluate('close()').catch(() => {});
                break;
              default:
                await agent.ready;
            }
            await agent.terminate();
            cycles++;
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        if (index >= warmup) samples.push([cycles, await settledRssMB(10)]);
        const live = liveAgentCount();
        ctx.assert(live === baseline, `liveAgentCount() ${live} after a batch of cycles (baseline ${baseline})`);
      },
      { min: Math.ceil(target / batch), timeoutMs: 120_000, maxFailures: 3 },
    );
    // MB per 1000 cycles, after warm-up.
    const perThousand = slope(samples) * 1000;
    // MB per 1000 cycles. An agent costs ~600 KB-1 MB (isolate, heap, thread stack),
    // so leaking even a small part of one shows far above this; allocator noise stays below.
    const bound = 4;
    const span = samples.length > 1 ? samples.at(-1)![0] - samples[0]![0] : 0;
    if (samples.length >= 8 && span >= 1500 && enforceMemoryBounds()) {
      result.failures.push(
        ...(perThousand <= bound
          ? []
          : [{ message: `RSS grows ${perThousand.toFixed(2)} MB per 1000 spawn/terminate cycles (bound ${bound}); samples ${samples.map(([x, y]) => `${x}:${y.toFixed(0)}`).join(' ')}`, seed: ctx.runSeed, iteration: -1 }]),
      );
    }
    result.stats = {
      cycles,
      rssSlopeMBPer1000: perThousand.toFixed(2),
      rssFirstMB: samples[0]?.[1].toFixed(0) ?? '-',
      rssLastMB: samples.at(-1)?.[1].toFixed(0) ?? '-',
    };
    return result;
  },
};

// ---------------------------------------------------------------- many live agents

export const liveAgents: Scenario = {
  name: 'live-agents',
  description: '500 agents alive at once (blocked in Atomics.wait, idle, with timers): all answer, all wake, all terminate',
  async run(ctx: StressContext) {
    const count = 500;
    let peakRss = 0;
    let peakLive = 0;
    const baseline = liveAgentCount();
    const result = await iterate(
      ctx,
      async ({ rng }) => {
        const sab = new SharedArrayBuffer(8);
        const flags = new Int32Array(sab); // [0]: the futex, [1]: how many are about to wait
        const agents: Agent[] = [];
        const waiters: Agent[] = [];
        const rss0 = rssMB();
        for (let i = 0; i < count; i++) {
          const shape = rng.int(0, 2);
          const source =
            shape === 0
              ? `onmessage = (e) => { if (e.data === 'wait') { const f = new Int32Array(agentData); Atomics.add(f, 1, 1); Atomics.wait(f, 0, 0); postMessage('woke'); } };`
              : shape === 1
                ? 'onmessage = (e) => postMessage(e.data);'
                : 'let ticks = 0; setInterval(() => ticks++, 5); onmessage = (e) => postMessage(e.data);';
          const agent = ctx.spawn({ name: `live-${i}`, source, data: sab });
          agent.on('error', (error) => ctx.check(false, `live-${i}: ${describeError(error)}`));
          agents.push(agent);
          if (shape === 0) waiters.push(agent);
        }
        await within(Promise.all(agents.map((a) => a.ready)), 120_000, `${count} agents to start`);
        peakLive = Math.max(peakLive, liveAgentCount() - baseline);
        ctx.assert(liveAgentCount() - baseline === count, `liveAgentCount() says ${liveAgentCount() - baseline} live, ${count} started`);
        // Everyone answers.
        const answers = await within(Promise.all(agents.map((a, i) => a.evaluate<number>(`${i} + 1`))), 60_000, `${count} evaluate() answers`);
        answers.forEach((v, i) => ctx.check(v === i + 1, `live-${i} answered ${v}`));
        // The waiters block, then one notify wakes them all.
        const woke = waiters.map((a) => nextMessage(a, 60_000, (m) => m === 'woke'));
        for (const a of waiters) a.postMessage('wait');
        await within(
          (async () => {
            while (Atomics.load(flags, 1) < waiters.length) await new Promise((r) => setTimeout(r, 5));
          })(),
          60_000,
          `${waiters.length} agents to reach Atomics.wait`,
        );
        await new Promise((r) => setTimeout(r, 20));
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        await within(Promise.all(woke), 60_000, `${waiters.length} waiters to wake`);
        peakRss = Math.max(peakRss, rssMB() - rss0);
        // Terminate: all at once, or in a random order in small groups.
        if (rng.chance(0.5)) {
          await within(Promise.all(agents.map((a) => a.terminate())), 60_000, `${count} agents to terminate`);
        } else {
          rng.shuffle(agents);
          for (let i = 0; i < agents.length; i += 25) await within(Promise.all(agents.slice(i, i + 25).map((a) => a.terminate())), 60_000, 'a group to terminate');
        }
        let live = liveAgentCount();
        for (let waited = 0; live > baseline && waited < 5000; waited += 20) {
          await new Promise((r) => setTimeout(r, 20));
          live = liveAgentCount();
        }
        ctx.assert(live === baseline, `liveAgentCount() ${live} after terminating all (baseline ${baseline})`);
      },
      { timeoutMs: 300_000, maxFailures: 2 },
    );
    result.stats = { agentsPerIteration: count, peakLive, peakRssGrowthMB: peakRss.toFixed(0), rssPerAgentKB: ((peakRss * 1024) / count).toFixed(0) };
    return result;
  },
};
