// Finding F2 (hostile final review): on V8 12+ (Node 22, 24, 26) the async
// module marker (native/agent/async_parent_marker.cc) makes a synchronous
// importer of a top-level-await module an async module. Its importer then runs
// only after the microtasks that importer's body queued, where Node (and the
// spec: AsyncModuleExecutionFulfilled runs sync parents in one job) runs it
// before them. The order is compared with the same files run by this very
// Node, so the test holds on every line; on Node 20 the marker is off.
// Run it on a V8 12+ line: bash scripts/test-node-line.sh 24 test/agent-modules-async-order.test.ts
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from '../../src/index.js';

const files: Record<string, string> = {
  'log.mjs': 'export const logs = [];\n' +
    'export const out = (s) => (typeof postMessage === "function" ? postMessage : console.log)(s);\n',
  't.mjs': 'import { logs } from "./log.mjs";\nawait 0;\nlogs.push("t");\n',
  'x.mjs': 'import { logs } from "./log.mjs";\nimport "./t.mjs";\n' +
    'Promise.resolve().then(() => logs.push("x-micro"));\nlogs.push("x");\n',
  'y.mjs': 'import { logs } from "./log.mjs";\nimport "./t.mjs";\n' +
    'Promise.resolve().then(() => logs.push("y-micro"));\nlogs.push("y");\n',
  'entry.mjs': 'import { logs, out } from "./log.mjs";\nimport "./x.mjs";\nimport "./y.mjs";\n' +
    'logs.push("r");\nPromise.resolve().then(() => Promise.resolve()).then(() => out(logs.join()));\n',
};

describe('evaluation order in a top-level-await graph', () => {
  it('a root runs before the microtasks of its synchronous importers of an async module, as in Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-tla-order-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const native = spawnSync(process.execPath, [join(dir, 'entry.mjs')], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(native.status, 0, native.stderr);
      const expected = native.stdout.trim();
      assert.equal(expected, 't,x,y,r,x-micro,y-micro');  // what V8 11 to 13 do natively
      const agent = new Agent({ file: pathToFileURL(join(dir, 'entry.mjs')) });
      try {
        const message = new Promise((resolve) => agent.once('message', resolve));
        await agent.ready;
        assert.equal(await message, expected);
      } finally {
        await agent.terminate();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
