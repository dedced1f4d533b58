// Host side of a linearizability test: fast-check generates each agent's
// operations, the agents run them on the user's concurrent object with
// stamps from one shared clock, and the recorded history is checked against
// the sequential model. A failing history shrinks through fast-check (each
// candidate is run again for real, so shrinking is best-effort: a race that
// does not recur leaves the last failing history as the answer).
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { Agent } from '../agent/agent.js';
import type { LinearizableTest } from './define.js';
import { C_ARRIVED, C_CLOCK, C_PER_AGENT, controlWords, deriveSeed } from './control.js';
import { agentEntry } from './litmus-runner.js';
import { checkLinearizable, describeHistory, type HistoryOperation } from './linearizability.js';
import { ProgressWatchdog } from './watchdog.js';

export interface LinearizableOptions {
  seed: number;
  /** Histories to generate and check (default 100, unless durationMs is given). */
  histories?: number;
  /** Generate histories for this long (ms) instead of a count. */
  durationMs?: number;
  /** Agents running operations concurrently (default: the cores, 2 to 4). */
  agents?: number;
  /** Overrides the test's own `perturb`. */
  perturb?: boolean;
  /** Re-runs spent shrinking a failure (default 100). */
  maxShrinkRuns?: number;
}

export interface LinearizabilityReport {
  kind: 'linearizability';
  id: string;
  file: string;
  name: string;
  grade: 'ok' | 'not-linearizable' | 'stuck' | 'error';
  seed: number;
  agents: number;
  histories: number;
  operations: number;
  elapsedMs: number;
  /** Which generated history failed first (0-based), before shrinking. */
  failingRun?: number;
  /** The readable minimal failing (sub-)history, or where it got stuck. */
  counterexample?: string;
  error?: string;
}

type Outcome =
  | { kind: 'done'; history: HistoryOperation[] }
  | { kind: 'stuck'; history: HistoryOperation[]; idleMs: number }
  | { kind: 'error'; message: string };

/** N long-lived agents that each run one list of operations per history. */
class Crew {
  readonly control: SharedArrayBuffer;
  readonly stamps: SharedArrayBuffer;
  #agents: Agent[] = [];
  #waiting = new Map<number, (message: Record<string, unknown>) => void>();
  #runId = 0;
  /** Longest pause between completed operations so far, over all histories (the stuck watchdog scales with it). */
  #longestGap = 0;

  constructor(
    private readonly file: string,
    private readonly id: string,
    private readonly test: LinearizableTest,
    readonly size: number,
    readonly maxOps: number,
  ) {
    this.control = new SharedArrayBuffer(4 * controlWords(size));
    this.stamps = new SharedArrayBuffer(4 * size * maxOps * 2);
  }

  /** Starts the agents (again, after a stuck run); resolves once each is listening. */
  async start(): Promise<void> {
    await this.stop();
    const ready: Array<Promise<void>> = [];
    for (let k = 0; k < this.size; k++) {
      const agent = new Agent({
        type: 'module',
        source: agentEntry(this.file, 'runLinearizableWorker'),
        filename: join(dirname(this.file), `[stress ${this.id} agent ${k}]`),
        name: `${this.test.name} / agent ${k}`,
        data: { testId: this.id, agentIndex: k, agents: this.size, control: this.control, history: this.stamps, maxOps: this.maxOps },
      });
      ready.push(
        new Promise((resolve, reject) => {
          agent.on('message', (message: Record<string, unknown>) => {
            if (message.ready === true) resolve();
            else this.#waiting.get(k)?.(message);
          });
          agent.on('error', (error: unknown) => {
            reject(error);
            this.#waiting.get(k)?.({ error: `agent ${k}: ${(error as Error).message}` });
          });
        }),
      );
      this.#agents.push(agent);
    }
    await Promise.all(ready);
  }

  async stop(): Promise<void> {
    const agents = this.#agents;
    this.#agents = [];
    await Promise.all(agents.map((a) => a.terminate().catch(() => undefined)));
  }

  /** One history: every agent runs its list; stuck when no op completes for far longer than usual. */
  async run(lists: unknown[][], seed: number, perturb: boolean): Promise<Outcome> {
    const ctl = new Int32Array(this.control);
    ctl.fill(0);
    new Int32Array(this.stamps).fill(0);
    const runId = ++this.#runId;
    const shared = this.test.setup();
    const answers = new Map<number, Record<string, unknown>>();
    let settle!: () => void;
    const allAnswered = new Promise<void>((r) => (settle = r));
    for (let k = 0; k < this.size; k++) {
      this.#waiting.set(k, (message) => {
        if (message.runId !== runId && message.error === undefined) return;
        answers.set(k, message);
        if (answers.size === this.size || message.error !== undefined) settle();
      });
      this.#agents[k]!.postMessage({ runId, shared, ops: lists[k], seed: deriveSeed(seed, k), perturb });
    }
    const progress = () => {
      let sum = Atomics.load(ctl, C_ARRIVED);
      for (let k = 0; k < this.size; k++) sum += Atomics.load(ctl, C_PER_AGENT + 2 * k + 1);
      return sum;
    };
    const watchdog = new ProgressWatchdog(progress, 100, 1000, this.#longestGap);
    let idleMs: number | undefined;
    const poll = setInterval(() => {
      idleMs = watchdog.check();
      if (idleMs !== undefined) settle();
    }, 20);
    await allAnswered;
    clearInterval(poll);
    this.#longestGap = Math.max(this.#longestGap, watchdog.longestGap);
    const failed = [...answers.values()].find((m) => m.error !== undefined);
    if (failed) return { kind: 'error', message: String(failed.error) };
    const stamps = new Int32Array(this.stamps);
    const history: HistoryOperation[] = [];
    for (let k = 0; k < this.size; k++) {
      const results = answers.get(k)?.results as unknown[] | undefined;
      const list = lists[k]!;
      for (let i = 0; i < list.length; i++) {
        const invoke = Atomics.load(stamps, k * this.maxOps * 2 + 2 * i);
        const response = Atomics.load(stamps, k * this.maxOps * 2 + 2 * i + 1);
        if (invoke === 0) break; // never invoked (its agent is stuck earlier)
        history.push(response === 0 || results === undefined
          ? { agent: k, op: list[i], invoke }
          : { agent: k, op: list[i], invoke, response, result: results[i] });
      }
    }
    if (idleMs !== undefined && answers.size < this.size) {
      await this.start(); // a stuck agent may never return: replace the crew
      return { kind: 'stuck', history, idleMs };
    }
    return { kind: 'done', history };
  }
}

function describeStuck(test: LinearizableTest, history: HistoryOperation[], idleMs: number): string {
  const pending = history.filter((o) => o.response === undefined);
  const lines = pending.map((o) => `agent ${o.agent} never returned from ${(test.model.describe ?? JSON.stringify)(o.op as never)} (invoked at stamp ${o.invoke})`);
  return `stuck: no operation completed for ${idleMs} ms\n${lines.join('\n') || '(an agent did not reach its first operation)'}\n` +
    `the history up to then:\n${describeHistory([...history].sort((a, b) => a.invoke - b.invoke), test.model)}`;
}

export async function runLinearizable(file: string, id: string, test: LinearizableTest, options: LinearizableOptions): Promise<LinearizabilityReport> {
  // As many agents as cores (2 to 4): more agents than cores mostly take turns instead of overlapping.
  const agents = options.agents ?? Math.min(4, Math.max(2, availableParallelism()));
  const opsPerAgent = test.opsPerAgent ?? 30;
  const perturb = options.perturb ?? test.perturb ?? true;
  const maxShrinkRuns = options.maxShrinkRuns ?? 100;
  const report: LinearizabilityReport = {
    kind: 'linearizability', id, file, name: test.name, grade: 'ok', seed: options.seed, agents, histories: 0, operations: 0, elapsedMs: 0,
  };
  const crew = new Crew(file, id, test, agents, opsPerAgent);
  const started = Date.now();
  let failure: { grade: LinearizabilityReport['grade']; text: string } | undefined;
  let runsAfterFailure = 0;
  try {
    await crew.start();
    const perAgent = () => fc.array(test.operation as fc.Arbitrary<unknown>, { minLength: 1, maxLength: opsPerAgent });
    const lists = test.operationLists
      ? (test.operationLists(agents) as fc.Arbitrary<unknown[][]>)
      : fc.tuple(...Array.from({ length: agents }, perAgent));
    const property = fc.asyncProperty(lists, async (lists) => {
      if (lists.length !== agents || lists.some((l) => !Array.isArray(l) || l.length > opsPerAgent)) {
        throw new Error(`operationLists(${agents}) must give ${agents} lists of at most opsPerAgent (${opsPerAgent}) operations`);
      }
      if (failure !== undefined && (failure.grade !== 'not-linearizable' || ++runsAfterFailure > maxShrinkRuns)) return true;
      const run = report.histories++;
      const outcome = await crew.run(lists, deriveSeed(options.seed, id, run), perturb);
      if (outcome.kind === 'error') {
        failure = { grade: 'error', text: outcome.message };
        return false;
      }
      report.operations += outcome.history.length;
      if (outcome.kind === 'stuck') {
        failure = { grade: 'stuck', text: describeStuck(test, outcome.history, outcome.idleMs) };
        report.failingRun ??= run;
        return false;
      }
      const check = checkLinearizable(outcome.history, test.model, test.partition ? { partition: test.partition } : {});
      if (check.ok) return true;
      if (check.inconclusive) {
        failure = { grade: 'error', text: check.explanation! };
        return false;
      }
      report.failingRun ??= run;
      failure = { grade: 'not-linearizable', text: check.explanation! };
      return false;
    });
    const histories = options.histories ?? (options.durationMs === undefined ? 100 : 2 ** 31 - 1);
    const checked = await fc.check(property, {
      seed: options.seed | 0,
      numRuns: histories,
      ...(options.durationMs !== undefined ? { interruptAfterTimeLimit: options.durationMs } : {}),
    });
    if (checked.failed && failure === undefined) {
      const cause = checked.errorInstance;
      failure = { grade: 'error', text: cause instanceof Error ? cause.message : String(cause ?? 'the property failed') };
    }
  } catch (error) {
    failure ??= { grade: 'error', text: error instanceof Error ? error.message : String(error) };
  } finally {
    await crew.stop();
  }
  report.elapsedMs = Date.now() - started;
  if (failure) {
    report.grade = failure.grade;
    if (failure.grade === 'error') report.error = failure.text;
    else report.counterexample = failure.text;
  }
  return report;
}
