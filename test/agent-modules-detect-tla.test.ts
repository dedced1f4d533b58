// A `.js` file whose package states no `type` and whose only ES-module syntax
// is a top-level await (or import.meta) runs as an ES module, as in Node
// 20.19+ and 22.12+ (syntax detection, docs/modules.md). test262's
// language/module-code/top-level-await fixtures that hold only `await 0;`
// (module-graphs-does-not-hang.js, ...) rely on it. The full comparison with
// plain Node is test/agent-modules-detect.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMessageOf } from './support/agents.js';


describe('module detection: top-level await alone makes a typeless .js an ES module', () => {
  for (const pkg of [undefined, '{"name":"typeless"}']) {
    it(`a file with only \`await\` runs as an ES module (${pkg === undefined ? 'no package.json' : 'package.json without type'})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ac-detect-tla-'));
      try {
        if (pkg !== undefined) writeFileSync(join(dir, 'package.json'), pkg);
        writeFileSync(join(dir, 'tla.js'), 'await Promise.resolve();\nglobalThis.tlaDone = 1;\n');
        writeFileSync(join(dir, 'entry.mjs'), 'import "./tla.js";\npostMessage("done " + globalThis.tlaDone);\n');
        assert.equal(await firstMessageOf(join(dir, 'entry.mjs')), 'done 1');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a file whose only module syntax is import.meta runs as an ES module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-detect-meta-'));
    try {
      writeFileSync(join(dir, 'meta.js'), 'globalThis.metaUrl = typeof import.meta.url;\n');
      writeFileSync(join(dir, 'entry.mjs'), 'import "./meta.js";\npostMessage(globalThis.metaUrl);\n');
      assert.equal(await firstMessageOf(join(dir, 'entry.mjs')), 'string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
