// Issue 13: loading real npm code. Pool-of-4 time until all four agents
// have served a task, and one agent's time to its first result (module load
// dominated), AgentPool against piscina, for two jobs: render (marked + ajv)
// and the test job set (12 packages, about 1300 files with lodash-es and
// date-fns). The pool discovers the graph on the host once; agents share
// the table and the source texts, and a process-wide V8 code cache (the
// first agent to compile a file leaves its code for the next ones):
// "one agent" is also measured with the cache off (AGENTCLUSTER_CODE_CACHE=0).
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { AgentPool } from '../src/index.js';
import { benchDir, fmtRatio, fmtTime, isMain, now, parseOptions, printTable, publish, ratio, repoRoot, stats, type BenchOptions, type BenchReport } from './lib.js';

const jobs = {
  render: { file: join(benchDir, 'module-jobs/render.mjs'), name: 'default', task: { md: '# Hi\n\n*there*' } },
  'job set': { file: join(repoRoot, 'test/fixtures/npm/jobs.mjs'), name: 'ms', task: ['1h'] },
};

async function oursTime(file: string, name: string, task: unknown, agents: number): Promise<number> {
  const t0 = now();
  const pool = new AgentPool({ filename: file, minAgents: agents, maxAgents: agents, name });
  await pool.ready;
  await Promise.all(Array.from({ length: agents }, () => pool.run(task)));
  const t = now() - t0;
  await pool.destroy();
  return t;
}

async function piscinaTime(file: string, name: string, task: unknown, agents: number): Promise<number> {
  const t0 = now();
  const pool = new Piscina({ filename: file, minThreads: agents, maxThreads: agents, name });
  await Promise.all(Array.from({ length: agents }, () => pool.run(task)));
  const t = now() - t0;
  await pool.destroy();
  return t;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const reps = options.quick ? 2 : 5;
  const ratios = [];
  const rows: string[][] = [];
  const data: Record<string, unknown> = {};
  for (const [label, job] of Object.entries(jobs)) {
    for (const agents of [4, 1]) {
      const ours: number[] = [];
      const peer: number[] = [];
      for (let i = 0; i < reps; i++) {
        ours.push(await oursTime(job.file, job.name, job.task, agents));
        peer.push(await piscinaTime(job.file, job.name, job.task, agents));
      }
      const o = stats(ours);
      const p = stats(peer);
      const metric = agents === 4 ? `${label}: pool of 4 ready and served, p50` : `${label}: one agent to first result, p50`;
      ratios.push(ratio('modules', metric, o.p50, p.p50, 'ns'));
      rows.push([metric, fmtTime(o.p50), fmtTime(p.p50), fmtRatio(p.p50 / o.p50)]);
      data[metric] = { ours: o, piscina: p };
      if (agents === 1) {
        const cold: number[] = [];
        process.env.AGENTCLUSTER_CODE_CACHE = '0';
        try {
          for (let i = 0; i < reps; i++) cold.push(await oursTime(job.file, job.name, job.task, 1));
        } finally {
          delete process.env.AGENTCLUSTER_CODE_CACHE;
        }
        const c = stats(cold);
        const coldMetric = `${label}: one agent, code cache off vs on, p50`;
        ratios.push(ratio('modules', coldMetric, o.p50, c.p50, 'ns'));
        rows.push([coldMetric, fmtTime(o.p50), `${fmtTime(c.p50)} (off)`, fmtRatio(c.p50 / o.p50)]);
        data[coldMetric] = { cacheOn: o, cacheOff: c };
      }
    }
  }
  printTable('Module loading (AgentPool vs piscina)', ['metric', 'AgentPool', 'piscina', 'ratio'], rows);
  return publish({ name: 'modules', ratios, checks: [], data }, options);
}

if (isMain(import.meta.url)) await run(parseOptions());
