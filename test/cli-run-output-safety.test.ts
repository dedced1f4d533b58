// `agentcluster run`: the output file is never the input or the module (by
// dev/ino, so a symlink or a hard link is caught too), and every option is
// checked before the output is opened (opening truncates it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/run.js';
import { capture } from './fixtures/capture.js';

let dir = '';
let job = '';
const tasks = '{"n": 1}\n{"n": 2}\n';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-run-safety-'));
  job = join(dir, 'square.mjs');
  writeFileSync(job, 'export default ({ n }) => ({ n, square: n * n });\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('-o the same file as -i: exit 2, the input is left whole', async () => {
  const input = join(dir, 'same.jsonl');
  writeFileSync(input, tasks);
  const stderr = capture();
  assert.equal(await main([job, '-n', '1', '-i', input, '-o', input], { stderr }), 2);
  assert.match(stderr.text, /--output .* is the same file as --input/);
  assert.equal(readFileSync(input, 'utf8'), tasks);
});

test('-o a symlink or a hard link to the input: exit 2, the input is left whole', async () => {
  const input = join(dir, 'linked.jsonl');
  writeFileSync(input, tasks);
  const soft = join(dir, 'soft.jsonl');
  const hard = join(dir, 'hard.jsonl');
  symlinkSync(input, soft);
  linkSync(input, hard);
  for (const output of [soft, hard, `${dir}/./linked.jsonl`]) {
    const stderr = capture();
    assert.equal(await main([job, '-n', '1', '-i', input, '-o', output], { stderr }), 2, output);
    assert.match(stderr.text, /is the same file as --input/);
    assert.equal(readFileSync(input, 'utf8'), tasks);
  }
});

test('-o the module file itself (or a link to it): exit 2, the module is left whole', async () => {
  const input = join(dir, 'tasks.jsonl');
  writeFileSync(input, tasks);
  const before = readFileSync(job, 'utf8');
  const link = join(dir, 'job-link.mjs');
  symlinkSync(job, link);
  for (const output of [job, link]) {
    const stderr = capture();
    assert.equal(await main([job, '-n', '1', '-i', input, '-o', output], { stderr }), 2);
    assert.match(stderr.text, /is the same file as the module/);
    assert.equal(readFileSync(job, 'utf8'), before);
  }
});

test('a bad --cpu-prof is reported before -o is opened: the old output is not truncated', async () => {
  const input = join(dir, 'tasks2.jsonl');
  writeFileSync(input, tasks);
  const output = join(dir, 'keep.jsonl');
  writeFileSync(output, 'previous results\n');
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'x');
  const stderr = capture();
  assert.equal(await main([job, '-n', '1', '-i', input, '-o', output, '--cpu-prof', join(blocker, 'profiles')], { stderr }), 2);
  assert.match(stderr.text, /cannot create --cpu-prof/);
  assert.equal(readFileSync(output, 'utf8'), 'previous results\n');
});

test('a module that does not load leaves the old output untouched (the output is opened last)', async () => {
  const input = join(dir, 'tasks3.jsonl');
  writeFileSync(input, tasks);
  const output = join(dir, 'keep2.jsonl');
  writeFileSync(output, 'previous results\n');
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, 'throw new Error("cannot load me");\n');
  const stderr = capture();
  assert.equal(await main([broken, '-n', '1', '-i', input, '-o', output], { stderr }), 1);
  assert.match(stderr.text, /cannot load me/);
  assert.equal(readFileSync(output, 'utf8'), 'previous results\n');
});

test('distinct input and output still run (the check does not refuse a new or a different file)', async () => {
  const input = join(dir, 'tasks4.jsonl');
  writeFileSync(input, tasks);
  const output = join(dir, 'new-out.jsonl');
  const own = join(dir, 'square2.mjs'); // its own module: a run above may have emptied the shared one on main
  writeFileSync(own, 'export default ({ n }) => ({ n, square: n * n });\n');
  const stderr = capture();
  assert.equal(await main([own, '-n', '1', '-i', input, '-o', output], { stderr }), 0, stderr.text);
  assert.deepEqual(readFileSync(output, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line)), [{ n: 1, square: 1 }, { n: 2, square: 4 }]);
});
