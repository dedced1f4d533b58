// Computed import() in a pool job (always) and in an Agent given `moduleRoots`
// loads only files of the module graph the host found or files under the
// roots (real paths: a symlink cannot lead out); anything else is refused
// with ERR_AGENT_MODULE_DENIED, and the agent lives on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, AgentPool } from '../src/index.js';

let dir = '';
let app = '';
let outside = '';
before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'agentcluster-roots-')));
  app = join(dir, 'app');
  outside = join(dir, 'outside');
  mkdirSync(join(app, 'plugins'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(app, 'lit.mjs'), 'export const v = "literal";\n');
  writeFileSync(join(app, 'plugins', 'a.mjs'), 'import { w } from "./b.mjs"; export const v = "plugin " + w;\n');
  writeFileSync(join(app, 'plugins', 'b.mjs'), 'export const w = "b";\n');
  writeFileSync(join(outside, 'secret.mjs'), 'export const v = "secret";\n');
  symlinkSync(join(outside, 'secret.mjs'), join(app, 'plugins', 'escape.mjs'));
  writeFileSync(
    join(app, 'job.mjs'),
    [
      'export default async (path) => { try { return (await import(path)).v; } catch (e) { return e.code + " " + e.message; } };',
      'export async function literal() { return (await import("./lit.mjs")).v; }',
      'export async function atomics() { return typeof (await import("agentcluster:atomics")).Mutex; }',
    ].join('\n') + '\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a pool job: literal import() works, a computed import() outside the graph is denied', async () => {
  const pool = new AgentPool({ filename: join(app, 'job.mjs'), minAgents: 1, maxAgents: 1 });
  try {
    assert.equal(await pool.run(null, { name: 'literal' }), 'literal');
    assert.equal(await pool.run(null, { name: 'atomics' }), 'function');
    // Before: any file on disk loaded.
    const denied = (await pool.run(join(outside, 'secret.mjs'))) as string;
    assert.match(denied, /^ERR_AGENT_MODULE_DENIED /);
    assert.match(denied, /secret\.mjs/);
    assert.match(denied, /moduleRoots/);
    assert.match((await pool.run(pathToFileURL(join(app, 'plugins', 'a.mjs')).href)) as string, /^ERR_AGENT_MODULE_DENIED /);
    assert.equal(await pool.run(join(app, 'lit.mjs')), 'literal', 'a file of the graph, reached by a computed specifier');
  } finally {
    await pool.destroy();
  }
});

test('a pool with moduleRoots: files under a root load (with their own imports), a symlink out of it does not', async () => {
  const pool = new AgentPool({ filename: join(app, 'job.mjs'), minAgents: 1, maxAgents: 1, moduleRoots: [join(app, 'plugins')] });
  try {
    assert.equal(await pool.run(join(app, 'plugins', 'a.mjs')), 'plugin b');
    assert.match((await pool.run(join(app, 'plugins', 'escape.mjs'))) as string, /^ERR_AGENT_MODULE_DENIED /);
    assert.match((await pool.run(join(app, 'plugins', '..', '..', 'outside', 'secret.mjs'))) as string, /^ERR_AGENT_MODULE_DENIED /);
    assert.match((await pool.run(join(dir, 'app', 'plugins-not', 'x.mjs'))) as string, /Cannot find module/);
  } finally {
    await pool.destroy();
  }
});

test('a pool job in a package: its own package directory is the default root, files outside it are not', async () => {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'lib', 'locales'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"pkg","type":"module"}\n');
  writeFileSync(join(pkg, 'lib', 'locales', 'fr.mjs'), 'export const v = "bonjour";\n');
  writeFileSync(join(pkg, 'lib', 'job.mjs'), 'export default async (path) => { try { return (await import(path)).v; } catch (e) { return e.code; } };\n');
  const pool = new AgentPool({ filename: join(pkg, 'lib', 'job.mjs'), minAgents: 1, maxAgents: 1 });
  try {
    // A lazily loaded file of the job's own package, as under Node.
    assert.equal(await pool.run(join(pkg, 'lib', 'locales', 'fr.mjs')), 'bonjour');
    assert.equal(await pool.run(join(outside, 'secret.mjs')), 'ERR_AGENT_MODULE_DENIED');
  } finally {
    await pool.destroy();
  }
  // An explicit moduleRoots replaces the default.
  const narrow = new AgentPool({ filename: join(pkg, 'lib', 'job.mjs'), minAgents: 1, maxAgents: 1, moduleRoots: [] });
  try {
    assert.equal(await narrow.run(join(pkg, 'lib', 'locales', 'fr.mjs')), 'ERR_AGENT_MODULE_DENIED');
  } finally {
    await narrow.destroy();
  }
});

async function evaluateIn(options: ConstructorParameters<typeof Agent>[0], code: string): Promise<unknown> {
  const agent = new Agent(options);
  try {
    await agent.ready;
    return await agent.evaluate(code);
  } finally {
    await agent.terminate();
  }
}

test('an Agent: no moduleRoots, no check; moduleRoots [] is the graph only; a root opens its directory', async () => {
  const code = `import(${JSON.stringify(join(outside, 'secret.mjs'))}).then((m) => m.v, (e) => e.code)`;
  assert.equal(await evaluateIn({ source: 'export {}', type: 'module', filename: join(app, 'entry.mjs') }, code), 'secret');
  assert.equal(await evaluateIn({ source: 'export {}', type: 'module', filename: join(app, 'entry.mjs'), moduleRoots: [] }, code), 'ERR_AGENT_MODULE_DENIED');
  assert.equal(await evaluateIn({ source: '', filename: join(app, 'entry.js'), moduleRoots: [pathToFileURL(outside)] }, code), 'secret');
});

test('moduleRoots that is not an array of existing directories is refused', () => {
  for (const bad of ['/tmp', [42], [join(dir, 'missing')], [join(app, 'lit.mjs')], ['']]) {
    assert.throws(() => new Agent({ source: '', moduleRoots: bad as never }), { code: 'ERR_AGENT_INVALID_OPTION' }, String(bad));
    assert.throws(() => new AgentPool({ filename: join(app, 'job.mjs'), moduleRoots: bad as never }), { code: 'ERR_POOL_INVALID_OPTION' }, String(bad));
  }
});
