// Builds the StressContext a scenario runs with, and tears it down.
import { Agent, type AgentOptions } from '../../src/index.js';
import { deriveSeed, Rng } from './rng.js';
import { StressAssertion, type Failure, type StressContext } from './types.js';
import { within } from './util.js';

export interface ContextOptions {
  name: string;
  runSeed: number;
  budgetMs: number;
  quick: boolean;
  verbose: boolean;
}

export interface OwnedContext extends StressContext {
  /** Terminates every agent spawn() created that is still alive; resolves when they exited (or after `ms`). */
  terminateAll(ms?: number): Promise<number>;
  readonly liveTracked: number;
}

export function createContext(options: ContextOptions): OwnedContext {
  const seed = deriveSeed(options.runSeed, options.name);
  const failures: Failure[] = [];
  const tracked = new Set<Agent>();
  const ctx: OwnedContext = {
    seed,
    runSeed: options.runSeed,
    rng: new Rng(seed),
    deadline: Date.now() + options.budgetMs,
    budgetMs: options.budgetMs,
    quick: options.quick,
    failures,
    iteration: 0,
    log(...args: unknown[]) {
      if (options.verbose) console.log(`[${options.name}]`, ...args);
    },
    assert(condition: unknown, message: string): asserts condition {
      if (!condition) throw new StressAssertion(message);
    },
    check(condition: unknown, message: string): boolean {
      if (!condition) failures.push({ message, seed: options.runSeed, iteration: ctx.iteration });
      return Boolean(condition);
    },
    spawn(agentOptions: AgentOptions): Agent {
      const agent = new Agent(agentOptions);
      tracked.add(agent);
      agent.ready.catch(() => {});
      void agent.exited.then(() => tracked.delete(agent));
      return agent;
    },
    timeLeft() {
      return ctx.deadline - Date.now();
    },
    size(full: number, quick: number) {
      return options.quick ? quick : full;
    },
    async terminateAll(ms = 30_000) {
      const agents = [...tracked];
      await within(Promise.all(agents.map((agent) => agent.terminate())), ms, `${agents.length} agents to terminate`).catch(() => {});
      return tracked.size;
    },
    get liveTracked() {
      return tracked.size;
    },
  };
  return ctx;
}
