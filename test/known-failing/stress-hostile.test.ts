// Hostile review of agentcluster/stress: each test is a finding that must be
// fixed (it fails on the code under review). Risky repros run in a child
// process so that a hang or crash fails the test instead of the runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs an ESM TypeScript snippet with tsx in a child; a hang is killed after timeoutMs. */
function child(source: string, timeoutMs: number) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

import { fixture, fixtures, runInChild } from '../support/stress-fixtures.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const counterLitmus = fixture('counter.mjs', `export default litmus({
  name: 'counter', state: { x: Int32Array },
  actors: [(s, r) => { r.a = Atomics.add(s.x, 0, 1); }, (s, r) => { r.b = Atomics.add(s.x, 0, 1); }],
  outcomes: { '0,1': 'ok', '1,0': 'ok' },
});`);


test('finding F3: a litmus actor with more than 8 result fields is rejected or fully graded, never silently truncated to 8', () => {
  // The 9th field carries a value no listed outcome has: the run must not grade 'ok'.
  const file = fixture('nine-fields.mjs', `export default litmus({
    name: 'nine-fields', state: { x: Int32Array },
    actors: [(s, r) => { r.a = 0; r.b = 0; r.c = 0; r.d = 0; r.e = 0; r.f = 0; r.g = 0; r.h = 0; r.i = 1; }],
    outcomes: { '0,0,0,0,0,0,0,0': 'ok', '0,0,0,0,0,0,0,0,0': 'ok' },
  });`);
  const r = runInChild(file, '{ iterations: 10 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  const rejected = out.thrown !== undefined || out.report.grade === 'error';
  assert.ok(rejected || out.report.grade === 'forbidden', `9th result field dropped, graded ${out.report?.grade}: ${r.stdout}`);
});

test('finding F4: a bigint result keeps its exact value in the outcome key (2^60 is graded by "1152921504606846976")', () => {
  const file = fixture('bigint.mjs', `export default litmus({
    name: 'bigint-exact', state: { x: BigInt64Array },
    actors: [(s, r) => { Atomics.store(s.x, 0, 2n ** 60n); r.a = Atomics.load(s.x, 0); }],
    outcomes: { [String(2n ** 60n)]: 'ok' },
  });`);
  const r = runInChild(file, '{ iterations: 10 }', 30_000);
  assert.equal(r.signal, null);
  const out = JSON.parse(r.stdout.trim());
  assert.deepEqual(out.report?.outcomes?.map((o: { outcome: string }) => o.outcome), [String(2n ** 60n)], r.stdout);
  assert.equal(out.report.grade, 'ok', r.stdout);
});

const cli = join(root, 'dist/src/cli/main.js');
function runCli(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [cli, 'stress', ...args], { cwd: root, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('finding F6: `agentcluster stress --json` prints one parseable JSON document on stdout even when the test file (host and agents) logs', () => {
  const file = fixture('logs.mjs', `console.log('hello from the test file');
export default litmus({
  name: 'logger', state: { x: Int32Array },
  actors: [(s, r) => { r.a = 1; }],
  outcomes: { '1': 'ok' },
});`);
  const r = runCli([file, '--json', '--iterations', '10', '--seed', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotThrow(() => JSON.parse(r.stdout), `stdout is not one JSON document:\n${r.stdout.slice(0, 200)}`);
});

test('finding F8: litmus state × --batch is bounded up front (a clear usage error), not gigabytes allocated then "Invalid typed array length: undefined"', () => {
  // Two 1024-element Float64 fields = 16 KiB per iteration; --batch 1048576 asks for 16 GiB of shared state.
  const file = fixture('big-state.mjs', `export default litmus({
    name: 'big-state', state: { a: { type: Float64Array, length: 1024 }, b: { type: Float64Array, length: 1024 } },
    actors: [(s, r) => { r.a = 1; }],
    outcomes: { '1': 'ok' },
  });`);
  const r = runCli([file, '--batch', '1048576', '--iterations', '1']);
  assert.doesNotMatch(r.stdout + r.stderr, /Invalid typed array length: undefined/);
  assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /batch|state/);
});
