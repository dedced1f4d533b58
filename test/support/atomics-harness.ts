/**
 * Harness of test/atomics-*.test.ts: runs test code on real agents.
 *
 * - runAgents(n, fn, data): runs `fn(A, data, index)` on n agents at once
 *   (A = the agent's own `import * as A from 'agentcluster:atomics'`; a start
 *   gate releases all n together so they really overlap) and resolves their
 *   return values, in index order.
 * - startOnAgent(index, fn, data): the same on one agent, without a gate (for
 *   "the host waits on an agent" tests).
 * - `fn` is shipped as source text (String(fn)) and evaluated in the agent,
 *   so it must be self-contained: no closures over test-file variables, no
 *   imports. `data` goes by postMessage (structured clone): SharedArrayBuffers
 *   and typed arrays on them are shared; library objects arrive as
 *   `{ buffer, byteOffset }`, re-attach them with `A.Mutex.from(d.m)` etc.
 * - Agents are pooled per `canBlock` setting and reused across calls; on a
 *   failure or timeout every pooled agent is terminated (terminate works
 *   while an agent is blocked in Atomics.wait) and re-created on demand.
 *
 * Agents load dist/src/atomics/index.js (what `agentcluster:atomics` maps to),
 * so that build must be current: `npm test` builds it first; when running one
 * file by hand after editing src/atomics, run `npx tsc -p tsconfig.build.json`
 * (this module refuses to run against a stale build rather than test old code).
 */
import { after } from 'node:test';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent } from '../../src/index.js';

export type AtomicsModule = typeof import('../../src/atomics/index.js');

const srcDir = fileURLToPath(new URL('../../src/atomics/', import.meta.url));
/** The compiled library agents import as `agentcluster:atomics`. */
export const atomicsDistDir = fileURLToPath(new URL('../../dist/src/atomics/', import.meta.url));
/** file: URL of the compiled index.js (for child processes and vm contexts). */
export const atomicsIndexUrl = pathToFileURL(join(atomicsDistDir, 'index.js')).href;

function assertBuildIsCurrent(): void {
  const stale: string[] = [];
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts'))) {
    const out = join(atomicsDistDir, file.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(srcDir, file)).mtimeMs) stale.push(file);
  }
  if (stale.length > 0) {
    throw new Error(
      `dist/src/atomics is missing or older than src/atomics (${stale.join(', ')}): agents would import stale code. ` +
        'Run `npx tsc -p tsconfig.build.json` (npm test does it first).',
    );
  }
}
assertBuildIsCurrent();

const AGENT_SOURCE = `
import * as A from 'agentcluster:atomics';
globalThis.__name ??= (f) => f; // in case the test transpiler injected keepNames helpers
const cache = new Map();
const blocking = A.canBlock();
onmessage = async ({ data: { id, src, data, index, gate, n } }) => {
  try {
    let fn = cache.get(src);
    if (!fn) { fn = (0, eval)('(' + src + ')'); cache.set(src, fn); }
    if (gate) {
      // Start gate: all n agents begin together, so they really overlap.
      if (Atomics.add(gate, 0, 1) + 1 === n) Atomics.notify(gate, 0);
      for (let c; (c = Atomics.load(gate, 0)) < n; ) {
        if (blocking) Atomics.wait(gate, 0, c);
        else await Atomics.waitAsync(gate, 0, c).value;
      }
    }
    const value = await fn(A, data, index);
    postMessage({ id, ok: true, value });
  } catch (err) {
    postMessage({ id, ok: false, error: err && err.stack ? err.stack : String(err), code: err && err.code });
  }
};
`;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  code?: string;
}

interface Pending {
  agent: Agent;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface RunOptions {
  /**
   * [[CanBlock]] of the agents (default true): one value for all, or one per
   * index (runAgents) to mix blocking and `canBlock: false` agents.
   */
  canBlock?: boolean | readonly boolean[];
  /** Reject (and reset the pool) if the agents have not all answered by then. Default 20 s. */
  timeoutMs?: number;
}

const pools = new Map<boolean, Agent[]>();
let nextId = 1;
const pending = new Map<number, Pending>();

function failAgent(agent: Agent, error: Error): void {
  for (const [id, p] of pending) {
    if (p.agent !== agent) continue;
    pending.delete(id);
    p.reject(error);
  }
  for (const pool of pools.values()) {
    const i = pool.indexOf(agent);
    if (i >= 0) pool.splice(i, 1);
  }
}

function agentAt(canBlock: boolean, index: number): Agent {
  let pool = pools.get(canBlock);
  if (!pool) pools.set(canBlock, (pool = []));
  while (pool.length <= index) {
    const agent = new Agent({
      type: 'module',
      source: AGENT_SOURCE,
      canBlock,
      name: `atomics-test-${canBlock ? '' : 'noblock-'}${pool.length}`,
    });
    agent.on('message', (value) => {
      const r = value as Reply;
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(Object.assign(new Error(`agent task failed: ${r.error}`), { code: r.code }));
    });
    agent.on('error', (err) => failAgent(agent, err instanceof Error ? err : new Error(String(err))));
    agent.on('exit', (info) => failAgent(agent, new Error(`agent ${agent.name} exited (${info.reason})`)));
    pool.push(agent);
  }
  return pool[index]!;
}

/** Terminate every pooled agent (they are re-created on demand). */
export async function resetAgents(): Promise<void> {
  const all = [...pools.values()].flat();
  pools.clear();
  await Promise.all(all.map((a) => a.terminate()));
}

export type AgentFn<D, R> = (A: AtomicsModule, data: D, index: number) => R | Promise<R>;

function normalize(options: RunOptions | number | undefined): { canBlock: (index: number) => boolean; timeoutMs: number } {
  const o = typeof options === 'number' ? { timeoutMs: options } : (options ?? {});
  const cb = o.canBlock ?? true;
  return {
    canBlock: typeof cb === 'boolean' ? () => cb : (i) => cb[i % cb.length] ?? true,
    timeoutMs: o.timeoutMs ?? 20_000,
  };
}

function post<R>(agent: Agent, message: Record<string, unknown>): Promise<R> {
  const id = nextId++;
  return new Promise<R>((resolve, reject) => {
    pending.set(id, { agent, resolve: resolve as (v: unknown) => void, reject });
    try {
      agent.postMessage({ id, ...message });
    } catch (err) {
      pending.delete(id);
      reject(err as Error);
    }
  });
}

async function withDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${timeoutMs} ms (deadlock or lost wake-up?)`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    await resetAgents(); // a blocked or failed agent cannot be reused
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `fn` on `n` agents concurrently, each with (module, data, index).
 * Rejects (and resets the pool) if any agent fails or the timeout elapses.
 */
export function runAgents<D, R>(n: number, fn: AgentFn<D, R>, data: D, options?: RunOptions | number): Promise<R[]> {
  const { canBlock, timeoutMs } = normalize(options);
  const src = String(fn);
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const runs: Promise<R>[] = [];
  for (let i = 0; i < n; i++) runs.push(post<R>(agentAt(canBlock(i), i), { src, data, index: i, gate, n }));
  return withDeadline(Promise.all(runs), timeoutMs, `runAgents(${n})`);
}

/** Start `fn` on pooled agent `index` without a start gate. */
export function startOnAgent<D, R>(index: number, fn: AgentFn<D, R>, data: D, options?: RunOptions | number): Promise<R> {
  const { canBlock, timeoutMs } = normalize(options);
  return withDeadline(post<R>(agentAt(canBlock(index), index), { src: String(fn), data, index }), timeoutMs, 'startOnAgent');
}

/** Round-trip a value through an agent's postMessage (structured clone both ways). */
export function echoThroughAgent<T>(value: T): Promise<T> {
  return startOnAgent(0, (_A, v: T) => v, value);
}

const spawned = new Set<Agent>();

/**
 * A dedicated module agent (not pooled) for tests that need the Agent handle
 * itself (interrupt, atomicsStats, terminate). Its globals: `A` (the
 * agentcluster:atomics namespace) and `d` (the `data` option, cloned in).
 * Terminated after the test file at the latest.
 */
export async function spawnAtomicsAgent(options: { canBlock?: boolean; data?: unknown; name?: string } = {}): Promise<Agent> {
  const agent = new Agent({
    type: 'module',
    source: "import * as A from 'agentcluster:atomics'; globalThis.A = A; globalThis.d = globalThis.agentData;",
    canBlock: options.canBlock ?? true,
    name: options.name ?? 'atomics-test-dedicated',
    data: options.data,
  });
  spawned.add(agent);
  void agent.exited.then(() => spawned.delete(agent));
  await agent.ready;
  return agent;
}

/**
 * Evaluate `fn(A, d, ...args)` in a spawnAtomicsAgent() agent and resolve its
 * (awaited) result. `fn` is shipped as source text (self-contained) and
 * `args` as JSON.
 */
export function evalIn<R>(agent: Agent, fn: (A: AtomicsModule, d: any, ...args: any[]) => R | Promise<R>, ...args: unknown[]): Promise<R> {
  return agent.evaluate<R>(`(${String(fn)})(A, d, ...${JSON.stringify(args)})`);
}

after(async () => {
  await Promise.all([resetAgents(), ...[...spawned].map((a) => a.terminate())]);
});
