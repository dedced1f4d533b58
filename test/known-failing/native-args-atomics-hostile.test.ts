// Hostile review (native argument checks, atomics SharedRegion): each finding
// runs in a child process, so a crash cannot take the runner down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runChild(kind: 'cjs' | 'mjs', source: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [`--input-type=${kind === 'cjs' ? 'commonjs' : 'module'}`, '-e', source], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('finding F1: AgentHandle accessors on a foreign receiver throw an error with a stable code', () => {
  const { status, out } = runChild(
    'cjs',
    `const a = require('./build/Release/agentcluster.node');
     const results = [];
     for (const name of ['threadId', 'bufferedMessages', 'bufferedBytes']) {
       const get = Object.getOwnPropertyDescriptor(a.AgentHandle.prototype, name).get;
       try { get.call({}); results.push(name + ':no-throw'); }
       catch (e) { results.push(name + ':' + (e instanceof TypeError) + ':' + e.code); }
     }
     console.log(JSON.stringify(results));`,
  );
  assert.equal(status, 0, out);
  const results = JSON.parse(out.trim().split('\n').pop() as string) as string[];
  for (const r of results) {
    // Today: a plain Error "Invalid argument" with no code (napi_unwrap's status).
    assert.match(r, /:true:ERR_[A-Z_]+$/, `accessor ${r} must throw a coded TypeError`);
  }
});

test('finding F2: SharedQueue<bytes>.push of a view on a detached buffer throws an AtomicsError with a code', () => {
  const { status, out } = runChild(
    'mjs',
    `const { SharedQueue } = await import('./dist/src/atomics/index.js');
     const q = new SharedQueue({ capacity: 1, kind: 'bytes', chunkBytes: 8 });
     const ab = new ArrayBuffer(4);
     const view = new Uint8Array(ab);
     structuredClone(ab, { transfer: [ab] });
     try { q.push(view); console.log('pushed size=' + q.size); }
     catch (e) { console.log('code=' + e.code + ' name=' + e.name); }`,
  );
  assert.equal(status, 0, out);
  // Today: "TypeError: Cannot perform Construct on a detached ArrayBuffer", code undefined.
  assert.match(out, /code=ERR_[A-Z_]+ name=AtomicsError/, out);
});

test('finding F3: AgentHandle.diagnostics("post") refuses a NaN kind/id instead of posting request id 0', () => {
  const { status, out } = runChild(
    'cjs',
    `const a = require('./build/Release/agentcluster.node');
     const h = new a.AgentHandle({ source: '' }, () => {});
     const r = [h.diagnostics('post', NaN, 1), h.diagnostics('post', 0, NaN)];
     h.terminate();
     console.log(JSON.stringify(r));`,
  );
  assert.equal(status, 0, out);
  // Today: [true,true] — NaN passes "kind < 0 || kind > 3 || id < 1 || ..." and is cast (UB) to 0.
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), [false, false], out);
});
