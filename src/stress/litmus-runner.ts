// Host side of a litmus test: lays out the per-iteration state in one
// SharedArrayBuffer, starts one agent per actor, watches progress, and turns
// agent 0's tally into a graded report.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from '../agent/agent.js';
import type { Grade, LitmusTest } from './define.js';
import {
  agentLoopUrl, C_BAD_INDEX, C_BAD_ROUND, C_HOST_STOP, C_PER_AGENT, C_ROUNDS, controlWords, deriveSeed,
} from './control.js';
import { checkLitmusMemory, litmusLayout } from './litmus-layout.js';
import { ProgressWatchdog } from './watchdog.js';

export interface LitmusOptions {
  /** Seed for the perturbation choices (start skew, point()). */
  seed: number;
  /** Stop after about this many iterations (rounded up to whole batches). */
  iterations?: number;
  /** Stop after this many ms (default 1000 when iterations is not given). */
  durationMs?: number;
  /** Iterations per batch (default 1024). */
  batch?: number;
  /** Overrides the test's own `perturb`. */
  perturb?: boolean;
  /** End the run early once an outcome of one of these grades is seen (the rest of that batch is still counted). */
  stopOn?: Grade[];
}

export interface OutcomeCount {
  outcome: string;
  count: number;
  grade: Grade;
}

export interface LitmusReport {
  kind: 'litmus';
  id: string;
  file: string;
  name: string;
  /** ok, interesting (an interesting outcome seen), forbidden, or error / stuck (the run failed). */
  grade: Grade | 'error' | 'stuck';
  seed: number;
  iterations: number;
  elapsedMs: number;
  iterationsPerSecond: number;
  /** Result fields in outcome-key order. */
  fields: string[];
  outcomes: OutcomeCount[];
  firstForbidden?: { outcome: string; iteration: number; seed: number };
  error?: string;
  /** With `error`: the stable code the failure carried, e.g. ERR_STRESS_TOO_MANY_RESULTS. */
  code?: string;
}

export function gradeOf(test: LitmusTest, outcome: string): Grade {
  const grade = Object.hasOwn(test.outcomes, outcome) ? test.outcomes[outcome] : undefined;
  return grade === 'ok' || grade === 'interesting' ? grade : 'forbidden';
}

/** The entry module of a stress agent: the user's file and our loop, both imported statically so the host sees the graph. */
export function agentEntry(file: string, exportName: string): string {
  return `import * as testModule from ${JSON.stringify(pathToFileURL(file).href)};
import { ${exportName} } from ${JSON.stringify(agentLoopUrl.href)};
setTimeout(() => ${exportName}(testModule, agentData), 0);
`;
}

export async function runLitmus(file: string, id: string, test: LitmusTest, options: LitmusOptions): Promise<LitmusReport> {
  const batch = options.batch ?? 1024;
  const actors = test.actors.length;
  const iterations = options.iterations;
  const durationMs = options.durationMs ?? (iterations === undefined ? 1000 : Infinity);
  const maxRounds = iterations === undefined ? 2 ** 31 - 1 : Math.max(1, Math.ceil(iterations / batch));
  const layout = litmusLayout(test);
  const { fields, stride, resultWidth } = layout;
  checkLitmusMemory(test.name, layout, batch); // before allocating: a huge batch is a clear error, not gigabytes
  const control = new SharedArrayBuffer(4 * controlWords(actors));
  const ctl = new Int32Array(control);
  Atomics.store(ctl, C_BAD_ROUND, -1);
  const state = new SharedArrayBuffer(Math.max(8, stride * batch));
  const results = new SharedArrayBuffer(8 * (actors + 1) * batch * resultWidth);
  const resultKinds = new SharedArrayBuffer((actors + 1) * batch * resultWidth);
  const perturb = options.perturb ?? test.perturb ?? false;
  const names: string[][] = Array.from({ length: actors + 1 }, () => []);
  const report: LitmusReport = {
    kind: 'litmus', id, file, name: test.name, grade: 'ok', seed: options.seed, iterations: 0, elapsedMs: 0,
    iterationsPerSecond: 0, fields: [], outcomes: [],
  };
  const agents: Agent[] = [];
  let firstForbidden: string | undefined;
  type Outcome = { histogram: Array<[string, number]>; elapsedMs: number } | { error: string; code?: string };
  let finish!: (value: Outcome) => void;
  const finished = new Promise<Outcome>((r) => (finish = r));
  try {
    for (let k = 0; k < actors; k++) {
      const agent = new Agent({
        type: 'module',
        source: agentEntry(file, 'runLitmusActor'),
        filename: join(dirname(file), `[stress ${id} actor ${k}]`),
        name: `${test.name} / actor ${k}`,
        data: {
          testId: id, agentIndex: k, actors, batch, maxRounds, control, state, results, resultKinds, resultWidth, fields, stride, perturb, stopOn: options.stopOn ?? [],
          seed: deriveSeed(options.seed, id, k),
        },
      });
      agent.on('message', (message: Record<string, unknown>) => {
        if (Array.isArray(message.names)) names[k] = message.names as string[];
        if (Array.isArray(message.arbiterNames)) names[actors] = message.arbiterNames as string[];
        if (typeof message.firstForbidden === 'string') firstForbidden = message.firstForbidden;
        if (message.done === true) finish(message as { histogram: Array<[string, number]>; elapsedMs: number });
      });
      agent.on('error', (error: unknown) => {
        const code = (error as { code?: unknown })?.code;
        finish({ error: `actor ${k}: ${(error as Error).message}`, ...(typeof code === 'string' ? { code } : {}) });
      });
      agent.on('exit', ({ reason }) => {
        if (reason !== 'terminated') finish({ error: `actor ${k} exited (${reason}) before the run ended` });
      });
      agents.push(agent);
    }
    const started = Date.now();
    const watchdog = new ProgressWatchdog(() => {
      let sum = Atomics.load(ctl, C_ROUNDS);
      for (let k = 0; k < actors; k++) sum += Atomics.load(ctl, C_PER_AGENT + 2 * k + 1);
      return sum;
    });
    const poll = setInterval(() => {
      if (Date.now() - started >= durationMs) Atomics.store(ctl, C_HOST_STOP, 1);
      const stuck = watchdog.check();
      if (stuck !== undefined) {
        const where = Array.from({ length: actors }, (_, k) => `actor ${k}: ${Atomics.load(ctl, C_PER_AGENT + 2 * k + 1)} batches`).join(', ');
        finish({ error: `stuck: no progress for ${stuck} ms (${where}; an actor that waits for another may never be woken)` });
      }
    }, 20);
    const outcome = await finished;
    clearInterval(poll);
    if ('error' in outcome) {
      report.grade = outcome.error.startsWith('stuck') ? 'stuck' : 'error';
      report.error = outcome.error;
      if (outcome.code !== undefined) report.code = outcome.code;
      report.iterations = Atomics.load(ctl, C_ROUNDS) * batch;
      return report;
    }
    report.fields = names.flat();
    report.outcomes = outcome.histogram
      .map(([key, count]) => ({ outcome: key, count, grade: gradeOf(test, key) }))
      .sort((a, b) => b.count - a.count);
    report.iterations = report.outcomes.reduce((sum, o) => sum + o.count, 0);
    report.elapsedMs = outcome.elapsedMs;
    report.iterationsPerSecond = outcome.elapsedMs > 0 ? Math.round((report.iterations * 1000) / outcome.elapsedMs) : 0;
    const grades = new Set(report.outcomes.map((o) => o.grade));
    report.grade = grades.has('forbidden') ? 'forbidden' : grades.has('interesting') ? 'interesting' : 'ok';
    const badRound = Atomics.load(ctl, C_BAD_ROUND);
    if (badRound >= 0) {
      report.firstForbidden = { outcome: firstForbidden ?? '?', iteration: badRound * batch + Atomics.load(ctl, C_BAD_INDEX), seed: options.seed };
    }
    return report;
  } finally {
    Atomics.store(ctl, C_HOST_STOP, 1);
    await Promise.all(agents.map((agent) => agent.terminate().catch(() => undefined)));
  }
}
