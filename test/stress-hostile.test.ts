// Fixed findings of the hostile review of agentcluster/stress (each test
// failed on the code under review). Risky repros run in a child process so
// that a hang or crash fails the test instead of the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, fixtures, root, runInChild } from './support/stress-fixtures.js';

const cli = join(root, 'dist/src/cli/main.js');
function runCli(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [cli, 'stress', ...args], { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('finding F7: `agentcluster stress DIR` is a usage error (exit 2, "agentcluster stress:" message), not an uncaught ERR_UNSUPPORTED_DIR_IMPORT stack', () => {
  const r = runCli([fixtures]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^agentcluster stress: .* is a directory/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a raw stack trace');
});

test('finding F7: a test file that fails to import (syntax error) is reported as "agentcluster stress: FILE: ..." without an internal stack trace', () => {
  const file = join(fixtures, 'syntax.mjs');
  writeFileSync(file, 'export default {;\n');
  const r = runCli([file]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^agentcluster stress: .*syntax\.mjs: failed to import: SyntaxError: .*\(ERR_STRESS_LOAD_FAILED\)\n$/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a raw stack trace');
});

test('finding F7: a test file that throws at its top level is ERR_STRESS_LOAD_FAILED from the API too, the thrown error kept as the cause', () => {
  const file = fixture('throws.mjs', `throw new TypeError('top-level boom');`);
  const r = runInChild(file, '{ iterations: 1 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.thrown?.code, 'ERR_STRESS_LOAD_FAILED', r.stdout);
  assert.match(out.thrown.message, /throws\.mjs: failed to import: TypeError: top-level boom/);
  const dir = runInChild(fixtures, '{ iterations: 1 }', 30_000);
  assert.equal(JSON.parse(dir.stdout.trim()).thrown?.code, 'ERR_STRESS_NO_TESTS', dir.stdout);
});
