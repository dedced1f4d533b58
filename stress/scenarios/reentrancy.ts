// Host callback reentrancy: from inside an agent's 'message' (or 'exit')
// listener on the host — post back synchronously (ping-pong, also across two
// agents), create new agents and evaluate on them, terminate the sender
// mid-batch, call evaluate() recursively, evaluate/post on an agent from its
// own 'exit' listener — and, in a child process, listeners that throw.
import { AgentError, type Agent } from '../../src/index.js';
import { describeChild, runHost } from '../lib/child.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { deferred, describeError, errorCode, within } from '../lib/util.js';

const CASES = ['ping-pong', 'cross-post', 'spawn-in-listener', 'terminate-sender', 'nested-evaluate', 'exit-listener', 'throwing-listener'] as const;
type Case = (typeof CASES)[number];

export const reentrancy: Scenario = {
  name: 'reentrancy',
  description: "host listeners that post back synchronously, spawn agents, terminate the sender, nest evaluate(), or throw",
  async run(ctx: StressContext) {
    const counts: Record<string, number> = {};
    const result = await iterate(ctx, async ({ rng, seed }) => {
      const kind: Case = rng.weighted<Case>([
        [3, 'ping-pong'],
        [2, 'cross-post'],
        [2, 'spawn-in-listener'],
        [3, 'terminate-sender'],
        [3, 'nested-evaluate'],
        [2, 'exit-listener'],
        [1, 'throwing-listener'],
      ]);
      counts[kind] = (counts[kind] ?? 0) + 1;
      ctx.log(`iteration ${ctx.iteration}: ${kind}`);
      switch (kind) {
        case 'ping-pong': {
          // The listener posts the next value before returning; the agent answers each.
          const n = rng.int(100, 3000);
          const agent = ctx.spawn({ name: 'pong', source: 'onmessage = (e) => postMessage(e.data + 1);' });
          const done = deferred<void>();
          let expected = 1;
          agent.on('message', (v) => {
            if (v !== expected) done.reject(new Error(`ping-pong: got ${v}, expected ${expected}`));
            expected += 2;
            if ((v as number) >= n) done.resolve();
            else agent.postMessage((v as number) + 1);
          });
          await agent.ready;
          agent.postMessage(0);
          await within(done.promise, 30_000, `ping-pong to ${n}`);
          await agent.terminate();
          break;
        }
        case 'cross-post': {
          // A's listener posts to B, B's to A; several balls in the air at once.
          const balls = rng.int(1, 8);
          const hops = rng.int(50, 500);
          const src = 'onmessage = (e) => postMessage(e.data);';
          const a = ctx.spawn({ name: 'cross-a', source: src });
          const b = ctx.spawn({ name: 'cross-b', source: src });
          const seen = new Map<number, number>();
          const done = deferred<void>();
          let finished = 0;
          const relay = (to: Agent) => (m: { ball: number; hop: number }) => {
            const last = seen.get(m.ball) ?? -1;
            if (m.hop !== last + 1) done.reject(new Error(`ball ${m.ball}: hop ${m.hop} after ${last}`));
            seen.set(m.ball, m.hop);
            if (m.hop >= hops) {
              if (++finished === balls) done.resolve();
              return;
            }
            to.postMessage({ ball: m.ball, hop: m.hop + 1 });
          };
          a.on('message', relay(b));
          b.on('message', relay(a));
          await Promise.all([a.ready, b.ready]);
          for (let ball = 0; ball < balls; ball++) a.postMessage({ ball, hop: 0 });
          await within(done.promise, 30_000, `${balls} balls to cross ${hops} times`);
          await Promise.all([a.terminate(), b.terminate()]);
          break;
        }
        case 'spawn-in-listener': {
          // Every message spawns an agent from inside the listener, which evaluates and is terminated.
          const n = rng.int(2, 12);
          const parent = ctx.spawn({ name: 'spawner', source: `onmessage = (e) => { for (let i = 0; i < e.data; i++) postMessage(i); };` });
          const children: Promise<number>[] = [];
          parent.on('message', (i) => {
            const child = ctx.spawn({ name: `spawned-${i}`, source: `const base = ${i};` });
            const value = child.evaluate<number>('base * 3 + 1');
            if (rng.chance(0.3)) {
              // Terminated right away from the same listener: evaluate must reject (or have won the race).
              void child.terminate();
              children.push(value.then((v) => v, (e: unknown) => (errorCode(e) === 'ERR_AGENT_TERMINATED' ? (i as number) * 3 + 1 : Promise.reject(e))));
            } else {
              children.push(value.finally(() => child.terminate()));
            }
          });
          await parent.ready;
          parent.postMessage(n);
          const values = await within(
            (async () => {
              while (children.length < n) await new Promise((r) => setTimeout(r, 5));
              return Promise.all(children);
            })(),
            30_000,
            `${n} agents spawned from a listener`,
          );
          values.forEach((v, k) => ctx.check(v === k * 3 + 1, `spawned agent ${k} evaluated to ${v}`));
          await parent.terminate();
          break;
        }
        case 'terminate-sender': {
          // The listener terminates the agent that sent the message, in the middle of a burst.
          const n = rng.int(10, 20_000);
          const stopAt = rng.int(0, n - 1);
          const agent = ctx.spawn({ name: 'burst', source: `onmessage = (e) => { for (let i = 0; i < e.data; i++) postMessage(i); };` });
          const got: number[] = [];
          let exitSeen = false;
          let afterExit = 0;
          agent.on('message', (v) => {
            if (exitSeen) afterExit++;
            got.push(v as number);
            if (v === stopAt) void agent.terminate();
          });
          agent.on('exit', () => (exitSeen = true));
          await agent.ready;
          agent.postMessage(n);
          const info = await within(agent.exited, 15_000, 'the sender to exit after terminate() from its listener');
          ctx.assert(info.reason === 'terminated', `exit reason ${info.reason}`);
          ctx.assert(afterExit === 0, `${afterExit} message events after 'exit'`);
          ctx.assert(got.length > stopAt, `only ${got.length} messages before exit, terminate() was called at ${stopAt}`);
          ctx.assert(
            got.every((v, k) => v === k),
            `messages out of order: ${got.slice(0, 10).join(',')}…`,
          );
          break;
        }
        case 'nested-evaluate': {
          // evaluate() from inside evaluate().then and from message listeners, to a depth; results in order.
          const depth = rng.int(5, 60);
          const agent = ctx.spawn({ name: 'nested', source: 'let counter = 0;' });
          const other = ctx.spawn({ name: 'nested-other', source: 'onmessage = (e) => postMessage(e.data);' });
          const order: number[] = [];
          const recurse = (level: number): Promise<number> =>
            agent.evaluate<number>(`postMessage(${level}); ++counter`).then(async (value) => {
              order.push(value);
              if (level >= depth) return value;
              // Two more evaluations start from this callback; only the first recurses.
              const side = agent.evaluate<number>('counter');
              const deeper = recurse(level + 1);
              const seen = await side;
              ctx.check(seen >= value, `counter went back: ${seen} < ${value}`);
              return deeper;
            });
          // Message listener on the host that evaluates on the other agent.
          const sideResults: Promise<unknown>[] = [];
          agent.on('message', (level) => sideResults.push(other.evaluate(`${level as number} * 2`)));
          await agent.ready;
          const last = await within(recurse(1), 30_000, `nested evaluate() to depth ${depth}`);
          ctx.assert(last === depth, `nested evaluate ended at ${last}, expected ${depth}`);
          ctx.assert(
            order.every((v, k) => v === k + 1),
            `evaluate results out of order: ${order.join(',')}`,
          );
          const sides = await within(Promise.all(sideResults), 30_000, 'evaluate() calls made from listeners');
          sides.forEach((v, k) => ctx.check(v === (k + 1) * 2, `side evaluate ${k} gave ${v}`));
          await Promise.all([agent.terminate(), other.terminate()]);
          break;
        }
        case 'exit-listener': {
          // From its own 'exit' listener: evaluate rejects, postMessage throws, a new agent works.
          const agent = ctx.spawn({ name: 'exiting', source: 'onmessage = () => close();' });
          const checks = deferred<void>();
          agent.on('exit', () => {
            try {
              const late = agent.evaluate('1');
              late.then(
                () => checks.reject(new Error('evaluate() on an exited agent resolved')),
                (e: unknown) => {
                  if (!(e instanceof AgentError)) checks.reject(new Error(`evaluate() after exit rejected with ${describeError(e)}`));
                },
              );
              let threw = false;
              try {
                agent.postMessage('late');
              } catch {
                threw = true;
              }
              if (!threw) checks.reject(new Error('postMessage() after exit did not throw'));
              const fresh = ctx.spawn({ name: 'born-in-exit', source: '' });
              fresh.evaluate<number>('6 * 7').then(
                (v) => (v === 42 ? checks.resolve() : checks.reject(new Error(`fresh agent said ${v}`))),
                (e: unknown) => checks.reject(e),
              ).finally(() => fresh.terminate());
            } catch (error) {
              checks.reject(error);
            }
          });
          await agent.ready;
          agent.postMessage(rng.chance(0.5) ? 'close' : 'x');
          const info = await within(agent.exited, 10_000, 'the agent to close itself');
          ctx.assert(info.reason === 'closed', `exit reason ${info.reason}, expected closed`);
          await within(checks.promise, 15_000, 'the exit listener checks');
          break;
        }
        case 'throwing-listener': {
          const n = rng.int(200, 5000);
          const child = await runHost('throwing-listener-host.ts', [String(seed % 100_000), String(n)], { timeoutMs: 45_000 });
          const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
          ctx.assert(!child.timedOut && child.code === 0 && line !== undefined, `throwing-listener child: ${describeChild(child)}`);
          const report = JSON.parse(line!) as { received: number; thrown: number; caught: number; inOrder: boolean; markersInOrder: boolean };
          ctx.assert(report.received === n, `listener throws lost messages: ${report.received}/${n}`);
          ctx.assert(report.inOrder, 'messages out of order when listeners throw');
          ctx.assert(report.caught === report.thrown, `${report.thrown} listener throws but ${report.caught} uncaughtException events`);
          ctx.assert(report.markersInOrder, 'uncaught exceptions arrived out of order');
          break;
        }
      }
    });
    result.stats = Object.fromEntries(Object.entries(counts).map(([k, v]) => [`n_${k}`, v]));
    return result;
  },
};
