// agentcluster-262 writes print output through to stdout as it comes: a test
// that prints more in total than V8's longest string (2^29 - 24 characters)
// must not crash the host (it used to gather everything in one string).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/agents.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-262-output-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('printing more than 2^29 characters in total: every byte reaches stdout, exit 0', { timeout: 240_000 }, async () => {
  const lineChars = 1 << 20;
  const lines = 530; // 530 * (2^20 + 1) > 2^29
  const file = join(dir, 'big-print.js');
  writeFileSync(file, `const line = 'x'.repeat(${lineChars}); for (let i = 0; i < ${lines}; i++) print(line); print('last');\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/host262.ts'), file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let tail = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    tail = (tail + chunk.toString('latin1')).slice(-16);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // Before: RangeError: Invalid string length, and nothing on stdout.
  assert.equal(code, 0, stderr);
  assert.equal(bytes, lines * (lineChars + 1) + 'last\n'.length);
  assert.ok(tail.endsWith('x\nlast\n'), JSON.stringify(tail));
});

test('print output and the failure line: stdout has the prints in order, stderr the error, exit 1', async () => {
  const file = join(dir, 'fails.js');
  writeFileSync(file, "print('one'); print('two'); throw new TypeError('boom');\n");
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/host262.ts'), file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.equal(stdout, 'one\ntwo\n');
  assert.match(stderr, /^TypeError: boom$/m);
});
