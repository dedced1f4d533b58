// Syntax detection of a typeless `.js` file (its package.json states no `type`):
// every fixture below runs in plain Node (this process's node binary, a child
// process) and in an agent, and both must agree on the outcome: the format the
// file ran as (`this` at its top level is undefined only in an ES module) or
// the class of the error importing it gives. Node's rule: CommonJS, unless the
// CommonJS compile fails with an ES-only error (import/export, import.meta) or
// with one that is valid ES module code (top-level await, a top-level `const
// require`) and the file parses as an ES module.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMessageOf } from './support/agents.js';

const formatProbe = "globalThis.fmt = this === undefined ? 'esm' : 'cjs';";

/** name -> [source of m.js, the outcome Node gives (checked against node itself too)]. */
const fixtures: Record<string, [string, string]> = {
  'top-level await only': [`await Promise.resolve();\n${formatProbe}\n`, 'esm'],
  'top-level for await': [`for await (const x of []) ;\n${formatProbe}\n`, 'esm'],
  'top-level await as a call argument': [`globalThis.value = String(await 1);\n${formatProbe}\n`, 'esm'],
  'top-level await in an if condition': [`if (await 1) {}\n${formatProbe}\n`, 'esm'],
  'top-level await after a hashbang': [`#!/usr/bin/env node\nawait 0;\n${formatProbe}\n`, 'esm'],
  'await inside a plain function (a CommonJS error)': [`function f() { await 1; }\n${formatProbe}\n`, 'SyntaxError'],
  'await as an identifier in sloppy code': [`const await = 1;\n${formatProbe}\n`, 'cjs'],
  'await only in a comment and a string': [`// await x\nconst s = 'await 1';\n${formatProbe}\n`, 'cjs'],
  'import.meta only': [`void import.meta.url;\n${formatProbe}\n`, 'esm'],
  'dynamic import() only': [`globalThis.later = () => import('./later.js');\n${formatProbe}\n`, 'cjs'],
  'require() and top-level await (ES module, require undefined)': [`require('./later.js');\nawait 0;\n${formatProbe}\n`, 'ReferenceError'],
  'top-level const require (valid only as an ES module)': [`const require = 1;\n${formatProbe}\n`, 'esm'],
  'top-level let exports, the name escaped (valid only as an ES module)': [`let export\\u0073 = 1;\n${formatProbe}\n`, 'esm'],
  'top-level var require (valid CommonJS)': [`var require = 1;\n${formatProbe}\n`, 'cjs'],
  'top-level await and sloppy-only with (neither parses)': [`await 0;\nwith ({}) {}\n${formatProbe}\n`, 'SyntaxError'],
  // Our ES parse check is looser than V8's Module goal here (docs/modules.md): the agent's error is the ES
  // compile's "Illegal return statement" where Node reports the CommonJS await error; both SyntaxErrors.
  'top-level await and a top-level return': [`await 0;\nreturn;\n`, 'SyntaxError'],
  'top-level await and a syntax error': [`await 0;\nlet x = ;\n`, 'SyntaxError'],
  'plain CommonJS': [`module.exports = 1;\n${formatProbe}\n`, 'cjs'],
  'an export statement': [`export const x = 1;\n${formatProbe}\n`, 'esm'],
  'an import statement': [`import './later.js';\n${formatProbe}\n`, 'esm'],
};

const nodeEntry = `import('./m.js').then(() => console.log(globalThis.fmt), (e) => console.log(e?.constructor?.name));\n`;
const agentEntry = `import('./m.js').then(() => postMessage(globalThis.fmt), (e) => postMessage(e?.constructor?.name));\n`;

let root = '';
const dirs = new Map<string, string>();

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ac-detect-'));
  Object.entries(fixtures).forEach(([name, [source]], index) => {
    const dir = join(root, `f${index}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"name":"typeless"}');
    writeFileSync(join(dir, 'm.js'), source);
    writeFileSync(join(dir, 'later.js'), 'module.exports = 0;\n');
    writeFileSync(join(dir, 'node-entry.mjs'), nodeEntry);
    writeFileSync(join(dir, 'agent-entry.mjs'), agentEntry);
    dirs.set(name, dir);
  });
});

after(() => rmSync(root, { recursive: true, force: true }));

function inNode(dir: string): string {
  return execFileSync(process.execPath, [join(dir, 'node-entry.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}


describe('syntax detection of a typeless .js: agents agree with plain Node', () => {
  for (const [name, [, expected]] of Object.entries(fixtures)) {
    it(`${name}: ${expected}`, async () => {
      const dir = dirs.get(name)!;
      assert.equal(inNode(dir), expected, 'plain node');
      assert.equal(await firstMessageOf(join(dir, 'agent-entry.mjs')), expected, 'agent');
    });
  }
});
