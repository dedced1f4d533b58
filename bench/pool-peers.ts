// The three pools bench/pool.ts compares, behind one tiny interface, each
// with its own copy of the same jobs (bench/pool-jobs/).
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import { AgentPool } from '../src/index.js';

export type PeerName = 'AgentPool' | 'piscina' | 'tinypool';
export const peerNames: readonly PeerName[] = ['AgentPool', 'piscina', 'tinypool'];

export interface RunOptions {
  name?: string;
  transferList?: ArrayBuffer[];
}

export interface BenchPool {
  run(task: unknown, options?: RunOptions): Promise<unknown>;
  destroy(): Promise<void>;
}

const jobs = (file: string) => new URL(`./pool-jobs/${file}`, import.meta.url);

/** A pool of exactly `threads` threads, all started at once. */
export function createPool(peer: PeerName, threads: number): BenchPool {
  switch (peer) {
    case 'AgentPool': {
      const pool = new AgentPool({ filename: jobs('agent.mjs'), minAgents: threads, maxAgents: threads, idleTimeout: 60_000 });
      return { run: (task, options) => pool.run(task, options), destroy: () => pool.destroy() };
    }
    case 'piscina': {
      const pool = new Piscina({ filename: jobs('piscina.mjs').href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
      return { run: (task, options) => pool.run(task, options), destroy: () => pool.destroy() };
    }
    case 'tinypool': {
      const pool = new Tinypool({ filename: jobs('tinypool.mjs').href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
      return { run: (task, options) => pool.run(task, options), destroy: () => pool.destroy() };
    }
  }
}

/** Resolves once `n` tasks run at the same time, i.e. n threads are up and running code. */
export async function rendezvous(pool: BenchPool, n: number): Promise<void> {
  const sab = new SharedArrayBuffer(4);
  await Promise.all(Array.from({ length: n }, () => pool.run({ sab, n }, { name: 'rendezvous' })));
}
