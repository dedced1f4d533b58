// Floods both ways under flow control (issue 11, item 12), and worker
// termination with live posting agents (item 2). Each iteration picks one:
//  - agent->host: an agent posts N values with a small random high-water
//    mark while the host stalls at random; all arrive, in order, and the
//    agent never had more than the mark queued while the host stalled;
//  - host->agent: the host posts N values honouring false/'drain'; all
//    arrive in order and bufferedMessages returns to 0;
//  - terminate-flood: an agent floods without limit; terminate ends it
//    promptly (also when it is blocked on a full queue);
//  - worker: a worker_thread with flooding agents is terminated (child
//    process; a crash or abort is a failure).
import { CRASH_PATTERN, describeChild, runNode } from '../lib/child.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { within } from '../lib/util.js';
import { fileURLToPath } from 'node:url';

const MODES = ['agent->host', 'host->agent', 'terminate-flood', 'worker'] as const;
const workerFixture = fileURLToPath(new URL('../../test/fixtures/worker-terminate-flood.ts', import.meta.url));

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

export const floods: Scenario = {
  name: 'floods',
  description: 'floods both ways with backpressure (order, bounds, drain), terminate mid-flood, worker termination with posting agents',
  async run(ctx: StressContext) {
    const byMode: Record<string, number> = {};
    const result = await iterate(
      ctx,
      async ({ rng }) => {
        const mode = rng.pick(MODES);
        byMode[mode] = (byMode[mode] ?? 0) + 1;
        if (mode === 'agent->host') {
          const mark = rng.int(1, 64);
          const count = ctx.size(rng.int(1000, 20_000), 2000);
          const posted = new Int32Array(new SharedArrayBuffer(4));
          const agent = ctx.spawn({
            source: `const posted = new Int32Array(agentData); setTimeout(() => { for (let i = 0; i < ${count}; i++) { postMessage(i); Atomics.add(posted, 0, 1); } });`,
            data: posted.buffer,
            highWaterMark: { messages: mark },
          });
          let next = 0;
          let disorder = 0;
          const all = new Promise<void>((resolve) =>
            agent.on('message', (v: number) => {
              if (v !== next) disorder++;
              next = v + 1;
              if (next === count) resolve();
            }),
          );
          await agent.ready;
          for (let stall = 0; stall < 3; stall++) {
            const before = Atomics.load(posted, 0);
            busy(rng.int(5, 50));
            const during = Atomics.load(posted, 0) - before;
            // +1: a post that returned just before `before` was read is counted after it.
            ctx.check(during <= mark + 1, `agent posted ${during} messages past a mark of ${mark} while the host stalled`);
            await new Promise((resolve) => setTimeout(resolve, rng.int(0, 10)));
          }
          await within(all, 60_000, `${count} messages`);
          ctx.check(disorder === 0, `${disorder} messages out of order`);
          await agent.terminate();
        } else if (mode === 'host->agent') {
          const mark = rng.int(1, 64);
          const count = ctx.size(rng.int(1000, 20_000), 2000);
          const agent = ctx.spawn({
            source: 'let next = 0, disorder = 0; onmessage = (e) => { if (e.data !== next) disorder++; next = e.data + 1; if (e.data === agentData - 1) postMessage({ next, disorder }); };',
            data: count,
            highWaterMark: { messages: mark },
          });
          const done = new Promise<{ next: number; disorder: number }>((resolve) => agent.once('message', resolve));
          for (let i = 0; i < count; ) {
            if (agent.postMessage(i++)) continue;
            // The agent drains concurrently, so the count may already be below the mark
            // here; what must hold is that a sender that stops at `false` never exceeds it.
            ctx.check(agent.bufferedMessages <= mark, `postMessage returned false with ${agent.bufferedMessages} buffered (mark ${mark})`);
            await within(new Promise((resolve) => agent.once('drain', () => resolve(undefined))), 30_000, "'drain'");
          }
          const report = await within(done, 60_000, 'the agent to receive everything');
          ctx.check(report.next === count && report.disorder === 0, `agent saw ${JSON.stringify(report)} of ${count}`);
          ctx.check(agent.bufferedMessages === 0, `bufferedMessages ${agent.bufferedMessages} after the agent took all`);
          await agent.terminate();
        } else if (mode === 'terminate-flood') {
          const agent = ctx.spawn({
            source: "const chunk = 'x'.repeat(256); for (;;) postMessage(chunk);",
            highWaterMark: rng.int(0, 1) === 1 ? { messages: rng.int(1, 16) } : undefined,
          });
          await new Promise((resolve) => setTimeout(resolve, rng.int(0, 100)));
          if (rng.int(0, 1) === 1) busy(rng.int(0, 30));
          const started = Date.now();
          const info = await within(agent.terminate(), 10_000, 'terminate during a flood');
          ctx.check(info.reason === 'terminated', `exit reason ${info.reason}`);
          ctx.check(Date.now() - started < 5000, `terminate took ${Date.now() - started} ms`);
        } else {
          const child = await runNode(['--import', 'tsx', workerFixture, String(rng.int(1, 3))], { timeoutMs: 90_000 });
          ctx.assert(!child.timedOut, `the worker host hung: ${describeChild(child)}`);
          ctx.assert(!CRASH_PATTERN.test(child.stderr), `crash output: ${describeChild(child)}`);
          ctx.assert(child.code === 0 && child.stdout.includes('DONE'), `worker host failed: ${describeChild(child)}`);
        }
      },
      { timeoutMs: 120_000, reserveMs: 2000 },
    );
    result.stats = Object.fromEntries(Object.entries(byMode).map(([k, v]) => [`n_${k}`, v]));
    return result;
  },
};
