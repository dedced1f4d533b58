// Where errors point: a SyntaxError in a module or script names its file,
// line and column (and the modules that imported it); frames of `source`
// text with no file say agentcluster:source/NAME, of evaluate() text
// agentcluster:evaluate/NAME, never an invented file: URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { Agent, AgentPool } from '../src/index.js';
import { main as runMain } from '../src/cli/run.js';

let dir = '';
let job = '';
let bad = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-locations-'));
  mkdirSync(join(dir, 'lib'));
  job = join(dir, 'job.mjs');
  bad = join(dir, 'lib', 'bad.mjs');
  writeFileSync(job, 'import { x } from "./lib/bad.mjs";\nexport default () => x;\n');
  writeFileSync(bad, 'export const x = 1;\nexport function f() {\n  return 1 +* 2;\n}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const badUrl = () => pathToFileURL(bad).href;
const jobUrl = () => pathToFileURL(job).href;

test('a job file with a syntax error: the pool error names the file, line and column and the import chain', async () => {
  const pool = new AgentPool({ filename: job, minAgents: 1, maxAgents: 1 });
  try {
    const error = await pool.ready.then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof Error);
    const cause = error.cause as Error;
    assert.equal(cause.name, 'SyntaxError');
    assert.equal(cause.message, `Unexpected token '*' (${badUrl()}:3:13, imported by ${jobUrl()})`);
    assert.match(cause.stack ?? '', new RegExp(`\\n    at ${badUrl().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:13`));
  } finally {
    await pool.destroy();
  }
});

test('agentcluster run on that job reports the location', async () => {
  let text = '';
  const stderr = new Writable({
    write(chunk, _e, done) {
      text += String(chunk);
      done();
    },
  });
  assert.equal(await runMain([job, '-n', '1', '-i', job], { stderr }), 1);
  assert.match(text, /cannot load .*Unexpected token '\*' \(file:\/\/.*\/lib\/bad\.mjs:3:13, imported by file:\/\/.*\/job\.mjs\)/);
});

test('an agent from a file, a source module and a classic source script: SyntaxErrors say where', async () => {
  const file = new Agent({ file: bad });
  const fileError = await file.ready.then(() => undefined, (e: Error) => e);
  await file.exited;
  assert.equal(fileError?.message, `Unexpected token '*' (${badUrl()}:3:13)`);

  const moduleSource = new Agent({ source: 'export const a = 1;\nexport const a = 2;', type: 'module', name: 'dup' });
  const moduleError = await moduleSource.ready.then(() => undefined, (e: Error) => e);
  await moduleSource.exited;
  assert.match(moduleError?.message ?? '', /\(agentcluster:source\/dup:2:14\)$/);

  const script = new Agent({ source: 'let a = 1;\nlet a = 2;', type: 'classic', name: 'my script' });
  const scriptError = await script.ready.then(() => undefined, (e: Error) => e);
  await script.exited;
  assert.match(scriptError?.message ?? '', /\(agentcluster:source\/my%20script:2:5\)$/);
});

test('stacks of source agents and evaluate() text show agentcluster: pseudo-URLs, not invented file: URLs', async () => {
  const agent = new Agent({ source: 'function thrower() { throw new Error("from source"); }\nonmessage = () => thrower();', name: 'src1' });
  try {
    await agent.ready;
    const thrown = await agent.evaluate('thrower()').then(() => undefined, (e: Error) => e);
    assert.match(thrown?.stack ?? '', /at thrower \(agentcluster:source\/src1:1:28\)/);
    assert.match(thrown?.stack ?? '', /agentcluster:evaluate\/src1:1:1/);
    assert.doesNotMatch(thrown?.stack ?? '', /%5B|file:/);
    const syntax = await agent.evaluate('1 +* 2').then(() => undefined, (e: Error) => e);
    assert.equal(syntax?.message, "Unexpected token '*' (agentcluster:evaluate/src1:1:4)");
  } finally {
    await agent.terminate();
  }
  // Pool agents run a source bootstrap: its frames are named too.
  const pool = new AgentPool({ source: 'export default () => { throw new Error("job failed"); }', minAgents: 1, maxAgents: 1 });
  try {
    const error = await pool.run(1).then(() => undefined, (e: Error) => e);
    assert.doesNotMatch(error?.stack ?? '', /%5B/);
    assert.match(error?.stack ?? '', /agentcluster:source\/pool\d+-agent\d+:\d+:\d+/);
  } finally {
    await pool.destroy();
  }
});

test('a source with a filename names that file; relative imports of pseudo-URL sources still resolve', async () => {
  const named = new Agent({ source: 'let a = 1;\nlet a = 2;', type: 'classic', filename: join(dir, 'user-file.js') });
  const error = await named.ready.then(() => undefined, (e: Error) => e);
  await named.exited;
  assert.equal(error?.message, `Identifier 'a' has already been declared (${pathToFileURL(join(dir, 'user-file.js')).href}:2:5)`);
  // The file exists before the agent starts: written after, a fast agent could read it half-written.
  writeFileSync(join(dir, 'lib', 'ok.mjs'), 'export const v = 7;');
  const importer = new Agent({ source: `import(${JSON.stringify(pathToFileURL(join(dir, 'lib', 'ok.mjs')).href)}).then((m) => postMessage(m.v), (e) => postMessage(String(e)));`, name: 'imp' });
  try {
    const got = await new Promise((resolve) => importer.once('message', resolve));
    assert.equal(got, 7);
  } finally {
    await importer.terminate();
  }
});
