// test262 loads every imported file as module code: a typeless .js fixture
// that is only valid as a script must fail to import (SyntaxError), and a
// fixture with a syntax error must fail at resolution, not at run time.
// Node's format detection alone took such fixtures as CommonJS (22 scenarios
// of the whole suite: 15 timed out, 7 failed in the wrong phase).
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { main } from '../test262/runner/cli.js';
import { AgentExecutor } from '../test262/host/agent-executor.js';

const T262_DIR = path.resolve(process.env['TEST262_DIR'] ?? path.join(process.cwd(), '../shared/test262'));

class Sink extends Writable {
  data = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.data += chunk.toString();
    cb();
  }
}

const files = [
  'language/expressions/dynamic-import/catch/top-level-import-catch-eval-script-code-target.js',
  'language/expressions/dynamic-import/catch/nested-async-gen-await-eval-script-code-target.js',
  'language/module-code/instn-resolve-err-syntax-1.js',
  'language/module-code/instn-resolve-empty-export.js',
  'language/module-code/instn-named-err-not-found-dflt.js',
];

it('module fixtures load as module code, as test262 requires', async () => {
  const io = { stdout: new Sink(), stderr: new Sink(), env: { TEST262_DIR: T262_DIR }, cwd: process.cwd() };
  const code = await main(['--test262', T262_DIR, ...files], new AgentExecutor(), io);
  assert.equal(code, 0, io.stdout.data + io.stderr.data);
  assert.match(io.stdout.data, /OK: \d+ scenarios .* 0 unexpected/, io.stdout.data);
});
