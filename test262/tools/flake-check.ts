/**
 * Flake check: runs the shared-memory subset (or the given selectors) N times
 * in a row in this process and compares every scenario's status.
 *
 *   node --import tsx test262/tools/flake-check.ts [--runs 3] [--threads N] [--test262 <dir>] [selector ...]
 *
 * Exit 0 when every run gave identical results, 1 otherwise (the differing
 * scenarios are listed with their errors).
 */
import { parseArgs } from 'node:util';
import { resolveTest262 } from '../runner/discover.js';
import type { TestResult } from '../runner/results.js';
import { cpuCount, runInProcess, sharedMemorySelectors } from '../subsets.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    threads: { type: 'string' },
    timeout: { type: 'string' },
    test262: { type: 'string' },
  },
});
const runs = Number(values.runs);
const threads = values.threads ? Number(values.threads) : cpuCount() * 4;
const t262 = resolveTest262(values.test262, process.env, process.cwd());
const selectors = positionals.length > 0 ? positionals : sharedMemorySelectors(t262);

const all: Map<string, TestResult>[] = [];
for (let i = 1; i <= runs; i++) {
  const { summary, results } = await runInProcess(t262, selectors, {
    threads,
    ...(values.timeout ? { timeoutMs: Number(values.timeout) } : {}),
  });
  all.push(new Map(results.map((r) => [r.id, r])));
  process.stdout.write(
    `run ${i}/${runs} (threads ${threads}): ${summary.total} scenarios, ${summary.pass} pass, ${summary.fail} fail ` +
      `(${summary.expectedFail} expected, ${summary.unexpectedFail} unexpected), ${summary.skip} skip, ` +
      `${summary.seconds.toFixed(1)} s\n`,
  );
  for (const r of summary.unexpectedFailures) process.stdout.write(`  UNEXPECTED ${r.id}: ${r.error ?? ''}\n`);
}

const ids = new Set(all.flatMap((m) => [...m.keys()]));
const differing: string[] = [];
for (const id of [...ids].sort()) {
  const statuses = all.map((m) => m.get(id)?.status ?? 'missing');
  if (new Set(statuses).size > 1) {
    differing.push(id);
    process.stdout.write(`FLAKY ${id}: ${statuses.join(' / ')}\n`);
    all.forEach((m, i) => {
      const e = m.get(id)?.error;
      if (e) process.stdout.write(`  run ${i + 1}: ${e}\n`);
    });
  }
}
process.stdout.write(
  differing.length === 0
    ? `identical results in ${runs} runs (${ids.size} scenarios)\n`
    : `${differing.length} scenario(s) differ between runs\n`,
);
process.exitCode = differing.length === 0 ? 0 : 1;
