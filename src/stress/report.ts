// Reports as text (a histogram per test, jcstress-style) and as JSON.
import type { LitmusReport } from './litmus-runner.js';
import type { LinearizabilityReport } from './history-runner.js';

export type StressReport = LitmusReport | LinearizabilityReport;

/** True when the report should fail the run (a forbidden outcome, a non-linearizable history, an error, stuck). */
export function isFailure(report: StressReport): boolean {
  return report.grade !== 'ok' && report.grade !== 'interesting';
}

function formatLitmus(r: LitmusReport): string {
  const lines = [`${r.grade.toUpperCase().padEnd(11)} ${r.name}  (${r.id}, ${r.iterations.toLocaleString('en-US')} iterations, ${r.iterationsPerSecond.toLocaleString('en-US')}/s)`];
  if (r.error) lines.push(`  ${r.error}`);
  if (r.outcomes.length > 0) {
    lines.push(`  outcome (${r.fields.join(', ') || 'no result fields'})`);
    // A loop, not Math.max(...spread): a run may observe more distinct outcomes than the call stack holds arguments.
    let width = 7;
    for (const o of r.outcomes) width = Math.max(width, o.outcome.length);
    for (const o of r.outcomes) lines.push(`    ${o.outcome.padEnd(width)}  ${String(o.count).padStart(12)}  ${o.grade}`);
  }
  if (r.firstForbidden) {
    lines.push(`  first forbidden outcome ${r.firstForbidden.outcome} at iteration ${r.firstForbidden.iteration} (--seed ${r.firstForbidden.seed})`);
  }
  return lines.join('\n');
}

function formatLinearizability(r: LinearizabilityReport): string {
  const lines = [`${r.grade.toUpperCase().padEnd(11)} ${r.name}  (${r.id}, ${r.histories} histories, ${r.operations.toLocaleString('en-US')} operations, ${r.agents} agents)`];
  if (r.error) lines.push(`  ${r.error}`);
  if (r.counterexample) lines.push(r.counterexample.replace(/^/gm, '  '));
  if (r.grade !== 'ok') lines.push(`  --seed ${r.seed}${r.failingRun !== undefined ? ` (history ${r.failingRun})` : ''}`);
  return lines.join('\n');
}

export function formatReport(report: StressReport): string {
  return report.kind === 'litmus' ? formatLitmus(report) : formatLinearizability(report);
}
