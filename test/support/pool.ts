// Pool helpers of the test/pool-*.test.ts files (defines no tests); waiting helpers are in waits.ts.
import { AgentPool, type AgentPoolOptions } from '../../src/index.js';

export const jobs = new URL('../pool-fixtures/jobs.mjs', import.meta.url);

export function makePool(options: Partial<AgentPoolOptions> = {}): AgentPool {
  return new AgentPool({ filename: jobs, minAgents: 1, maxAgents: 2, ...options } as AgentPoolOptions);
}

/** A gate for the `block` job: slot 1 counts blocked tasks, release() lets them all go. */
export class Gate {
  readonly sab = new SharedArrayBuffer(8);
  readonly #view = new Int32Array(this.sab);

  get started(): number {
    return Atomics.load(this.#view, 1);
  }

  release(): void {
    Atomics.store(this.#view, 0, 1);
    Atomics.notify(this.#view, 0);
  }
}

/** A shared log for the `record` job. */
export class Log {
  readonly sab = new SharedArrayBuffer(4 * 1024);
  readonly #view = new Int32Array(this.sab);

  get values(): number[] {
    return Array.from(this.#view.subarray(1, 1 + Atomics.load(this.#view, 0)));
  }
}
