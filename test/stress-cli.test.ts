// `agentcluster stress` on files of a dependent project: a temp dir with its
// own package.json, its own module and an npm package, and agentcluster
// linked into node_modules as an installed dependency would be.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../src/cli/stress.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
let project: string;

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

before(() => {
  project = mkdtempSync(join(tmpdir(), 'agentcluster-stress-dep-'));
  write(join(project, 'package.json'), JSON.stringify({ name: 'dep-project', type: 'module', dependencies: { agentcluster: '*', 'tiny-offset': '1.0.0' } }));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(root, join(project, 'node_modules/agentcluster'), 'dir');
  // An npm package with an export map, as installed.
  write(join(project, 'node_modules/tiny-offset/package.json'), JSON.stringify({ name: 'tiny-offset', version: '1.0.0', type: 'module', exports: { '.': './index.js' } }));
  write(join(project, 'node_modules/tiny-offset/index.js'), 'export const offset = (n) => n + 100;\n');
  // The project's own code.
  write(join(project, 'lib/counter.js'), 'export function bump(view) { return Atomics.add(view, 0, 1); }\n');
  write(join(project, 'stress/counter.stress.js'), `import { litmus } from 'agentcluster/stress';
import { offset } from 'tiny-offset';
import { bump } from '../lib/counter.js';
export default litmus({
  name: 'own code and an npm package',
  state: { n: Int32Array },
  actors: [(s, r) => { r.a = offset(bump(s.n)); }, (s, r) => { r.b = offset(bump(s.n)); }],
  arbiter: (s, r) => { r.n = s.n[0]; },
  outcomes: { '100,101,2': 'ok', '101,100,2': 'ok' },
});
`);
  write(join(project, 'stress/broken.stress.js'), `import { litmus } from 'agentcluster/stress';
export const lostUpdate = litmus({
  name: 'plain increments graded as if atomic',
  state: { n: Int32Array },
  actors: [(s) => { s.n[0] = s.n[0] + 1; }, (s) => { s.n[0] = s.n[0] + 1; }],
  arbiter: (s, r) => { r.n = s.n[0]; },
  outcomes: { '2': 'ok' },
});
export const alwaysBad = litmus({
  name: 'an outcome nobody listed',
  state: { n: Int32Array },
  actors: [(s, r) => { r.v = 3; }],
  outcomes: { '0': 'ok' },
});
`);
});

after(() => rmSync(project, { recursive: true, force: true }));

function stress(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'stress', ...args], { cwd: project }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('runs a dependent project\'s test file that imports its own code and an npm package', async () => {
  const { code, stdout, stderr } = await stress(['stress/counter.stress.js', '--iterations', '5000', '--seed', '11', '--json']);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.equal(out.seed, 11);
  assert.equal(out.ok, true);
  const [report] = out.reports;
  assert.equal(report.name, 'own code and an npm package');
  assert.deepEqual(report.fields, ['a', 'b', 'n']);
  assert.equal(report.outcomes.reduce((sum: number, o: { count: number }) => sum + o.count, 0), report.iterations);
  assert.ok(report.outcomes.every((o: { grade: string }) => o.grade === 'ok'));
});

test('exits 1 on a forbidden outcome and names the seed and the iteration', async () => {
  const { code, stdout } = await stress(['stress/broken.stress.js', '--iterations', '2048', '--seed', '5', '--filter', 'alwaysBad']);
  assert.equal(code, 1);
  assert.match(stdout, /^FORBIDDEN +an outcome nobody listed/m);
  assert.match(stdout, /first forbidden outcome 3 at iteration 0 \(--seed 5\)/);
  assert.match(stdout, /1 tests, 1 failed: alwaysBad/);
});

test('text output is a histogram per test; --filter picks tests', async () => {
  const { code, stdout } = await stress(['stress/counter.stress.js', '--duration', '200ms']);
  assert.equal(code, 0);
  assert.match(stdout, /^agentcluster stress: seed \d+$/m);
  assert.match(stdout, /^OK +own code and an npm package/m);
  assert.match(stdout, /outcome \(a, b, n\)/);
  assert.match(stdout, /^ +10[01],10[01],2 +\d+ +ok$/m);
});

test('usage errors exit 2 with a clear message', async () => {
  for (const [args, message] of [
    [[], /missing FILE/],
    [['nope.js'], /no such file nope\.js/],
    [['stress/counter.stress.js', '--duration', 'soon'], /--duration must be a number/],
    [['stress/counter.stress.js', '--seed', '-1'], /--seed/],
    [['stress/counter.stress.js', '--agents', '0'], /--agents must be/],
    [['--suite', 'nope'], /unknown --suite "nope"/],
    [['stress/counter.stress.js', '--bogus'], /Unknown option '--bogus'/],
  ] as Array<[string[], RegExp]>) {
    const { code, stderr } = await stress(args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, message, args.join(' '));
  }
});

test('a file that exports no tests fails with ERR_STRESS_NO_TESTS text', async () => {
  const { code, stderr } = await stress(['lib/counter.js']);
  assert.equal(code, 1);
  assert.match(stderr, /exports no litmus\(\) or linearizable\(\) test/);
});

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.equal(parseDuration('1m'), 60_000);
  assert.throws(() => parseDuration('0ms'));
});
