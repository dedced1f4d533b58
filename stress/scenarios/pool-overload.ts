// A pool under sustained overload with cancellation: tasks are submitted
// faster than the agents finish them, for a while; some are aborted (queued
// or running, even spinning forever), some time out, some throw, some have a
// priority; the queue may be bounded. Checked: every task settles, with the
// right value or with the error its fate calls for; the pool's counters add
// up; close() or destroy() ends it and no agent is left.
import { liveAgentCount } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, ScenarioResult, StressContext } from '../lib/types.js';
import { delay, describeError, errorCode, within } from '../lib/util.js';

const JOB = `
export default async function (task) {
  if (task.kind === 'spin') { for (;;) {} }
  if (task.kind === 'throw') throw new RangeError('job failed ' + task.id);
  const until = performance.now() + task.ms;
  while (performance.now() < until) {}
  if (task.kind === 'async') await new Promise((resolve) => setTimeout(resolve, task.ms));
  return task.id * 2;
}
`;

type Fate = 'plain' | 'async' | 'throw' | 'abort-soon' | 'abort-later' | 'timeout' | 'spin-abort' | 'spin-timeout';

export const poolOverload: Scenario = {
  name: 'pool-overload',
  description: 'AgentPool fed faster than it drains, with aborts, timeouts, throwing and spinning jobs, priorities; everything settles',
  async run(ctx: StressContext): Promise<ScenarioResult> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import('../../src/index.js')) as Record<string, unknown>;
    } catch (error) {
      return { iterations: 0, failures: [], skipped: `AgentPool not available (${describeError(error)})` };
    }
    if (typeof mod.AgentPool !== 'function') return { iterations: 0, failures: [], skipped: 'AgentPool not available' };
    type Pool = {
      run(task: unknown, options?: { signal?: AbortSignal; timeout?: number; priority?: number }): Promise<unknown>;
      close(): Promise<void>;
      destroy(): Promise<void>;
      readonly stats: { completed: number; failed: number; cancelled: number; queued: number; running: number };
      on(event: 'error', listener: (error: unknown) => void): unknown;
    };
    const AgentPool = mod.AgentPool as new (options: Record<string, unknown>) => Pool;
    const totals = { submitted: 0, resolved: 0, aborted: 0, timedOut: 0, threw: 0, queueFull: 0, destroyed: 0 };
    const baseline = liveAgentCount();
    const result = await iterate(
      ctx,
      async ({ rng }) => {
        const maxAgents = rng.int(1, 4);
        const maxQueue = rng.chance(0.3) ? rng.int(4, 64) : undefined;
        const pool = new AgentPool({ source: JOB, minAgents: rng.int(0, maxAgents), maxAgents, idleTimeout: rng.int(10, 500), ...(maxQueue ? { maxQueue } : {}) });
        pool.on('error', (error) => ctx.check(false, `pool 'error' event: ${describeError(error)}`));
        const seconds = Math.min(ctx.quick ? 2 : 5, Math.max(0.5, ctx.timeLeft() / 1000 / 2));
        const until = Date.now() + seconds * 1000;
        const settled: Promise<void>[] = [];
        const iterationStart = Date.now();
        const cancelLog: string[] = [];
        let id = 0;
        while (Date.now() < until) {
          // A burst bigger than the pool can take, then a short breath.
          const burst = rng.int(5, 40);
          for (let b = 0; b < burst; b++) {
            const taskId = ++id;
            const fate = rng.weighted<Fate>([
              [10, 'plain'],
              [3, 'async'],
              [2, 'throw'],
              [3, 'abort-soon'],
              [3, 'abort-later'],
              [2, 'timeout'],
              [1, 'spin-abort'],
              [1, 'spin-timeout'],
            ]);
            const kind = fate.startsWith('spin') ? 'spin' : fate === 'throw' ? 'throw' : fate === 'async' ? 'async' : 'sync';
            const controller = fate.includes('abort') ? new AbortController() : undefined;
            const timeout = fate.includes('timeout') ? rng.int(1, 30) : undefined;
            const options = { ...(controller ? { signal: controller.signal } : {}), ...(timeout ? { timeout } : {}), ...(rng.chance(0.2) ? { priority: rng.int(-2, 2) } : {}) };
            totals.submitted++;
            const submittedAt = Date.now() - iterationStart;
            const promise = pool.run({ id: taskId, kind, ms: rng.int(0, 3) }, options);
            if (controller || timeout) promise.catch(() => cancelLog.push(`${taskId}(${fate}) at ${Date.now() - iterationStart} ms`));
            if (controller) {
              if (fate === 'abort-soon') queueMicrotask(() => controller.abort());
              else setTimeout(() => controller.abort(), rng.int(1, 40));
            }
            settled.push(
              promise.then(
                (value) => {
                  totals.resolved++;
                  ctx.check(value === taskId * 2, `task ${taskId} (${fate}) resolved with ${String(value)}`);
                  ctx.check(!fate.startsWith('spin') && fate !== 'throw', `task ${taskId} (${fate}) resolved`);
                },
                (error: unknown) => {
                  const code = errorCode(error);
                  const name = (error as { name?: string }).name;
                  if (code === 'ERR_POOL_QUEUE_FULL') {
                    totals.queueFull++;
                    ctx.check(maxQueue !== undefined, `task ${taskId}: queue full without a maxQueue`);
                  } else if (code === 'ABORT_ERR' || name === 'AbortError') {
                    totals.aborted++;
                    ctx.check(controller !== undefined, `task ${taskId} (${fate}) aborted without a signal`);
                  } else if (code === 'ERR_TASK_TIMEOUT') {
                    totals.timedOut++;
                    ctx.check(timeout !== undefined, `task ${taskId} (${fate}) timed out without a timeout`);
                  } else if (code === 'ERR_POOL_DESTROYED') {
                    totals.destroyed++;
                  } else if (name === 'RangeError' && /job failed/.test(String((error as Error).message))) {
                    totals.threw++;
                    ctx.check(fate === 'throw', `task ${taskId} (${fate}) threw the job's error`);
                  } else {
                    ctx.check(false, `task ${taskId} (${fate}, submitted ${submittedAt} ms into the iteration) rejected with ${describeError(error)} (code ${code}); pool: ${maxAgents} agent(s) max${maxQueue ? `, maxQueue ${maxQueue}` : ''}, cancelled so far: ${cancelLog.slice(-6).join(', ')}`);
                  }
                },
              ),
            );
          }
          await delay(rng.int(0, 15));
        }
        // Close gracefully (everything left runs or is cancelled) or destroy.
        const destroy = rng.chance(0.3);
        const closing = destroy ? pool.destroy() : pool.close();
        await within(Promise.all(settled), 60_000, `${settled.length} tasks to settle after ${destroy ? 'destroy' : 'close'}()`);
        await within(closing, 30_000, `pool.${destroy ? 'destroy' : 'close'}()`);
        const stats = pool.stats;
        ctx.check(stats.queued === 0 && stats.running === 0, `after close: ${stats.queued} queued, ${stats.running} running`);
        let live = liveAgentCount();
        for (let waited = 0; live > baseline && waited < 5000; waited += 20) {
          await delay(20);
          live = liveAgentCount();
        }
        ctx.assert(live === baseline, `${live - baseline} agent(s) alive after the pool closed`);
      },
      { timeoutMs: 120_000, maxFailures: 3 },
    );
    result.stats = totals;
    return result;
  },
};
