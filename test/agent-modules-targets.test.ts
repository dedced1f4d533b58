// F6: package.json `exports`/`imports` targets follow Node's rules (no way
// out of the package), and a package.json that is not JSON is an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../src/index.js';

let dir: string;
const write = (rel: string, text: string) => {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ac-targets-'));
  write('secret/s.mjs', "export default 'secret';\n");
  write('node_modules/trav/package.json', JSON.stringify({
    name: 'trav',
    exports: { './*': './sub/*', './up': '../../secret/s.mjs', './nm': './node_modules/x.mjs', './pct': './sub/%2e%2e/x.mjs' },
    imports: { '#p/*': './sub/*', '#up': '../../secret/s.mjs', '#fs': 'fs' },
  }));
  write('node_modules/trav/sub/a.mjs', "export default 'trav-a';\n");
  write('node_modules/trav/node_modules/x.mjs', "export default 'nm';\n");
  write('node_modules/trav/sub/imp.mjs', `
    const r = {};
    const t = async (k, f) => { try { r[k] = (await f()).default; } catch (e) { r[k] = e.code; } };
    await t('#p/../../../secret/s.mjs', () => import('#p/../../../secret/s.mjs'));
    await t('#up', () => import('#up'));
    await t('#fs', () => import('#fs'));
    export default r;\n`);
  write('node_modules/badjson/package.json', '{ "main": "main.js", ');
  write('node_modules/badjson/main.js', "export default 'main';\n");
  write('node_modules/badjson/index.js', "export default 'index';\n");
  write('job.mjs', `
    const r = {};
    const t = async (k, f) => { try { r[k] = (await f()).default; } catch (e) { r[k] = e.code; } };
    await t('trav/a.mjs', () => import('trav/a.mjs'));
    await t('trav/a.mjs/../../../../secret/s.mjs', () => import('trav/a.mjs/../../../../secret/s.mjs'));
    await t('trav/up', () => import('trav/up'));
    await t('trav/nm', () => import('trav/nm'));
    await t('trav/pct', () => import('trav/pct'));
    await t('badjson', () => import('badjson'));
    await t('trav/imp.mjs', () => import('trav/imp.mjs'));
    console.log(JSON.stringify(r));\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exports/imports targets (Node rules)', () => {
  it('rejects escaping targets and patterns with Node codes; invalid package.json is ERR_INVALID_PACKAGE_CONFIG', async () => {
    const agent = new Agent({ file: join(dir, 'job.mjs') });
    const line = new Promise<string>((resolve) => agent.on('console', (_level: string, text: string) => resolve(text)));
    try {
      await agent.ready;
      const r = JSON.parse(await line) as Record<string, unknown>;
      assert.deepEqual(r, {
        'trav/a.mjs': 'trav-a',
        'trav/a.mjs/../../../../secret/s.mjs': 'ERR_INVALID_MODULE_SPECIFIER',
        'trav/up': 'ERR_INVALID_PACKAGE_TARGET',
        'trav/nm': 'ERR_INVALID_PACKAGE_TARGET',
        'trav/pct': 'ERR_INVALID_PACKAGE_TARGET',
        badjson: 'ERR_INVALID_PACKAGE_CONFIG',
        'trav/imp.mjs': {
          '#p/../../../secret/s.mjs': 'ERR_INVALID_MODULE_SPECIFIER',
          '#up': 'ERR_INVALID_PACKAGE_TARGET',
          '#fs': 'ERR_AGENT_NODE_BUILTIN',
        },
      });
    } finally {
      await agent.terminate();
    }
  });
});
