// The ECMAScript memory-model litmus suite (src/stress/suite), run through
// the public harness (agentcluster/stress): no test may show a forbidden
// outcome (an Atomics/SeqCst or happens-before violation, i.e. a bug in our
// SAB sharing or the engine), and none may error or get stuck. The plain
// forms' relaxed outcomes are reported as stats (store buffering's 0,0).
import { loadTests, runStressTest, type LitmusReport } from '../../src/stress/index.js';
import { suiteFiles } from '../../src/stress/suites.js';
import type { Scenario, StressContext } from '../lib/types.js';

export const memoryModelLitmus: Scenario = {
  name: 'memory-model-litmus',
  description: 'the built-in memory-model litmus suite (SB, MP, LB, IRIW, 2+2W, CoRR... plain/Atomics/mixed) on the public stress harness: zero forbidden outcomes',
  async run(ctx: StressContext) {
    const tests = await loadTests(suiteFiles['memory-model']!);
    const perTest = Math.max(100, Math.floor(ctx.budgetMs / tests.length));
    let iterations = 0;
    let relaxed = 0;
    let runs = 0;
    const seen: string[] = [];
    for (const found of tests) {
      if (ctx.timeLeft() <= 0 && runs > 0) break;
      const report = (await runStressTest(found, { seed: ctx.seed, durationMs: Math.min(perTest, Math.max(100, ctx.timeLeft())) })) as LitmusReport;
      runs++;
      iterations += report.iterations;
      ctx.iteration = runs;
      ctx.check(report.grade === 'ok' || report.grade === 'interesting', `${report.name}: ${report.grade}${report.error ? ` (${report.error})` : ''} ${JSON.stringify(report.outcomes.filter((o) => o.grade === 'forbidden'))}`);
      const interesting = report.outcomes.filter((o) => o.grade === 'interesting');
      for (const o of interesting) {
        relaxed += o.count;
        seen.push(`${found.id} ${o.outcome}×${o.count}`);
      }
      ctx.log(`${report.name}: ${report.iterations} iterations, ${report.grade}`);
    }
    return { iterations: runs, failures: ctx.failures, stats: { litmusIterations: iterations, relaxedOutcomes: relaxed, seen: seen.join(', ') || 'none' } };
  },
};
