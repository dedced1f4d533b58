// The shape of a stress scenario and of what it reports.
import type { Agent, AgentOptions } from '../../src/index.js';
import type { Rng } from './rng.js';

export interface Failure {
  message: string;
  /** The run's --seed: `--seed <seed> --only <scenario>` replays the same random choices. */
  seed: number;
  /** The iteration that failed (iteration i's choices come from deriveSeed(seed, scenario, i)). */
  iteration: number;
}

export interface ScenarioResult {
  iterations: number;
  failures: Failure[];
  /** Failures in all, when more happened than were recorded one by one (see iterate()'s maxFailures). */
  failureCount?: number;
  /** Set when the scenario did not run (e.g. a feature it needs is missing); never a failure. */
  skipped?: string;
  /** Scenario-specific figures shown under the table (messages sent, RSS slope, ...). */
  stats?: Record<string, string | number>;
}

export interface StressContext {
  /** This scenario's seed (derived from the run seed and the scenario name). */
  readonly seed: number;
  /** The run's --seed, as given. */
  readonly runSeed: number;
  /** Scenario-level generator; iterations get their own (see iterate()). */
  readonly rng: Rng;
  /** Date.now() value by which the scenario should wrap up. */
  readonly deadline: number;
  /** Time given to this scenario, in ms. */
  readonly budgetMs: number;
  /** --quick: smaller fixed workloads (100k messages instead of 1M, ...). */
  readonly quick: boolean;
  /** Prints with the scenario's name (only with --verbose, except warnings). */
  log(...args: unknown[]): void;
  /** Throws a StressAssertion (iterate() turns it into a failure of the current iteration). */
  assert(condition: unknown, message: string): asserts condition;
  /** Records a failure without stopping the iteration. */
  check(condition: unknown, message: string): boolean;
  /** new Agent(options), tracked: the runner terminates whatever is left when the scenario ends. */
  spawn(options: AgentOptions): Agent;
  /** ms until the deadline (negative once past it). */
  timeLeft(): number;
  /** `full` normally, `quick` with --quick. */
  size(full: number, quick: number): number;
  /** Where check() and iterate() put failures; the runner reads it. */
  readonly failures: Failure[];
  /** Set by iterate(): the iteration running now (stamped on failures). */
  iteration: number;
  /** Called by iterate() after each iteration (the runner saves progress, in case the process dies). */
  progress?: (iterations: number) => void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Share of the run's --duration this scenario gets, relative to the others (default 1). */
  readonly weight?: number;
  run(ctx: StressContext): Promise<ScenarioResult>;
}

export class StressAssertion extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StressAssertion';
  }
}
