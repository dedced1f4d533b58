// `agentcluster run`: JSONL in, JSONL out in input order, progress and
// summary on stderr, exit code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/run.js';
import { capture } from './fixtures/capture.js';

const job = fileURLToPath(new URL('./pool-fixtures/square.mjs', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-cli-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('results are written in input order; the exit code is 0 when all succeed', async () => {
  const input = join(dir, 'tasks.jsonl');
  const output = join(dir, 'results.jsonl');
  const count = 300;
  writeFileSync(input, Array.from({ length: count }, (_, i) => JSON.stringify({ n: i })).join('\n') + '\n\n');
  const stderr = capture();
  const code = await main([job, '--agents', '2', '--input', input, '--output', output], { stderr });
  assert.equal(code, 0);
  const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, count);
  lines.forEach((line, i) => assert.deepEqual(JSON.parse(line), { n: i, square: i * i }));
  assert.match(stderr.text, /300 tasks, 300 ok, 0 failed/);
  assert.match(stderr.text, /on 2 agents/);
});

test('failed tasks and bad JSON lines give error lines in place and exit code 1', async () => {
  const input = join(dir, 'mixed.jsonl');
  const output = join(dir, 'mixed-out.jsonl');
  writeFileSync(input, ['{"n": 2}', '{"n": "x"}', 'not json', '{"n": 3}'].join('\n'));
  const stderr = capture();
  const code = await main([job, '-n', '1', '-i', input, '-o', output], { stderr });
  assert.equal(code, 1);
  const lines = readFileSync(output, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines[0], { n: 2, square: 4 });
  assert.deepEqual(lines[1], { error: { name: 'TypeError', message: 'n must be a number' } });
  assert.equal(lines[2].error.name, 'SyntaxError');
  assert.match(lines[2].error.message, /line 3 is not JSON/);
  assert.deepEqual(lines[3], { n: 3, square: 9 });
  assert.match(stderr.text, /4 tasks, 2 ok, 2 failed/);
  assert.match(stderr.text, /line 2: n must be a number/);
});

test('usage errors exit with 2; a module that does not load exits with 1', async () => {
  const stderr = capture();
  assert.equal(await main([], { stderr }), 2);
  assert.match(stderr.text, /missing <module>/);
  assert.equal(await main([job, '--agents', 'zero'], { stderr: capture() }), 2);
  assert.equal(await main([job, '--input', join(dir, 'missing.jsonl')], { stderr: capture() }), 2);
  assert.equal(await main(['--help'], { stderr: capture() }), 0);
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, 'throw new Error("cannot load me");');
  const err = capture();
  assert.equal(await main([broken, '-i', join(dir, 'tasks.jsonl'), '-o', join(dir, 'x.jsonl')], { stderr: err }), 1);
  assert.match(err.text, /cannot load me/);
});

test('the bin reads stdin and writes stdout (node src/cli/main.ts run ...)', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'run', job, '--agents', '2'],
      { cwd: repo, timeout: 30_000 },
      (error, out, err) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout: out, stderr: err });
      },
    );
    child.stdin!.end('{"n": 5}\n{"n": 6}\n');
  });
  assert.equal(code, 0, stderr);
  assert.deepEqual(stdout.trim().split('\n').map((line) => JSON.parse(line)), [{ n: 5, square: 25 }, { n: 6, square: 36 }]);
  assert.match(stderr, /2 tasks, 2 ok, 0 failed/);
});

test('empty input and blank lines: 0 tasks, exit 0; a missing module file is a usage error', async () => {
  for (const text of ['', '\n\n   \n\t\n']) {
    const stdout = capture();
    const stderr = capture();
    const code = await main([job, '-n', '1'], { stdin: Readable.from([Buffer.from(text)]), stdout, stderr });
    assert.equal(code, 0, stderr.text);
    assert.equal(stdout.text, '');
    assert.match(stderr.text, /0 tasks, 0 ok, 0 failed/);
  }
  const stderr = capture();
  assert.equal(await main([join(dir, 'no-such-job.mjs')], { stderr }), 2);
  assert.match(stderr.text, /no module file .*no-such-job\.mjs/);
});

test('input lines: BOM and CRLF are fine; non-UTF-8 and over-long lines are per-line errors, later lines still run', async () => {
  const stdout = capture();
  const stderr = capture();
  const input = Buffer.concat([
    Buffer.from('\ufeff{"n": 1}\r\n'),
    Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0xff, 0xfe, 0x7d, 0x0a]), // {"n":\xff\xfe}
    Buffer.from(`{"n": 2, "pad": "${'x'.repeat(200)}"}\n`),
    Buffer.from('{"n": 3}'), // no final newline
  ]);
  // Split the input at awkward places (inside a line, inside the CRLF).
  const chunks = [input.subarray(0, 5), input.subarray(5, 13), input.subarray(13, 100), input.subarray(100)];
  const code = await main([job, '-n', '1'], { stdin: Readable.from(chunks), stdout, stderr, maxLineBytes: 128 });
  assert.equal(code, 1);
  const lines = stdout.text.trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, 4);
  assert.deepEqual(lines[0], { n: 1, square: 1 });
  assert.deepEqual(lines[1], { error: { name: 'SyntaxError', message: 'line 2 is not valid UTF-8', code: 'ERR_RUN_BAD_INPUT_LINE' } });
  assert.deepEqual(lines[2], { error: { name: 'SyntaxError', message: 'line 3 is longer than 128 bytes', code: 'ERR_RUN_BAD_INPUT_LINE' } });
  assert.deepEqual(lines[3], { n: 3, square: 9 });
  assert.match(stderr.text, /4 tasks, 2 ok, 2 failed/);
});

test('an input that fails mid-way: the lines read are still written, then the summary and exit 1', async () => {
  const stdout = capture();
  const stderr = capture();
  async function* failing() {
    yield Buffer.from('{"n": 4}\n{"n": 5}\n');
    throw new Error('disk on fire');
  }
  const code = await main([job, '-n', '1'], { stdin: Readable.from(failing()), stdout, stderr });
  assert.equal(code, 1);
  assert.deepEqual(stdout.text.trimEnd().split('\n').map((line) => JSON.parse(line)), [{ n: 4, square: 16 }, { n: 5, square: 25 }]);
  assert.match(stderr.text, /2 tasks, 2 ok, 0 failed/);
  assert.match(stderr.text, /reading the input failed: disk on fire/);
});

test('an output that fails (EPIPE) stops the run without hanging, with a summary saying so', async () => {
  const stderr = capture();
  let writes = 0;
  const stdout = new Writable({
    highWaterMark: 64,
    write(_chunk, _encoding, done) {
      if (++writes === 3) done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      else done();
    },
  });
  const tasks = Array.from({ length: 5000 }, (_, n) => JSON.stringify({ n })).join('\n');
  const code = await main([job, '-n', '1'], { stdin: Readable.from([Buffer.from(tasks)]), stdout, stderr });
  assert.equal(code, 1);
  assert.match(stderr.text, /the output closed \(EPIPE\) after \d+ result lines; the run stopped/);
});
