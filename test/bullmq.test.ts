// agentcluster/bullmq against a real redis-server started here (loopback,
// no persistence). Consumers that must survive OOM/timeouts or get killed run
// as child processes (test/bullmq-fixtures/consumer.ts), standing in for machines.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { AgentWorker } from '../src/bullmq/index.js';
import { jobModuleSource, WRAPPER_EXPORT } from '../src/bullmq/job-module.js';
import { AgentChannel } from '../src/clone/channel.js';
import { AgentPool } from '../src/scheduler/pool.js';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis.js';

const skip = redisMissing();
const consumerScript = fileURLToPath(new URL('./bullmq-fixtures/consumer.ts', import.meta.url));
const jobModule = new URL('./bullmq-fixtures/job.mjs', import.meta.url);

interface Consumer {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves when a line matching `re` was printed. */
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

function startConsumer(port: number, queue: string, agents: number, lockDuration = 30_000): Consumer {
  const child = spawn(process.execPath, ['--import', 'tsx', consumerScript, String(port), queue, String(agents), String(lockDuration)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const l of parts) {
      if (l === '') continue;
      lines.push(l);
      for (const w of waiters.splice(0)) {
        if (w.re.test(l)) w.resolve(l);
        else waiters.push(w);
      }
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(re, ms = 60_000) {
      const found = lines.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${re} within ${ms} ms; stderr: ${stderr.slice(-2000)}`)), ms);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then((code) => reject(new Error(`consumer exited (${code}) before ${re}; stderr: ${stderr.slice(-2000)}`)));
      });
    },
  };
}

async function stopConsumer(c: Consumer): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 20_000);
  await c.exited;
  clearTimeout(timer);
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const doneIds = (c: Consumer): string[] => c.lines.filter((l) => l.startsWith('done ')).map((l) => l.slice(5));

describe('agentcluster/bullmq with a real redis-server', { skip }, () => {
  let redis: RedisServer;
  const queues: Queue[] = [];
  const consumers: Consumer[] = [];
  const queue = (name: string): Queue => {
    const q = new Queue(name, { connection: redis.connection });
    queues.push(q);
    return q;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(consumers.map(stopConsumer));
    await Promise.all(queues.map((q) => q.close()));
    await redis?.stop();
  });

  it('two consumer processes on one queue: 10k jobs, none lost, none duplicated', { timeout: 180_000 }, async () => {
    const q = queue('ten-k');
    const a = startConsumer(redis.port, 'ten-k', 2);
    const b = startConsumer(redis.port, 'ten-k', 2);
    consumers.push(a, b);
    // Backpressure: 2 agents + maxQueue 2 (the default) = 4 jobs per consumer.
    assert.match(await a.waitFor(/^ready/), /concurrency=4/);
    await b.waitFor(/^ready/);
    const N = 10_000;
    for (let i = 0; i < N; i += 1000) {
      await q.addBulk(Array.from({ length: 1000 }, (_, k) => ({ name: 'square', data: { i: i + k }, opts: { jobId: `j${i + k}` } })));
    }
    await until('10k completions', 120_000, async () => (await q.getJobCounts('completed')).completed === N);
    const counts = await q.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
    assert.deepEqual(counts, { completed: N, failed: 0, active: 0, wait: 0, delayed: 0 });
    await Promise.all([stopConsumer(a), stopConsumer(b)]);
    assert.ok(a.lines.includes('closed') && b.lines.includes('closed'), 'both consumers closed gracefully');
    const all = [...doneIds(a), ...doneIds(b)];
    assert.equal(all.length, N, 'each job completed exactly once');
    assert.equal(new Set(all).size, N);
    assert.ok(doneIds(a).length > 0 && doneIds(b).length > 0, `both consumers worked: ${doneIds(a).length} / ${doneIds(b).length}`);
    const sample = await q.getJob('j1234');
    assert.deepEqual(sample?.returnvalue, { i: 1234, square: 1234 * 1234 });
  });

  it('a consumer killed mid-run: its jobs come back through the stalled path and the other one runs them', { timeout: 150_000 }, async () => {
    const q = queue('kill');
    const lock = 2000;
    const a = startConsumer(redis.port, 'kill', 2, lock);
    const b = startConsumer(redis.port, 'kill', 2, lock);
    consumers.push(a, b);
    await Promise.all([a.waitFor(/^ready/), b.waitFor(/^ready/)]);
    const N = 300;
    await q.addBulk(Array.from({ length: N }, (_, i) => ({ name: 'busy', data: { i, ms: 20 }, opts: { jobId: `k${i}` } })));
    await a.waitFor(/^done k/);
    await until('a few completions', 30_000, async () => (await q.getJobCounts('completed')).completed >= 40);
    a.child.kill('SIGKILL');
    await a.exited;
    await until('all jobs completed', 90_000, async () => (await q.getJobCounts('completed')).completed === N);
    assert.deepEqual(await q.getJobCounts('failed', 'active', 'wait'), { failed: 0, active: 0, wait: 0 });
    const stalled = b.lines.filter((l) => l.startsWith('stalled ')).map((l) => l.slice(8));
    assert.ok(stalled.length >= 1, 'the killed consumer left active jobs behind');
    const byB = new Set(doneIds(b));
    for (const id of stalled) assert.ok(byB.has(id), `stalled job ${id} was run by the survivor`);
    // At-least-once: every job completed (above); only stalled ones may have run twice.
    // (A's last completions may be in Redis but not in its output: it was killed.)
    const byA = doneIds(a);
    assert.equal(byB.size, doneIds(b).length, 'the survivor ran no job twice');
    const twice = byA.filter((id) => byB.has(id));
    for (const id of twice) assert.ok(stalled.includes(id), `${id} ran twice without having stalled`);
  });

  it('a job that runs out of memory or times out fails with its code; the consumer goes on', { timeout: 90_000 }, async () => {
    const q = queue('limits');
    const c = startConsumer(redis.port, 'limits', 2);
    consumers.push(c);
    await c.waitFor(/^ready/);
    await q.add('oom', {}, { jobId: 'oom' });
    await q.add('spin', {}, { jobId: 'spin' });
    await q.add('throw', { i: 5 }, { jobId: 'throw' });
    await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'square', data: { i }, opts: { jobId: `after${i}` } })));
    await until('23 jobs settled', 60_000, async () => {
      const n = await q.getJobCounts('completed', 'failed');
      return n.completed + n.failed === 23;
    });
    assert.match((await q.getJob('oom'))!.failedReason, /^ERR_AGENT_OUT_OF_MEMORY: /);
    assert.match((await q.getJob('spin'))!.failedReason, /^ERR_TASK_TIMEOUT: /);
    assert.equal((await q.getJob('throw'))!.failedReason, 'E_BAD_INPUT: bad input 5');
    const failed = (await q.getFailed()).map((j) => `${j.id}: ${j.failedReason}`);
    assert.deepEqual(await q.getJobCounts('completed', 'failed'), { completed: 20, failed: 3 }, failed.join('\n'));
    assert.equal(c.child.exitCode, null, 'the consumer is still running');
    await q.add('square', { i: 9 }, { jobId: 'later' });
    await c.waitFor(/^done later$/);
    await stopConsumer(c);
    assert.equal(await c.exited, 0);
  });

  it('in process: progress and log rows reach BullMQ, cancelJob aborts the agent, close drains', { timeout: 90_000 }, async () => {
    const q = queue('inproc');
    const w = new AgentWorker('inproc', { filename: jobModule, connection: redis.connection, pool: { maxAgents: 1, maxQueue: 0 } });
    const progress: unknown[] = [];
    w.worker.on('progress', (_job, p) => progress.push(p));
    await w.ready();
    assert.equal(w.concurrency, 1);
    try {
      await q.add('progress', {}, { jobId: 'p' });
      await until('progress job', 20_000, async () => (await q.getJobCounts('completed')).completed === 1);
      const p = (await q.getJob('p'))!;
      assert.equal(p.returnvalue, 'reported');
      assert.deepEqual(p.progress, { done: true });
      assert.deepEqual(progress.at(-1), { done: true });
      assert.ok(progress.length >= 2, `progress events: ${JSON.stringify(progress)}`);
      assert.deepEqual((await q.getJobLogs('p')).logs, ['half way and more']);

      const active = new Promise<void>((resolve) => w.worker.once('active', () => resolve()));
      await q.add('spin', {}, { jobId: 's' });
      await active;
      // BullMQ emits 'active' just before it tracks the job (and makes its signal).
      await until('cancelJob', 10_000, async () => w.worker.cancelJob('s', 'user cancelled'));
      await until('cancelled job failed', 20_000, async () => (await q.getJobCounts('failed')).failed === 1);
      assert.match((await q.getJob('s'))!.failedReason, /^ABORT_ERR: /);

      // Backpressure: concurrency 1, so with a busy agent the next jobs wait in Redis.
      await q.addBulk(Array.from({ length: 3 }, (_, i) => ({ name: 'busy', data: { i, ms: 300 }, opts: { jobId: `b${i}` } })));
      await until('one active', 10_000, async () => (await q.getJobCounts('active')).active === 1);
      assert.deepEqual(await q.getJobCounts('active', 'wait'), { active: 1, wait: 2 });
    } finally {
      await w.close();
    }
    // close() finished the active job instead of abandoning it.
    assert.equal((await q.getJobCounts('active')).active, 0);
    assert.ok((await q.getJobCounts('completed')).completed >= 2);
  });

  it('a job whose result cannot be cloned fails once; it is not run again', { timeout: 60_000 }, async () => {
    const q = queue('unclonable');
    const w = new AgentWorker('unclonable', { filename: jobModule, connection: redis.connection, pool: { maxAgents: 1 } });
    await w.ready();
    try {
      await q.add('unclonable', {}, { jobId: 'u' });
      await until('unclonable job failed', 20_000, async () => (await q.getJobCounts('failed')).failed === 1);
      assert.match((await q.getJob('u'))!.failedReason, /could not be cloned/);
      // Before the fix the worker took the agent's DataCloneError for its own
      // port re-send failure and ran the job 4 times.
      assert.deepEqual((await q.getJobLogs('u')).logs, ['ran']);
    } finally {
      await w.close();
    }
  });
});

describe('agentcluster/bullmq job wrapper (no Redis)', () => {
  it('a progress flood keeps one message in flight until the host acknowledges it', { timeout: 60_000 }, async () => {
    const pool = new AgentPool({ source: jobModuleSource(jobModule.href), name: WRAPPER_EXPORT, maxAgents: 1 });
    try {
      const channel = new AgentChannel();
      const received: unknown[] = [];
      const closed = new Promise<void>((resolve) => (channel.port2.onclose = () => resolve()));
      // Never acknowledged: the job may send its first value and, at the end, its last.
      channel.port2.onmessage = (event) => received.push(event.data);
      const task = { id: '1', name: 'flood', data: { n: 200_000 }, attemptsMade: 0, export: 'default', port: channel.port1 };
      assert.equal(await pool.run(task, { transferList: [channel.port1 as unknown as ArrayBuffer] }), 'flooded');
      await closed;
      // Before, each of the 200k calls was a message queued in the port.
      assert.deepEqual(received, [{ progress: 1 }, { progress: 200_000 }]);
    } finally {
      await pool.close();
    }
  });
});
