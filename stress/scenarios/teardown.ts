// Teardown: terminate agents in the middle of everything — blocked in
// Atomics.wait, with waitAsync pending, mid message storm, mid clone of a
// large graph (either way), while loading a module tree, while running out of
// memory, spinning, inside evaluate() — and the same agent from several
// places at once (repeated terminate(), an AbortSignal, its own close()).
//
// Checked: every agent exits within a bound, 'exit' fires exactly once and
// nothing after it, the reason fits the state, terminate() promises agree,
// pending evaluate() calls reject with ERR_AGENT_TERMINATED (or resolve with
// the whole value), storm messages arrive in order with no gaps, and
// liveAgentCount() goes back to where it was.
import { liveAgentCount, type Agent, type AgentOptions, type ExitInfo } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { delay, describeError, errorCode, tick, within } from '../lib/util.js';
import { startWorkload, WORKLOADS, type Started } from '../lib/workloads.js';

/** Watches an agent's events for what must hold whatever happens: one exit, nothing after it. */
function watchEvents(agent: Agent, problems: string[]): void {
  let exits = 0;
  const after = (event: string) => () => {
    if (exits > 0) problems.push(`${agent.name}: '${event}' event after 'exit'`);
  };
  agent.on('message', after('message'));
  agent.on('error', after('error'));
  agent.on('exit', () => {
    exits++;
    if (exits > 1) problems.push(`${agent.name}: 'exit' emitted ${exits} times`);
  });
}

export const teardown: Scenario = {
  name: 'teardown',
  description: 'terminate during Atomics.wait, waitAsync, message storms, large clones, module loading, OOM, evaluate; from several places at once',
  weight: 1.2,
  async run(ctx: StressContext) {
    const byWorkload: Record<string, number> = {};
    let terminated = 0;
    const baseline = liveAgentCount();
    const result = await iterate(ctx, async ({ rng }) => {
      const problems: string[] = [];
      const count = rng.int(2, 8);
      const started: Started[] = [];
      const controllers = new Map<number, AbortController>();
      for (let i = 0; i < count; i++) {
        const workload = rng.pick(WORKLOADS);
        byWorkload[workload] = (byWorkload[workload] ?? 0) + 1;
        // Some agents get an AbortSignal at construction: aborting it is one more way to terminate.
        const controller = rng.chance(0.4) ? new AbortController() : undefined;
        if (controller) controllers.set(i, controller);
        const spawn = controller ? (o: AgentOptions) => ctx.spawn({ ...o, signal: controller.signal }) : ctx.spawn;
        const s = startWorkload(spawn, workload, rng, `td-${workload}-${i}`);
        s.inState.catch(() => {});
        watchEvents(s.agent, problems);
        started.push(s);
      }
      await Promise.all(
        started.map(async (s, i) => {
          const r = rng.fork(i);
          const { agent } = s;
          // Before start, right away, or once in the state plus a random delay.
          const when = r.weighted<'before-ready' | 'now' | 'in-state'>([
            [1, 'before-ready'],
            [1, 'now'],
            [6, 'in-state'],
          ]);
          if (when === 'in-state') {
            try {
              await within(s.inState, 20_000, `${agent.name} to reach its state`);
            } catch (error) {
              // OOM may win the race with the 'go' message; anything else is a failure.
              if (agent.state !== 'exited' || !s.reasons.includes((await agent.exited).reason)) problems.push(`${agent.name}: ${describeError(error)}`);
            }
            const pause = r.int(0, 5);
            if (pause > 0) await delay(pause);
            else await tick();
          } else if (when === 'now') {
            await tick();
          }
          // From several places at once.
          const places = r.int(1, 4);
          const promises: Promise<ExitInfo>[] = [];
          for (let p = 0; p < places; p++) {
            const how = r.pick(['sync', 'immediate', 'timeout', 'abort', 'evaluate-close'] as const);
            if (how === 'sync') promises.push(agent.terminate());
            else if (how === 'immediate') promises.push(new Promise<void>((res) => setImmediate(res)).then(() => agent.terminate()));
            else if (how === 'timeout') promises.push(delay(r.int(0, 3)).then(() => agent.terminate()));
            else if (how === 'abort') {
              // The signal given at construction (or terminate() for agents made without one).
              const controller = controllers.get(i);
              if (controller) controller.abort();
              else void agent.terminate();
              promises.push(agent.exited);
            } else {
              // The agent closes itself while we terminate it (evaluate may reject: that is fine).
              agent.evaluate('close()').catch(() => {});
              promises.push(agent.terminate());
            }
          }
          let infos: ExitInfo[];
          try {
            infos = await within(Promise.all(promises), 15_000, `${agent.name} (${s.workload}) to exit after terminate()`);
          } catch (error) {
            problems.push(describeError(error));
            return;
          }
          terminated++;
          const info = infos[0]!;
          for (const other of infos) if (other !== info && (other.reason !== info.reason || other.code !== info.code)) problems.push(`${agent.name}: terminate() promises disagree: ${JSON.stringify(infos)}`);
          const allowed = [...s.reasons, 'closed'];
          if (!allowed.includes(info.reason)) problems.push(`${agent.name} (${s.workload}): exit reason '${info.reason}', expected one of ${allowed.join('/')}${agent.failure ? ` (failure: ${agent.failure.summary})` : ''}`);
          if (s.pending) {
            try {
              const value = await within(s.pending, 5000, `${agent.name}'s pending evaluate to settle`);
              if (s.workload === 'clone-out' && typeof value !== 'number') problems.push(`${agent.name}: evaluate resolved with ${typeof value}`);
            } catch (error) {
              const code = errorCode(error);
              if (code !== 'ERR_AGENT_TERMINATED' && code !== 'ERR_AGENT_CLOSED') problems.push(`${agent.name}: pending evaluate rejected with ${describeError(error)} (code ${code})`);
            }
          }
          if (s.received) {
            const got = s.received;
            for (let k = 0; k < got.length; k++) {
              if (got[k] !== k) {
                problems.push(`${agent.name}: storm message ${k} is ${got[k]} (lost or reordered)`);
                break;
              }
            }
          }
        }),
      );
      // Everything this iteration started is gone.
      let live = liveAgentCount();
      for (let waited = 0; live > baseline && waited < 5000; waited += 20) {
        await delay(20);
        live = liveAgentCount();
      }
      if (live > baseline) problems.push(`liveAgentCount() ${live} after every agent exited (baseline ${baseline})`);
      ctx.assert(problems.length === 0, problems.join('\n'));
    });
    result.stats = { agentsTerminated: terminated, ...Object.fromEntries(Object.entries(byWorkload).map(([k, v]) => [`n_${k}`, v])) };
    return result;
  },
};
