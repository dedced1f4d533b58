// F11: the process-wide source cache must not serve an old text when a file
// changes with the same size and mtime (npm extracts every file with one
// fixed mtime). F5: it is bounded by entry count (LRU), not only text bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../src/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ac-srccache-'));
  mkdirSync(join(dir, 'node_modules', 'verpkg'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'verpkg', 'package.json'), '{ "name": "verpkg", "main": "version.js" }');
  writeFileSync(join(dir, 'job.mjs'), "import v from 'verpkg'; console.log(v);\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function firstLine(file: string): Promise<string> {
  const agent = new Agent({ file });
  const line = new Promise<string>((resolve) => agent.on('console', (_level: string, text: string) => resolve(text)));
  try {
    await agent.ready;
    return await line;
  } finally {
    await agent.terminate();
  }
}

describe('process-wide source cache', () => {
  it('serves the new text after a same-size rewrite with the same (npm) mtime', async () => {
    const version = join(dir, 'node_modules', 'verpkg', 'version.js');
    const npmTime = new Date('1985-10-26T08:15:00Z');
    writeFileSync(version, "module.exports = '1.2.3';\n");
    utimesSync(version, npmTime, npmTime);
    assert.equal(await firstLine(join(dir, 'job.mjs')), '1.2.3');
    writeFileSync(version, "module.exports = '1.2.4';\n");
    utimesSync(version, npmTime, npmTime);
    assert.equal(await firstLine(join(dir, 'job.mjs')), '1.2.4');
  });
});

describe('process-wide source cache bound', () => {
  it('keeps at most 16 384 entries however many distinct files agents read', async () => {
    const { native } = await import('../src/native.js');
    const many = join(dir, 'many');
    mkdirSync(many);
    const N = 17_000;
    for (let i = 0; i < N; i++) writeFileSync(join(many, `f${i}.txt`), 'x');
    writeFileSync(join(dir, 'many.mjs'), `
      let n = 0;
      for (let i = 0; i < ${N}; i++) n += (await import(${JSON.stringify(many)} + '/f' + i + '.txt', { with: { type: 'text' } })).default.length;
      console.log(String(n));\n`);
    assert.equal(await firstLine(join(dir, 'many.mjs')), String(N));
    const count = native.sharedSourceCount();
    assert.ok(count > 0 && count <= 16_384, `source cache holds ${count} entries`);
  });
});
