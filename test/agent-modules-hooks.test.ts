// Issue 13: loader hooks (resolve/load, shaped like Node's module hooks):
// virtual modules, rewritten specifiers, transformed sources, run once per
// module for a whole pool.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, AgentPool, type LoaderHooks } from '../src/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-hooks-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'job.mjs'), [
    "import config from 'virtual:config';",
    "import { twice } from 'alias/math';",
    "import shout from './lib/shout.mjs';",
    'export default (n) => ({ config, twice: twice(n), shout: shout("hi") });',
  ].join('\n'));
  writeFileSync(join(dir, 'lib/math.mjs'), 'export const twice = (n) => n * 2;');
  writeFileSync(join(dir, 'lib/shout.mjs'), 'export default (s) => s + "__BANG__";');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function hooks(calls: { resolve: string[]; load: string[] }): LoaderHooks {
  return {
    resolve(specifier, context, next) {
      calls.resolve.push(specifier);
      assert.ok(context.conditions.includes('import') && context.parentURL.startsWith('file:'));
      if (specifier === 'virtual:config') return { url: 'virtual:config' };
      if (specifier.startsWith('alias/')) return next(`./lib/${specifier.slice(6)}.mjs`);
      return next(specifier);
    },
    load(url, context, next) {
      calls.load.push(url);
      if (url === 'virtual:config') return { format: 'module', source: 'export default { mode: "virtual" };' };
      const loaded = next(url);
      return { format: loaded.format, source: loaded.source.replace('__BANG__', '!') };
    },
  };
}

describe('loader hooks', () => {
  it('serve a virtual module, rewrite a specifier and transform a source, once per module for a pool of 3', async () => {
    const calls = { resolve: [] as string[], load: [] as string[] };
    const pool = new AgentPool({ filename: join(dir, 'job.mjs'), loader: hooks(calls), minAgents: 3, maxAgents: 3 });
    try {
      await pool.ready;
      const results = await Promise.all([1, 2, 3].map((n) => pool.run(n)));
      assert.deepEqual(results[2], { config: { mode: 'virtual' }, twice: 6, shout: 'hi!' });
      assert.deepEqual(calls.resolve.sort(), ['./lib/shout.mjs', 'alias/math', 'virtual:config']);
      assert.equal(calls.load.length, 4, calls.load.join(', ')); // job, config, math, shout: once each
    } finally {
      await pool.destroy();
    }
  });

  it('a throwing hook is a load failure of that import, with the hook named in the message', async () => {
    const pool = new AgentPool({
      filename: join(dir, 'job.mjs'), minAgents: 1, maxAgents: 1,
      loader: { resolve(specifier, _context, next) { if (specifier === 'virtual:config') throw new Error('no config here'); return next(specifier); } },
    });
    try {
      const error = await pool.ready.then(() => undefined, (e: { cause: Error }) => e.cause);
      assert.match(error?.message ?? '', /no config here \(resolving 'virtual:config' from .*job\.mjs in the loader's resolve hook\)/);
    } finally {
      await pool.destroy();
    }
  });

  it('bad loader values are typed option errors', () => {
    for (const value of [null, 1, {}, { resolve: 1 }, { load: 'x' }]) {
      assert.throws(() => new Agent({ source: '', type: 'module', loader: value as never }), { code: 'ERR_AGENT_INVALID_OPTION' });
      assert.throws(() => new AgentPool({ source: 'export default () => 1', loader: value as never }), { code: 'ERR_POOL_INVALID_OPTION' });
    }
  });
});
