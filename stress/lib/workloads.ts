// Agents caught in the middle of something: the states teardown scenarios
// terminate (or exit the process) from. Each start*() returns the agent and
// a promise that resolves once it is "in" the state.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agent, AgentOptions } from '../../src/index.js';
import type { Rng } from './rng.js';
import { nextMessage } from './util.js';

export type Spawn = (options: AgentOptions) => Agent;

export const WORKLOADS = ['wait', 'waitAsync', 'storm', 'clone-in', 'clone-out', 'modules', 'oom', 'spin', 'evaluate-spin', 'idle', 'timers'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface Started {
  agent: Agent;
  workload: Workload;
  /** Resolves once the agent is in the state (rejects if it died first). */
  inState: Promise<void>;
  /** Exit reasons that are right for this workload when terminated. */
  reasons: readonly string[];
  /** For 'storm': the values received so far, in order. */
  received?: number[];
  /** For 'clone-*' and 'evaluate-spin': the pending evaluate/graph promise. */
  pending?: Promise<unknown>;
}

let moduleDir: string | undefined;

/** A folder of modules: entry.mjs imports a chain of `depth` modules, some with top-level await, one large. */
export function moduleTree(depth = 40): string {
  if (moduleDir !== undefined) return moduleDir;
  moduleDir = mkdtempSync(join(tmpdir(), 'agentcluster-stress-modules-'));
  const dir = moduleDir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < depth; i++) {
    const next = i + 1 < depth ? `import { value as nextValue } from './m${i + 1}.mjs';\n` : 'const nextValue = 0;\n';
    const tla = i % 7 === 3 ? 'await new Promise((resolve) => setTimeout(resolve, 1));\n' : '';
    const bulk = i === Math.floor(depth / 2) ? `export const table = [${Array.from({ length: 20000 }, (_, k) => `{ k: ${k}, s: 's${k}' }`).join(',')}];\n` : '';
    writeFileSync(join(dir, `m${i}.mjs`), `${next}${tla}${bulk}export const value = nextValue + ${i};\n`);
  }
  writeFileSync(join(dir, 'entry.mjs'), `import { value } from './m0.mjs';\npostMessage({ loaded: value });\n`);
  return dir;
}

/** A graph of `nodes` objects with shared references and cycles. */
export function largeGraph(nodes: number, rng: Rng): unknown {
  const all: { id: number; next?: unknown; peer?: unknown; tags: string[]; n: number[] }[] = [];
  for (let i = 0; i < nodes; i++) all.push({ id: i, tags: [`t${i % 17}`], n: [i, i * 2] });
  // Links point backwards (and the array comes first), so the serializer's recursion stays shallow.
  for (let i = 0; i < nodes; i++) {
    all[i]!.next = all[i === 0 ? 0 : i - 1]; // node 0 points to itself: a cycle
    if (rng.chance(0.2)) all[i]!.peer = all[rng.int(0, Math.max(0, i - 1))];
  }
  return { all, root: all[0], map: new Map(all.slice(0, 1000).map((o) => [o.id, o])) };
}

const GRAPH_SOURCE = `
function graph(n) {
  const all = [];
  for (let i = 0; i < n; i++) all.push({ id: i, tags: ['t' + (i % 17)], n: [i, i * 2] });
  for (let i = 0; i < n; i++) all[i].next = all[i === 0 ? 0 : i - 1];
  return { all, root: all[0] };
}`;

const onlyGo = (v: unknown) => v === 'go';

export function startWorkload(spawn: Spawn, workload: Workload, rng: Rng, name: string): Started {
  switch (workload) {
    case 'wait': {
      const agent = spawn({ name, source: `postMessage('go'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); postMessage('woke?');` });
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'] };
    }
    case 'waitAsync': {
      const agent = spawn({
        name,
        canBlock: rng.chance(0.5),
        source: `const ia = new Int32Array(new SharedArrayBuffer(4));
          for (let i = 0; i < 8; i++) Atomics.waitAsync(ia, 0, 0, i % 2 ? Infinity : 60000).value.then(() => postMessage('woke?'));
          postMessage('go');`,
      });
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'] };
    }
    case 'storm': {
      const agent = spawn({
        name,
        // Bounded (100k, 1000 per turn): an unbounded producer only measures how fast the host's queue grows.
        source: `let n = 0; onmessage = (e) => { if (e.data === 'start') { postMessage('go'); const pump = () => { for (let i = 0; i < 1000; i++) postMessage(n++); if (n < 100000) setTimeout(pump, 0); }; pump(); } };`,
      });
      const received: number[] = [];
      agent.on('message', (v) => {
        if (typeof v === 'number') received.push(v);
      });
      const inState = agent.ready.then(() => {
        const go = nextMessage(agent, 20_000, onlyGo);
        go.catch(() => {});
        agent.postMessage('start');
        // And a storm the other way.
        for (let i = 0; i < 2000; i++) agent.postMessage(i);
        return go.then(() => {});
      });
      return { agent, workload, inState, reasons: ['terminated'], received };
    }
    case 'clone-in': {
      const agent = spawn({ name, source: `onmessage = (e) => { if (e.data === 'ping') postMessage('go'); };` });
      const graph = largeGraph(rng.int(20_000, 80_000), rng);
      const inState = agent.ready.then(() => {
        const go = nextMessage(agent, 20_000, onlyGo);
        go.catch(() => {});
        agent.postMessage('ping');
        return go.then(() => {
          // The terminate comes right after this post (or during its delivery).
          agent.postMessage(graph);
        });
      });
      return { agent, workload, inState, reasons: ['terminated'] };
    }
    case 'clone-out': {
      const nodes = rng.int(20_000, 80_000);
      const agent = spawn({ name, source: `${GRAPH_SOURCE}\npostMessage('go'); for (let i = 0; i < 4; i++) postMessage(graph(${nodes}));` });
      const pending = agent.ready.then(() => agent.evaluate(`graph(${nodes}).all.length`));
      pending.catch(() => {});
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'], pending };
    }
    case 'modules': {
      const dir = moduleTree();
      const agent = spawn({ name, file: pathToFileURL(join(dir, 'entry.mjs')) });
      // "In state" at once: loading is under way.
      return { agent, workload, inState: Promise.resolve(), reasons: ['terminated', 'closed'] };
    }
    case 'oom': {
      const agent = spawn({
        name,
        resourceLimits: { maxHeapMB: rng.int(8, 32) },
        source: `postMessage('go'); const keep = []; for (let i = 0; ; i++) keep.push({ i, s: 'x'.repeat(i % 64), a: [i, i] });`,
      });
      agent.on('error', () => {});
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated', 'out-of-memory'] };
    }
    case 'spin': {
      const agent = spawn({ name, source: `postMessage('go'); for (;;) {}` });
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'] };
    }
    case 'evaluate-spin': {
      const agent = spawn({ name, source: `` });
      const pending = agent.ready.then(() => agent.evaluate(`postMessage('go'); for (;;) {}`));
      pending.catch(() => {});
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'], pending };
    }
    case 'idle': {
      const agent = spawn({ name, source: `onmessage = (e) => postMessage(e.data);` });
      return { agent, workload, inState: agent.ready, reasons: ['terminated'] };
    }
    case 'timers': {
      const agent = spawn({
        name,
        source: `setInterval(() => { const a = []; for (let i = 0; i < 1000; i++) a.push({ i }); }, 1); queueMicrotask(() => postMessage('go'));`,
      });
      return { agent, workload, inState: nextMessage(agent, 20_000, onlyGo).then(() => {}), reasons: ['terminated'] };
    }
  }
}
