// Issue 13: resolution and CommonJS details on a generated project: exports
// patterns and nested conditions, #imports, self-reference, a symlinked
// package (one instance per real file), a CommonJS cycle with partial
// exports, JSON, `.js` by package type, and the errors for syntax errors and
// unresolvable imports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent, AgentPool } from '../src/index.js';

let root: string;

function write(files: Record<string, string | object>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content));
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'agentcluster-modules-'));
  write({
    'app/package.json': { name: 'app', type: 'module', exports: { '.': './src/self.js' }, imports: { '#util/*': './src/util/*.js', '#dep': 'cond' } },
    'app/src/self.js': 'export const self = "app itself";',
    'app/src/util/strings.js': 'export const shout = (s) => s.toUpperCase();',
    'app/src/main.js': [
      "import { feature } from 'pat/features/alpha.js';",
      "import which from 'cond';",
      "import nested from 'nested';",
      "import { shout } from '#util/strings';",
      "import dep from '#dep';",
      "import { self } from 'app';",
      "import * as one from 'linked/counter.js';",
      "import * as two from 'linked-again/counter.js';",
      "import cycle from 'cycle';",
      "import cjsNamed, { named, fromReexport } from 'cjs-named';",
      "import data from 'cjs-named/data.json' with { type: 'json' };",
      "let privateError;",
      "try { await import('pat/features/private/x.js'); } catch (e) { privateError = e.code; }",
      'export default () => ({ feature, which, nested, shout: shout("hi"), dep, self, sameInstance: one.counter === two.counter, cycle,',
      '  named, fromReexport, defaultIsExports: cjsNamed.named === named, data, privateError });',
    ].join('\n'),
    'app/node_modules/pat/package.json': { name: 'pat', exports: { './features/*.js': './lib/*.js', './features/private/*': null } },
    'app/node_modules/pat/lib/alpha.js': 'exports.feature = "alpha";',
    'app/node_modules/pat/lib/private/x.js': 'exports.feature = "private";',
    'app/node_modules/cond/package.json': { name: 'cond', type: 'module', exports: { node: './node.js', worker: './worker.js', default: './default.js' } },
    'app/node_modules/cond/node.js': 'export default "node";',
    'app/node_modules/cond/worker.js': 'export default "worker";',
    'app/node_modules/cond/default.js': 'export default "default";',
    'app/node_modules/nested/package.json': { name: 'nested', exports: { '.': { import: { browser: './b.mjs', default: './i.mjs' }, require: './r.cjs' } } },
    'app/node_modules/nested/b.mjs': 'export default "import+browser";',
    'app/node_modules/nested/i.mjs': 'export default "import";',
    'app/node_modules/nested/r.cjs': 'module.exports = "require";',
    'packages/linked/package.json': { name: 'linked', type: 'module' },
    'packages/linked/counter.js': 'export const counter = {};',
    'app/node_modules/cycle/package.json': { name: 'cycle', main: 'a' },
    'app/node_modules/cycle/a.js': 'exports.early = "a-early";\nconst b = require("./b");\nexports.late = "a-late";\nmodule.exports.fromB = b.seen;',
    'app/node_modules/cycle/b.js': 'const a = require("./a.js");\nexports.seen = { early: a.early, late: a.late === undefined ? "not yet" : a.late };',
    'app/node_modules/cjs-named/package.json': { name: 'cjs-named', version: '1.0.0' },
    'app/node_modules/cjs-named/index.js': 'exports.named = "n";\nObject.assign(exports, require("./more"));\nmodule.exports = { ...exports, ...require("./more") };',
    'app/node_modules/cjs-named/more.js': 'module.exports = require("./leaf");',
    'app/node_modules/cjs-named/leaf.js': 'exports.fromReexport = require("./data.json").value;',
    'app/node_modules/cjs-named/data.json': '{ "value": 7 }',
    'app/src/bad-entry.js': "import './bad-middle.js';\nexport default () => 1;",
    'app/src/bad-middle.js': "import './bad-syntax.js';",
    'app/src/bad-syntax.js': 'export const x = 1;\nconst y = ;\n',
    'app/src/missing-entry.js': "import 'no-such-package/sub';\nexport default () => 1;",
    'app/src/cjs-syntax.cjs': 'module.exports = () => 1;\nfunction (\n',
    'app/src/requires-esm.cjs': 'let code; try { require("./self.js"); } catch (e) { code = e.code; }\nmodule.exports = () => code;',
    'app/src/hostile.cjs': [
      'const out = {};',
      'try { require(42); } catch (e) { out.nonString = e.name; }',
      'const first = require("./counter.cjs"); delete require.cache[require.resolve("./counter.cjs")];',
      'out.reloaded = require("./counter.cjs") !== first;',
      'try { require("./deep.cjs"); } catch (e) { out.deep = e.name; }',
      'out.nullExports = require("./null.cjs");',
      'module.exports = async () => {',
      '  try { await import("./throwing.cjs"); } catch (e) { out.getter = e.message; }',
      '  return out;',
      '};',
    ].join('\n'),
    'app/src/counter.cjs': 'module.exports = {};',
    'app/src/deep.cjs': 'delete require.cache[__filename]; require("./deep.cjs");',
    'app/src/null.cjs': 'module.exports = null;',
    // The getter form cjs-module-lexer recognises (`get: function () { return a.b; }`), reading a throwing getter.
    'app/src/throwing.cjs': 'const boom = { get value() { throw new Error("getter threw"); } };\nexports.ok = 1;\nObject.defineProperty(exports, "bad", { enumerable: true, get: function () { return boom.value; } });',
    'app/src/esm-internal.js': 'let code; try { await import("agentcluster:internal/cjs"); } catch (e) { code = e.code; }\nexport default () => code;',
  });
  symlinkSync(join(root, 'packages/linked'), join(root, 'app/node_modules/linked'), 'dir');
  symlinkSync(join(root, 'packages/linked'), join(root, 'app/node_modules/linked-again'), 'dir');
});

after(() => rmSync(root, { recursive: true, force: true }));

async function runJob(file: string, options: { conditions?: string[] } = {}): Promise<unknown> {
  const pool = new AgentPool({ filename: join(root, file), minAgents: 1, maxAgents: 1, ...options });
  try {
    return await pool.run(null);
  } finally {
    await pool.destroy();
  }
}

async function startFailure(file: string): Promise<Error & { code?: string }> {
  const pool = new AgentPool({ filename: join(root, file), minAgents: 1, maxAgents: 1 });
  try {
    const error = await pool.ready.then(() => undefined, (e: { cause: Error }) => e.cause);
    assert.ok(error, 'the pool must not start');
    return error;
  } finally {
    await pool.destroy();
  }
}

describe('resolution and CommonJS in agents (fixture project)', () => {
  it('exports patterns and null exclusions, nested and default conditions, #imports, self-reference, symlinks, CJS cycle and named exports', async () => {
    assert.deepEqual(await runJob('app/src/main.js'), {
      feature: 'alpha',
      which: 'worker',
      nested: 'import+browser',
      shout: 'HI',
      dep: 'worker',
      self: 'app itself',
      sameInstance: true,
      cycle: { early: 'a-early', late: 'a-late', fromB: { early: 'a-early', late: 'not yet' } },
      named: 'n',
      fromReexport: 7,
      defaultIsExports: true,
      data: { value: 7 },
      privateError: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });

  it('the conditions option changes which build loads', async () => {
    const result = (await runJob('app/src/main.js', { conditions: ['node'] })) as { which: string; nested: string };
    assert.equal(result.which, 'node');
    assert.equal(result.nested, 'import');
  });

  it('require() of an ES module is ERR_REQUIRE_ESM (as in Node 20)', async () => {
    assert.equal(await runJob('app/src/requires-esm.cjs'), 'ERR_REQUIRE_ESM');
  });

  it('a syntax error names file:line:col and the import chain', async () => {
    const error = await startFailure('app/src/bad-entry.js');
    assert.equal(error.name, 'SyntaxError');
    assert.match(error.message, /bad-syntax\.js:2:11/);
    assert.match(error.message, /imported by file:\/\/.*bad-middle\.js <- file:\/\/.*bad-entry\.js/);
  });

  it('a syntax error in CommonJS names file:line:col', async () => {
    const error = await startFailure('app/src/cjs-syntax.cjs');
    assert.equal(error.name, 'SyntaxError');
    assert.match(error.message, /cjs-syntax\.cjs:2:\d+/);
  });

  it('an unresolvable import names the specifier, the importer and where it looked', async () => {
    const error = await startFailure('app/src/missing-entry.js');
    assert.equal(error.code, 'ERR_MODULE_NOT_FOUND');
    assert.ok(error.message.includes("'no-such-package/sub'"), error.message);
    assert.ok(error.message.includes('missing-entry.js'), error.message);
    assert.ok(error.message.includes(join(root, 'app/node_modules')), error.message);
  });

  it('hostile CommonJS: bad ids, cache deletion, unbounded recursion, null exports, throwing getters', async () => {
    const result = (await runJob('app/src/hostile.cjs')) as Record<string, unknown>;
    assert.equal(result.nonString, 'TypeError');
    assert.equal(result.reloaded, true);
    assert.equal(result.deep, 'RangeError');
    assert.equal(result.nullExports, null);
    assert.equal(result.getter, 'getter threw');
    assert.equal(await runJob('app/src/esm-internal.js'), 'ERR_MODULE_NOT_FOUND');
  });

  it('a standalone Agent file module resolves packages too', async () => {
    write({ 'app/src/agent-entry.js': "import which from 'cond';\npostMessage(which);" });
    const agent = new Agent({ file: join(root, 'app/src/agent-entry.js'), conditions: ['node'] });
    const message = await new Promise((resolve, reject) => {
      agent.once('message', resolve);
      agent.once('error', reject);
    });
    await agent.terminate();
    assert.equal(message, 'node');
  });
});
