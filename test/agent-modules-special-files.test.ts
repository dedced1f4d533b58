// F2: a FIFO or device as the entry (or any module file) must not hang the
// host or read without end: the agent reports ERR_MODULE_NOT_FOUND naming it.
// Child process with a timeout: before the fix the constructor never returned.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function startInChild(file: string, type?: 'classic'): { code: string; message: string } {
  const script = `
    import { Agent } from ${JSON.stringify(lib)};
    const a = new Agent({ file: ${JSON.stringify(file)}${type === undefined ? '' : `, type: ${JSON.stringify(type)}`} });
    const e = await a.ready.then(() => ({ code: 'none', message: '' }), (e) => ({ code: e.code, message: e.message }));
    await a.terminate();
    console.log(JSON.stringify(e));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `child hung or died (${r.signal})`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { code: string; message: string };
}

describe('non-regular module files', () => {
  it('a FIFO entry fails with ERR_MODULE_NOT_FOUND naming it, without hanging', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-fifo-'));
    try {
      const fifo = join(dir, 'entry.mjs');
      execFileSync('mkfifo', [fifo]);
      const e = startInChild(fifo);
      assert.equal(e.code, 'ERR_MODULE_NOT_FOUND');
      assert.ok(e.message.includes(fifo), e.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/dev/zero as the entry fails instead of reading without end', () => {
    const e = startInChild('/dev/zero');
    assert.equal(e.code, 'ERR_MODULE_NOT_FOUND');
    assert.ok(e.message.includes('/dev/zero'), e.message);
  });

  it('a FIFO imported by the entry fails the start, without hanging', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-fifo-'));
    try {
      execFileSync('mkfifo', [join(dir, 'dep.cjs')]);
      writeFileSync(join(dir, 'job.mjs'), "import './dep.cjs';\n");
      const e = startInChild(join(dir, 'job.mjs'));
      assert.equal(e.code, 'ERR_MODULE_NOT_FOUND');
      assert.ok(e.message.includes('dep.cjs'), e.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Classic scripts are read by the same native reader as modules (one
// descriptor, regular files only): a FIFO used to block the agent thread
// forever and a directory ran as an empty script.
describe('non-regular classic script files', () => {
  it('a FIFO or a directory as a classic entry fails the start naming it, without hanging', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-fifo-'));
    try {
      const fifo = join(dir, 'entry.js');
      execFileSync('mkfifo', [fifo]);
      const folder = join(dir, 'folder.js');
      execFileSync('mkdir', [folder]);
      for (const file of [fifo, folder]) {
        const e = startInChild(file, 'classic');
        assert.equal(e.code, undefined, `${file}: ${e.message}`);
        assert.ok(e.message.endsWith(`Cannot read script ${file}`), e.message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
