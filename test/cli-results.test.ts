// `agentcluster run` result lines: every value a job can return is written
// faithfully (tagged JSON, decoded by decodeResultLine) or as an explicit
// error line; nothing aborts the run or loses later lines and the summary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/run.js';
import { decodeResultLine, decodeValue, encodeResultLine, encodeValue, ResultEncodeError } from '../src/index.js';
import { capture } from './fixtures/capture.js';

const odd = fileURLToPath(new URL('./pool-fixtures/odd-results.mjs', import.meta.url));
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-cli-results-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function runKinds(kinds: string[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  return runTasks(kinds.map((kind) => ({ kind })));
}

async function runTasks(tasks: unknown[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  const input = join(dir, 'kinds.jsonl');
  const output = join(dir, 'kinds-out.jsonl');
  writeFileSync(input, tasks.map((task) => JSON.stringify(task)).join('\n') + '\n');
  const stderr = capture();
  const code = await main([odd, '-n', '2', '-i', input, '-o', output], { stderr });
  return { code, lines: readFileSync(output, 'utf8').trimEnd().split('\n'), stderr: stderr.text };
}

test('a BigInt result neither aborts the run nor loses later lines and the summary', async () => {
  const { code, lines, stderr } = await runKinds(['bigint', 'last', 'bigint', 'last']);
  assert.equal(code, 0, stderr);
  assert.equal(lines.length, 4);
  assert.deepEqual(decodeResultLine(lines[0]!), { ok: true, value: 10n ** 30n });
  assert.deepEqual(decodeResultLine(lines[1]!), { ok: true, value: { kind: 'last' } });
  assert.match(stderr, /4 tasks, 4 ok, 0 failed/);
});

test('Map, Uint8Array, NaN, -0, undefined, Date, RegExp, Set and sparse arrays round-trip', async () => {
  const { code, lines, stderr } = await runKinds(['map', 'u8', 'nan', 'undef', 'date', 'sparse']);
  assert.equal(code, 0, stderr);
  const values = lines.map((line) => {
    const decoded = decodeResultLine(line);
    assert.equal(decoded.ok, true, line);
    return (decoded as { value: unknown }).value;
  });
  assert.deepEqual(values[0], new Map([[1, { a: 1n }]]));
  assert.deepEqual(values[1], new Uint8Array([1, 2, 3]));
  const [nan, negZero, inf, undef] = values[2] as unknown[];
  assert.ok(Number.isNaN(nan));
  assert.ok(Object.is(negZero, -0));
  assert.equal(inf, Infinity);
  assert.equal(undef, undefined);
  assert.equal((values[2] as unknown[]).length, 4);
  assert.equal(values[3], undefined);
  const [epoch, invalid, regexp, set] = values[4] as [Date, Date, RegExp, Set<number>];
  assert.equal(epoch.getTime(), 0);
  assert.ok(Number.isNaN(invalid.getTime()));
  assert.equal(String(regexp), '/x/gi');
  assert.deepEqual(set, new Set([1]));
  const sparse = values[5] as unknown[] & { extra?: string };
  assert.equal(sparse.length, 3);
  assert.equal(1 in sparse, false);
  assert.equal(sparse.extra, 'x');
});

test('a result that looks like an error line or a tag is escaped and reads back as itself', async () => {
  const { code, lines } = await runKinds(['err', 'tag']);
  assert.equal(code, 0);
  assert.deepEqual(decodeResultLine(lines[0]!), { ok: true, value: { error: 'not a failure' } });
  assert.deepEqual(decodeResultLine(lines[1]!), { ok: true, value: { $type: 'bigint', value: '1' } });
});

test('a result that cannot be written faithfully (a cycle) is an explicit error line; the run goes on', async () => {
  const { code, lines, stderr } = await runKinds(['cycle', 'throwbig', 'last']);
  assert.equal(code, 1);
  const cycle = decodeResultLine(lines[0]!);
  assert.equal(cycle.ok, false);
  assert.equal((cycle as { error: { code: string } }).error.code, 'ERR_RUN_RESULT_NOT_ENCODABLE');
  assert.match((cycle as { error: { message: string } }).error.message, /line 1 .*cycle/);
  // A thrown error whose `code` is a BigInt: still one error line, code encoded.
  const thrown = decodeResultLine(lines[1]!) as { ok: false; error: { message: string; code: unknown } };
  assert.equal(thrown.ok, false);
  assert.equal(thrown.error.message, 'big');
  assert.equal(thrown.error.code, 5n, 'decodeResultLine decodes a tagged error code');
  assert.deepEqual(decodeResultLine(lines[2]!), { ok: true, value: { kind: 'last' } });
  assert.match(stderr, /3 tasks, 1 ok, 2 failed/);
});

test('encodeValue / decodeValue: plain JSON stays plain; every tagged kind round-trips', () => {
  const plain = { a: [1, 'two', null, true, { b: 2.5 }] };
  assert.equal(JSON.stringify(encodeValue(plain)), JSON.stringify(plain));
  const samples: unknown[] = [
    -0, NaN, -Infinity, undefined, 2n ** 70n, -5n, new Map([[{ k: 1 }, [undefined]]]), new Set(['a', 1n]),
    new Float64Array([1.5, NaN]), new BigInt64Array([-1n]), new DataView(new Uint8Array([9, 8]).buffer),
    new Uint8Array([1, 2, 3, 4]).subarray(1, 3), new ArrayBuffer(3), new Date(1e12), /a+/y,
    Object.assign(new RangeError('r'), { code: 'E_X' }), [1, , 3], { $type: 'object', value: 1 }, { nested: { $type: 'x' } },
  ];
  for (const sample of samples) {
    const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(sample))));
    if (sample instanceof Error) {
      assert.equal((back as Error).message, 'r');
      assert.equal((back as Error).name, 'RangeError');
      assert.equal((back as { code?: string }).code, 'E_X');
    } else if (typeof sample === 'number' && Number.isNaN(sample)) assert.ok(Number.isNaN(back));
    else if (sample instanceof Float64Array) assert.deepEqual([...(back as Float64Array)].map(String), ['1.5', 'NaN']);
    else if (sample instanceof DataView) assert.deepEqual([...new Uint8Array((back as DataView).buffer)], [9, 8]);
    else assert.deepEqual(back, sample, String(sample));
    if (Object.is(sample, -0)) assert.ok(Object.is(back, -0));
  }
  const sab = decodeValue(encodeValue(new SharedArrayBuffer(2)));
  assert.ok(sab instanceof SharedArrayBuffer);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => encodeResultLine(cyclic), (error: unknown) => error instanceof ResultEncodeError && error.code === 'ERR_RUN_RESULT_NOT_ENCODABLE');
  class Point {
    x = 1;
  }
  assert.throws(() => encodeValue(new Point()), /class Point/);
  // An own "__proto__" key (JSON.parse makes one) is kept as a key, not taken for the prototype.
  const proto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
  const protoBack = decodeValue(JSON.parse(JSON.stringify(encodeValue(proto)))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(protoBack), ['__proto__', 'y']);
  assert.equal(Object.getPrototypeOf(protoBack), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(protoBack, '__proto__')?.value, { x: 1 });
  // Shared (non-cyclic) references are fine: written twice.
  const shared = { s: 1 };
  assert.deepEqual(decodeValue(encodeValue([shared, shared])), [{ s: 1 }, { s: 1 }]);
  assert.throws(() => decodeValue({ $type: 'nope' }), /unknown \$type "nope"/);
});

test('--input naming a pipe (a FIFO, /dev/stdin) runs every line: the progress count does not drain it first', async () => {
  const fifo = join(dir, 'tasks.fifo');
  execFileSync('mkfifo', [fifo]);
  const output = join(dir, 'fifo-out.jsonl');
  const stderr = capture();
  // The writer opens the FIFO once and writes three tasks; the run must read them all.
  const writer = createWriteStream(fifo);
  writer.end('{"kind":"a"}\n{"kind":"b"}\n{"kind":"c"}\n');
  const code = await main([odd, '-n', '1', '-i', fifo, '-o', output], { stderr });
  assert.equal(code, 0, stderr.text);
  assert.deepEqual(readFileSync(output, 'utf8').trimEnd().split('\n').map((line) => decodeResultLine(line)), [
    { ok: true, value: { kind: 'a' } },
    { ok: true, value: { kind: 'b' } },
    { ok: true, value: { kind: 'c' } },
  ]);
  assert.match(stderr.text, /3 tasks, 3 ok/);
});

test('a huge BigInt is written in linear time (hex past 2^65536) and decodes back; negative too', () => {
  // V8's decimal conversion is superlinear (16M bits took 10 s; the largest BigInt would take hours): big ones go as hex.
  const huge = 1n << 100_000n;
  const line = encodeResultLine([huge, -huge - 5n, 123n, -7n]);
  assert.match(line, /"value":"0x1/);
  assert.deepEqual(decodeResultLine(line), { ok: true, value: [huge, -huge - 5n, 123n, -7n] });
  assert.match(encodeResultLine(-7n), /"value":"-7"/, 'small ones stay decimal');
});

test('--output failing with ENOSPC (/dev/full) ends the run with the summary and code 1 (it ended silently with code 0)', { skip: process.platform !== 'linux' }, async () => {
  const input = join(dir, 'full-in.jsonl');
  writeFileSync(input, Array.from({ length: 50 }, (_, i) => JSON.stringify({ kind: 'n', i })).join('\n') + '\n');
  const stderr = capture();
  const code = await main([odd, '-n', '1', '-i', input, '-o', '/dev/full'], { stderr });
  assert.equal(code, 1);
  assert.match(stderr.text, /the output closed \(ENOSPC\)/);
  assert.match(stderr.text, /tasks, .* ok/);
});

// ~1.7 GB and ~30 s: opt-in (AGENTCLUSTER_HEAVY_TESTS=1).
test('a result whose JSON is V8\'s longest string gets an error line; the later lines and the summary are kept (the run died with a RangeError)', { skip: process.env.AGENTCLUSTER_HEAVY_TESTS !== '1' }, async () => {
  const { constants } = await import('node:buffer');
  const { code, lines, stderr } = await runTasks([{ kind: 'a' }, { kind: 'longest', n: constants.MAX_STRING_LENGTH - 2 }, { kind: 'b' }]);
  assert.equal(code, 1);
  assert.equal(lines.length, 3);
  assert.deepEqual(decodeResultLine(lines[0]!), { ok: true, value: { kind: 'a' } });
  assert.equal((decodeResultLine(lines[1]!) as { error: { code: string } }).error.code, 'ERR_RUN_RESULT_NOT_ENCODABLE');
  assert.deepEqual(decodeResultLine(lines[2]!), { ok: true, value: { kind: 'b' } });
  assert.match(stderr, /3 tasks, 2 ok, 1 failed/);
});
