// Every CLI (agentcluster, agentcluster run, agentcluster test262,
// agentcluster-262): misuse gets a clear message and a non-zero exit; a
// reader that closes the pipe early ends the process quietly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as runMain } from '../src/cli/run.js';
import { runNode } from '../stress/lib/child.js';
import { capture } from './fixtures/capture.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'src/cli/main.ts');
const host262 = join(repo, 'src/cli/host262.ts');
const square = fileURLToPath(new URL('./pool-fixtures/square.mjs', import.meta.url));
const test262Dir = process.env.TEST262_DIR ?? join(repo, '..', 'shared', 'test262');

test('agentcluster: an unknown command or option is named, exit 2; --help and --version exit 0', async () => {
  const unknown = await runNode(['--import', 'tsx', cli, 'frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const option = await runNode(['--import', 'tsx', cli, '--frob']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /unknown option '--frob'/);
  const none = await runNode(['--import', 'tsx', cli]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing <command>/);
  const help = await runNode(['--import', 'tsx', cli, '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: agentcluster <command>/);
  const version = await runNode(['--import', 'tsx', cli, '--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

test('agentcluster-262 --help prints its usage instead of opening a file named --help; bad flags exit 2', async () => {
  const help = await runNode(['--import', 'tsx', host262, '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /usage: agentcluster-262 \[--module\] <file>/);
  assert.doesNotMatch(help.stderr, /ENOENT/);
  const unknown = await runNode(['--import', 'tsx', host262, '--strict', 'x.js']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--strict'/);
  const two = await runNode(['--import', 'tsx', host262, 'a.js', 'b.js']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /one file at a time/);
  const missing = await runNode(['--import', 'tsx', host262, join(tmpdir(), 'agentcluster-no-such-file.js')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*agentcluster-no-such-file\.js/);
});

/** Spawns `node args`, reads its first stdout chunk, then closes the pipe (as `| head -1` does). */
function closeAfterFirstChunk(args: string[], stdin?: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, env: { ...process.env, TEST262_DIR: test262Dir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

test('agentcluster test262 --list | head: a closed stdout ends the listing quietly (no EPIPE stack)', async () => {
  const result = await closeAfterFirstChunk(['--import', 'tsx', cli, 'test262', '--list', 'built-ins']);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /EPIPE|Error/);
});

test('agentcluster run | head: a closed stdout stops the run with a summary saying so, no stack', async () => {
  const tasks = Array.from({ length: 20_000 }, (_, n) => JSON.stringify({ n })).join('\n') + '\n';
  const result = await closeAfterFirstChunk(['--import', 'tsx', cli, 'run', square, '-n', '1'], tasks);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /the output closed \(EPIPE\) after \d+ result lines?; the run stopped/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('agentcluster run: every flag misuse is a usage error (exit 2) with a message naming it', async () => {
  const cases: [string[], RegExp][] = [
    [[square, '--agents', '0'], /--agents must be a whole number from 1 to 1024, not "0"/],
    [[square, '--agents', '-1'], /--agents/],
    [[square, '--agents', 'abc'], /--agents must be a whole number from 1 to 1024, not "abc"/],
    [[square, '--agents', '1.5'], /not "1\.5"/],
    [[square, '--agents', '0x2'], /not "0x2"/],
    [[square, '--agents', '100000'], /--agents must be a whole number from 1 to 1024, not "100000"/],
    [[square, '--agents', ''], /--agents needs a value|--agents must be/],
    [[square, '--agents'], /argument missing/],
    [[square, '-n', '2', '--agents', '3'], /given more than once/],
    [[square, '--frob'], /Unknown option '--frob'/],
    [[square, '--output='], /--output needs a value/],
    [[square, '--input', '--output', 'x'], /--input/],
    [[square, 'extra'], /unexpected arguments: extra/],
    [[], /missing <module>/],
    [[square, '--input', join(tmpdir(), 'agentcluster-no-such-input.jsonl')], /cannot read --input/],
    [[square, '--output', join(tmpdir(), 'agentcluster-no-such-dir', 'out.jsonl')], /cannot write --output/],
  ];
  for (const [args, message] of cases) {
    const stderr = capture();
    assert.equal(await runMain(args, { stderr, stdin: undefined }), 2, `${args.join(' ')}: ${stderr.text}`);
    assert.match(stderr.text, message, args.join(' '));
    assert.doesNotMatch(stderr.text, /\n\s+at /);
  }
});

test('agentcluster test262: bad numbers, repeated or empty flags and conflicting flags exit 2', async () => {
  const { main } = await import('../test262/runner/cli.js');
  const executor = { run: () => Promise.reject(new Error('not used')) } as never;
  const dir = mkdtempSync(join(tmpdir(), 'agentcluster-cli-args-'));
  try {
    writeFileSync(join(dir, 'exp.txt'), '');
    const cases: [string[], RegExp][] = [
      [['--threads', '1e3'], /--threads must be a positive integer, got "1e3"/],
      [['--threads', '0'], /--threads must be a positive integer/],
      [['--timeout', '2.5'], /--timeout must be a positive integer/],
      [['--timeout', '9999999999'], /--timeout must be at most 2147483647/],
      [['--threads', '2', '-t', '3'], /given more than once/],
      [['--json-out='], /--json-out needs a value/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['--reporter', 'tap'], /unknown reporter "tap"/],
      [['--no-expectations', '--expectations', join(dir, 'exp.txt')], /cannot be combined/],
      [['--test262', join(dir, 'nowhere')], /does not look like a test262 checkout/],
      [['--test262', test262Dir, '--json-out', dir, 'built-ins/Atomics/Symbol.toStringTag.js'], /EISDIR|illegal operation/],
    ];
    for (const [args, message] of cases) {
      const stderr = capture();
      const code = await main(args, executor, { stdout: capture() as never, stderr: stderr as never, env: { TEST262_DIR: test262Dir }, cwd: repo });
      assert.equal(code, 2, `${args.join(' ')}: ${stderr.text}`);
      assert.match(stderr.text, message, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
