// OOM storm: 200 agents in a row (40 with --quick), each exceeding its
// maxHeapMB a different way — object arrays, flat strings, Maps, closures,
// growing double arrays, promise chains, timers, a message handler, an
// evaluate() call, module top-level code, JSON.parse, and by hoarding the
// host's messages. Checked: each one ends with reason 'out-of-memory',
// `failure.outOfMemory`, an ERR_AGENT_OUT_OF_MEMORY 'error'; the process
// carries on (a control agent keeps answering); RSS comes back near its
// baseline afterwards (within 30 s: V8 13+ frees pooled pages late).
import type { Agent } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import { enforceMemoryBounds, rssBackUnder, settledRssMB } from '../lib/memory.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { describeError, errorCode, within } from '../lib/util.js';

const WAYS = ['objects', 'strings', 'map', 'closures', 'doubles', 'promises', 'timer', 'on-message', 'evaluate', 'module', 'json', 'hoard-messages'] as const;
type Way = (typeof WAYS)[number];

const sources: Record<Way, string> = {
  objects: `const keep = []; for (let i = 0; ; i++) keep.push({ i, a: [i, i + 1], s: 'k' + i });`,
  strings: `const keep = []; for (let i = 0; ; i++) keep.push('x'.repeat(100000) + i);`,
  map: `const m = new Map(); for (let i = 0; ; i++) m.set('key' + i, { i });`,
  closures: `let f = null; for (let i = 0; ; i++) { const prev = f; const box = [i, i]; f = () => prev && box; }`,
  doubles: `const a = []; for (let i = 0; ; i++) a.push(i + 0.5);`,
  promises: `const keep = []; const step = () => { keep.push(new Array(2000).fill(keep.length)); Promise.resolve().then(step); }; step();`,
  timer: `const keep = []; setInterval(() => { for (let i = 0; i < 20000; i++) keep.push({ i }); }, 0);`,
  'on-message': `const keep = []; onmessage = () => { for (;;) keep.push([1, 2, 3]); };`,
  evaluate: `globalThis.keep = [];`,
  module: `const keep = []; await null; for (let i = 0; ; i++) keep.push({ i });`,
  json: `const keep = []; for (let n = 1e5; ; n *= 2) keep.push(JSON.parse('[' + '{"a":[1,2,3]},'.repeat(n) + '0]'));`,
  'hoard-messages': `const keep = []; onmessage = (e) => keep.push(e.data); postMessage('hoarding');`,
};

export const oomStorm: Scenario = {
  name: 'oom-storm',
  description: '200 agents in a row (40 with --quick) exceeding maxHeapMB in 12 different ways; the process survives, RSS returns near baseline',
  weight: 1.5,
  async run(ctx: StressContext) {
    const target = ctx.size(200, 40);
    const byWay: Record<string, number> = {};
    let baseline = 0;
    let peak = 0;
    let last = 0;
    let oomMs = 0;
    let ooms = 0;
    const control = ctx.spawn({ name: 'oom-control', source: 'onmessage = (e) => postMessage(e.data);' });
    await control.ready;

    const one = async (way: Way, heapMB: number, name: string): Promise<void> => {
      const started = Date.now();
      const agent: Agent = ctx.spawn({
        name,
        source: sources[way],
        ...(way === 'module' ? { type: 'module' as const } : {}),
        resourceLimits: { maxHeapMB: heapMB },
      });
      const errors: unknown[] = [];
      agent.on('error', (error) => errors.push(error));
      if (way === 'on-message') {
        await agent.ready.catch(() => {});
        try {
          agent.postMessage('go');
        } catch {
          // already gone: checked below
        }
      } else if (way === 'evaluate') {
        await agent.ready.catch(() => {});
        const result = await agent.evaluate('for (;;) keep.push({ a: [1, 2] });').then(
          () => 'resolved',
          (e: unknown) => errorCode(e) ?? describeError(e),
        );
        ctx.check(result === 'ERR_AGENT_OUT_OF_MEMORY', `${name}: evaluate() that ran out of memory settled with ${result}`);
      } else if (way === 'hoard-messages') {
        await agent.ready.catch(() => {});
        const chunk = Array.from({ length: 2000 }, (_, i) => ({ i, s: `m${i}` }));
        while (agent.state !== 'exited') {
          try {
            for (let k = 0; k < 20; k++) agent.postMessage(chunk);
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      const info = await within(agent.exited, 60_000, `${name} (${way}, ${heapMB} MB) to run out of memory`);
      oomMs += Date.now() - started;
      ooms++;
      ctx.check(info.reason === 'out-of-memory', `${name} (${way}, ${heapMB} MB): exit reason '${info.reason}'${agent.failure ? ` (${agent.failure.summary})` : ''}`);
      ctx.check(agent.failure?.outOfMemory === true, `${name} (${way}): failure.outOfMemory is ${agent.failure?.outOfMemory}`);
      ctx.check(errors.length === 1 && errorCode(errors[0]) === 'ERR_AGENT_OUT_OF_MEMORY', `${name} (${way}): 'error' events ${errors.map((e) => `${describeError(e)} (${errorCode(e)})`).join('; ') || 'none'}`);
    };

    // Warm-up (allocator arenas, code caches), then the baseline.
    for (let i = 0; i < 3; i++) await one(WAYS[i]!, 16, `oom-warmup-${i}`);
    baseline = await settledRssMB();

    const result = await iterate(
      ctx,
      async ({ rng, index }) => {
        // Two at a time: still "in a row", and the storm takes half as long.
        const pair = [0, 1].map((k) => {
          const way = rng.pick(WAYS);
          byWay[way] = (byWay[way] ?? 0) + 1;
          return one(way, rng.int(8, 48), `oom-${index * 2 + k}`);
        });
        await Promise.all(pair);
        // The process and the other agents carry on.
        const reply = new Promise((resolve) => control.once('message', resolve));
        control.postMessage(index);
        ctx.assert((await within(reply, 10_000, 'the control agent to answer')) === index, 'the control agent answered wrong');
        if (index % 10 === 9) peak = Math.max(peak, await settledRssMB(10));
      },
      { min: Math.ceil(target / 2), timeoutMs: 120_000, maxFailures: 3 },
    );
    await control.terminate();
    const bound = 128;
    // Up to 30 s: V8 13+ frees the pages of disposed isolates from its shared pool on a delayed task.
    const back = await rssBackUnder(baseline + bound, 30_000);
    last = back.rssMB;
    if (last - baseline > bound && enforceMemoryBounds()) {
      result.failures.push({ message: `RSS ${last.toFixed(0)} MB after the storm vs ${baseline.toFixed(0)} MB before (bound +${bound} MB)`, seed: ctx.runSeed, iteration: -1 });
    }
    result.stats = {
      agents: ooms,
      avgMsPerOom: ooms ? Math.round(oomMs / ooms) : 0,
      rssBaselineMB: baseline.toFixed(0),
      rssPeakMB: peak.toFixed(0),
      rssAfterMB: last.toFixed(0),
      rssWaitMs: back.waitedMs,
      ...Object.fromEntries(Object.entries(byWay).map(([k, v]) => [`n_${k}`, v])),
    };
    return result;
  },
};
