// terminate() while V8 completes a module graph with top-level await, and
// what the async module marker (native/agent/async_parent_marker.h, V8 12+)
// must leave as it was: values, order of module bodies, locations, a
// synchronous graph staying synchronous. The termination cases run in child
// processes: before the marker, V8 12+ aborted the whole process there.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeChild, runFixture, spawnAgent, terminateAll } from './support/agents.js';
import { nextMessage, once } from './support/waits.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-tla-marker-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(terminateAll);

function files(prefix: string, texts: Record<string, string>): URL {
  for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, `${prefix}-${name}`), text.replaceAll('./', `./${prefix}-`));
  return pathToFileURL(join(dir, `${prefix}-entry.mjs`));
}

test('terminate() in the body of a synchronous importer of a top-level-await module stops it; the process lives', async () => {
  const result = await runFixture('tla-terminate-host.ts', ['importers'], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, describeChild(result));
  assert.deepEqual(result.stdout.trim().split('\n'), [
    'spin terminated',
    'calls terminated',
    'two-levels-up terminated',
    'atomics-wait terminated',
    'dynamic-import terminated',
  ]);
});

test('terminate() at random moments while a chain of awaiting and synchronous modules completes never aborts the process', async () => {
  const children = Number(process.env.TLA_TERMINATE_CHILDREN ?? 4);
  for (let c = 0; c < children; c++) {
    const result = await runFixture('tla-terminate-host.ts', ['rounds', '20'], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, `child ${c}: ${describeChild(result)}`);
    assert.equal(result.stdout.trim(), 'rounds 20 done');
  }
});

test('terminate() still stops a top-level-await module spinning after its await, and one whose importer waits on it', async () => {
  const entry = files('own-spin', { 'spin.mjs': "await 0;\npostMessage('spinning');\nwhile (true) {}\n", 'entry.mjs': "import './spin.mjs';\n" });
  for (const url of [new URL(entry.href.replace('entry.mjs', 'spin.mjs')), entry]) {
    const agent = spawnAgent({ file: url });
    assert.equal(await nextMessage(agent), 'spinning');
    const info = await agent.terminate();
    assert.equal(info.reason, 'terminated');
  }
});

test('a graph with top-level await: module bodies in the same order, values and import.meta as before', async () => {
  // entry -> a (sync) -> t (awaits) -> leaf (sync); entry -> b (sync, no async dependency)
  const entry = files('order', {
    'leaf.mjs': "globalThis.log = ['leaf'];\nexport const leaf = 1;\n",
    't.mjs': "import { leaf } from './leaf.mjs';\nlog.push('t before await');\nawait new Promise((r) => setTimeout(r, 5));\nlog.push('t after await');\nexport const t = leaf + 1;\n",
    'a.mjs': "import { t } from './t.mjs';\nlog.push('a');\nexport const a = t + 1;\nexport const url = import.meta.url;\n",
    'b.mjs': "log.push('b');\nexport const b = 10;\n",
    'entry.mjs': "import { a, url } from './a.mjs';\nimport { b } from './b.mjs';\nlog.push('entry');\npostMessage({ log, a, b, url });\n",
  });
  const agent = spawnAgent({ file: entry });
  const reply = await nextMessage<{ log: string[]; a: number; b: number; url: string }>(agent);
  await agent.ready;
  assert.deepEqual(reply.log, ['leaf', 't before await', 'b', 't after await', 'a', 'entry']);
  assert.equal(reply.a, 3);
  assert.equal(reply.b, 10);
  assert.equal(reply.url, entry.href.replace('entry.mjs', 'a.mjs'));
});

test('an error thrown in a synchronous importer after its dependency awaited keeps its line and column', async () => {
  const entry = files('where', {
    't.mjs': 'await 0;\n',
    'entry.mjs': "import './t.mjs';\nconst x = 1;\n  throw new RangeError('from the importer ' + x);\n",
  });
  const agent = spawnAgent({ file: entry });
  const [error] = await once<[Error]>(agent, 'error');
  assert.equal(error.message, 'from the importer 1');
  assert.match(error.stack ?? '', new RegExp(`${entry.href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:9`));
  await assert.rejects(agent.ready);
});

test('a graph without top-level await stays synchronous: importers run before any promise job', async () => {
  const entry = files('sync', {
    'leaf.mjs': "globalThis.log = [];\nPromise.resolve().then(() => log.push('job'));\nlog.push('leaf');\n",
    'mid.mjs': "import './leaf.mjs';\nlog.push('mid');\n",
    'entry.mjs': "import './mid.mjs';\nlog.push('entry');\nsetTimeout(() => postMessage(log), 0);\n",
  });
  const agent = spawnAgent({ file: entry });
  assert.deepEqual(await nextMessage(agent), ['leaf', 'mid', 'entry', 'job']);
});

test('promise jobs against importers of an awaited module: the spec order on V8 11, one job per importer later on V8 12+', async () => {
  const entry = files('ticks', {
    't.mjs': "globalThis.log = [];\nawait 0;\nlet n = 0;\nconst tick = () => { log.push(`tick ${n++}`); if (n < 4) Promise.resolve().then(tick); };\nPromise.resolve().then(tick);\nlog.push('t');\n",
    'm.mjs': "import './t.mjs';\nlog.push('m');\n",
    'p.mjs': "import './m.mjs';\nlog.push('p');\n",
    'entry.mjs': "import './p.mjs';\nlog.push('entry');\nsetTimeout(() => postMessage(log), 5);\n",
  });
  const agent = spawnAgent({ file: entry });
  const marked = Number(process.versions.v8.split('.')[0]) >= 12; // native/agent/async_parent_marker.h
  assert.deepEqual(
    await nextMessage(agent),
    marked
      ? ['t', 'tick 0', 'm', 'tick 1', 'p', 'tick 2', 'entry', 'tick 3']
      : ['t', 'tick 0', 'm', 'p', 'entry', 'tick 1', 'tick 2', 'tick 3'],
  );
});
