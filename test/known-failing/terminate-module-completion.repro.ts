// terminate() while V8 completes a top-level-await module graph. Runs the host
// script in child processes and fails if any of them dies by a signal or a
// non-zero exit (V8 12.4 before the guard: "Check failed: (location_) !=
// nullptr" in SourceTextModule::AsyncModuleExecutionFulfilled, 4 children in 4).
// NOT in npm test: it still fails on Node 22 about 1 child run in 12 (see docs/architecture.md,
// "Teardown paths", OPEN). Run it with
//   node --import tsx --test test/known-failing/terminate-module-completion.repro.ts
//   NODE_LINE_WORK=/tmp/x bash scripts/test-node-line.sh 22 test/known-failing/terminate-module-completion.repro.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/index.js';

const host = fileURLToPath(new URL('./tla-terminate-host.ts', import.meta.url));

test('terminate() during top-level-await module completion never aborts the process', () => {
  const children = Number(process.env.TLA_TERMINATE_CHILDREN ?? 8);
  const failures: string[] = [];
  for (let c = 0; c < children; c++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', host, '20'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) {
      const fatal = /Check failed[^\n]*/.exec(r.stderr)?.[0] ?? r.stderr.slice(-400);
      failures.push(`child ${c}: status ${r.status} signal ${r.signal}: ${fatal}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('terminate() still stops a top-level-await module spinning after its await, and one whose importer waits on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentcluster-tla-spin-'));
  try {
    writeFileSync(join(dir, 'spin.mjs'), `await 0;\npostMessage('spinning');\nwhile (true) {}\n`);
    writeFileSync(join(dir, 'entry.mjs'), `import './spin.mjs';\n`);
    for (const file of ['spin.mjs', 'entry.mjs']) {
      const agent = new Agent({ file: pathToFileURL(join(dir, file)) });
      agent.ready.catch(() => {});
      await new Promise<void>((resolve) => agent.once('message', () => resolve()));
      const info = await agent.terminate();
      assert.equal(info.reason, 'terminated');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
