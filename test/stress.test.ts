// Issue 7: a short seeded pass of the stress suite (stress/), as CI runs it.
// The runner goes in a child process: it must terminate its agents and exit
// by itself, and its exit code and JSON report must show zero failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const SEED = '20240607';

interface Report {
  seed: number;
  scenarios: { name: string; iterations: number; skipped?: string; failures: { message: string; iteration: number }[] }[];
}

test('stress --quick --seed fixed: every scenario runs and none fails', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentcluster-stress-test-'));
  const json = join(dir, 'report.json');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'stress/run.ts', '--quick', '--duration', '60s', '--seed', SEED, '--json', json], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 220_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    assert.equal(signal, null, `the stress runner was killed (${signal}): hung or crashed\n${output}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    const failed = report.scenarios.filter((s) => s.failures.length > 0);
    assert.deepEqual(
      failed.map((s) => `${s.name}: ${s.failures.length} failure(s), first: ${s.failures[0]!.message}`),
      [],
      `stress failures (reproduce: npm run stress -- --quick --seed ${SEED} --only ${failed.map((s) => s.name).join(',')})\n${output}`,
    );
    assert.equal(code, 0, output);
    for (const s of report.scenarios) {
      if (s.skipped === undefined) assert.ok(s.iterations > 0, `${s.name} ran no iteration`);
    }
    assert.ok(report.scenarios.length >= 11, `only ${report.scenarios.length} scenarios ran`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
