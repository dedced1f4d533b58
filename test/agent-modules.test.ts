// Issue 2: what agents run — ES module files with static/dynamic relative
// imports and import.meta.url, classic scripts, module source with a
// `filename`, top-level await, unresolvable imports, agentcluster: built-ins.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { builtinModules } from '../src/native.js';
import { ask, fixture, roundTrip, spawnAgent, terminateAll } from './support/agents.js';
import { nextMessage, within } from './support/waits.js';

after(terminateAll);

const mod = (name: string) => fixture(`modules/${name}`);
const urlOf = (name: string) => pathToFileURL(mod(name)).href;

/** Asserts `promise` rejects with an Error whose message contains every `parts`. */
async function rejectsMentioning(promise: Promise<unknown>, parts: string[], name?: string): Promise<Error> {
  let caught: unknown;
  await assert.rejects(
    within(promise, 10_000, 'rejection'),
    (error: unknown) => ((caught = error), true),
  );
  const error = caught as Error;
  assert.equal(typeof error?.message, 'string', `an Error, got ${String(caught)}`);
  for (const part of parts) assert.ok(error.message.includes(part), `"${error.message}" should mention ${part}`);
  if (name) assert.equal(error.name, name);
  return error;
}

describe('ES module files', () => {
  it('runs a {file} path as a module with static relative imports (and their import.meta.url)', async () => {
    const agent = spawnAgent({ file: mod('entry.mjs') });
    await agent.ready;
    assert.deepEqual(await roundTrip(agent, 'static'), { doubled: 42, depUrl: urlOf('lib/dep.mjs'), counter: 1 });
  });

  it('dynamic import() resolves next to the importer, nested imports too, one instance per module', async () => {
    const agent = spawnAgent({ file: mod('entry.mjs') });
    await agent.ready;
    // dyn.mjs bumps the shared counter once when evaluated; the entry bumps it again.
    assert.deepEqual(await roundTrip(agent, 'dynamic'), { value: 'dyn', viaNested: 10, same: true, counter: 2 });
  });

  it('sets import.meta.url to the file: URL of the entry', async () => {
    const agent = spawnAgent({ file: mod('entry.mjs') });
    assert.equal(await roundTrip(agent, 'meta'), urlOf('entry.mjs'));
  });

  it('accepts a file: URL object and a file: URL string; percent-encodes the path in import.meta.url', async () => {
    const fromUrl = spawnAgent({ file: pathToFileURL(mod('entry.mjs')) });
    assert.equal(await roundTrip(fromUrl, 'meta'), urlOf('entry.mjs'));
    const fromString = spawnAgent({ file: urlOf('with space.mjs') });
    const url = await nextMessage<string>(fromString);
    assert.equal(url, urlOf('with space.mjs'));
    assert.match(url, /with%20space\.mjs$/);
  });

  it('evaluate() can import() relative to the entry file', async () => {
    const agent = spawnAgent({ file: mod('entry.mjs') });
    await agent.ready;
    assert.equal(await agent.evaluate(`import('./lib/dep.mjs').then((m) => m.double(8))`), 16);
  });

  it('top-level await delays ready until the module finished evaluating', async () => {
    const agent = spawnAgent({ file: mod('tla.mjs') });
    let readyAt: string | undefined;
    void agent.ready.then(() => (readyAt = agent.state));
    assert.equal(agent.state, 'starting');
    await within(agent.ready, 10_000, 'ready');
    assert.equal(readyAt, 'running');
    assert.equal(await agent.evaluate('phase'), 'after');
  });

  it('a rejected top-level await rejects ready with that error', async () => {
    const agent = spawnAgent({ type: 'module', source: `await Promise.resolve(); throw new URIError('tla failed');` });
    const error = await rejectsMentioning(agent.ready, ['tla failed'], 'URIError');
    assert.ok(error instanceof URIError);
    assert.equal((await agent.exited).reason, 'error');
  });
});

describe('classic scripts', () => {
  it('runs a .cjs file as a classic script (var makes globals, top-level this is the global)', async () => {
    const agent = spawnAgent({ file: mod('classic.cjs') });
    assert.deepEqual(await nextMessage(agent), { classicVar: 'declared with var', isGlobal: true });
  });

  it("runs a .js file as a classic script with type: 'classic'", async () => {
    const agent = spawnAgent({ file: mod('classic-script.js'), type: 'classic' });
    assert.equal(await nextMessage(agent), 'classic .js');
  });

  it('{ source } is classic by default: import declarations are a SyntaxError', async () => {
    const agent = spawnAgent({ source: `import x from './lib/dep.mjs';` });
    await rejectsMentioning(agent.ready, [], 'SyntaxError');
  });

  it('a classic { source } can import() relative to `filename`', async () => {
    const agent = spawnAgent({ source: `import('./lib/dep.mjs').then((m) => postMessage(m.double(3)));`, filename: mod('virtual.js') });
    assert.equal(await nextMessage(agent), 6);
  });
});

describe("{ source, type: 'module' }", () => {
  it('resolves relative imports against `filename` and sets import.meta.url to it', async () => {
    const agent = spawnAgent({
      type: 'module',
      filename: mod('virtual-entry.mjs'),
      source: `import { double } from './lib/dep.mjs'; postMessage([double(4), import.meta.url]);`,
    });
    assert.deepEqual(await nextMessage(agent), [8, urlOf('virtual-entry.mjs')]);
  });

  it('module code is strict and has no var-globals', async () => {
    const agent = spawnAgent({ type: 'module', source: `var hidden = 1; postMessage([typeof globalThis.hidden, (function () { return this; })()]);` });
    assert.deepEqual(await nextMessage(agent), ['undefined', undefined]);
  });
});

describe('failures to load', () => {
  it('an unresolvable static import rejects ready naming the specifier', async () => {
    const agent = spawnAgent({ file: mod('bad-static.mjs') });
    await rejectsMentioning(agent.ready, ['./no-such-module.mjs']);
    assert.deepEqual(await agent.exited, { code: 1, reason: 'error' });
  });

  it('a bare specifier fails naming it (agents do not resolve packages)', async () => {
    const agent = spawnAgent({ file: mod('bad-bare.mjs') });
    await rejectsMentioning(agent.ready, ['some-bare-package']);
  });

  it('an unresolvable static import in module source fails naming the specifier', async () => {
    const agent = spawnAgent({ type: 'module', filename: mod('virtual.mjs'), source: `import './nope/missing.mjs';` });
    await rejectsMentioning(agent.ready, ['./nope/missing.mjs']);
  });

  it('an unresolvable dynamic import rejects that import() naming the specifier; the agent lives on', async () => {
    const agent = spawnAgent({ file: mod('entry.mjs') });
    await agent.ready;
    const result = await ask<{ name: string; message: string }>(agent, 'missing-dynamic');
    assert.ok(result.message.includes('./does-not-exist.mjs'), result.message);
    assert.equal(await agent.evaluate('1 + 1'), 2);
    await rejectsMentioning(agent.evaluate(`import('./missing-too.mjs')`), ['./missing-too.mjs']);
  });

  it('a missing entry file rejects ready naming the file', async () => {
    const agent = spawnAgent({ file: mod('not-here.mjs') });
    await rejectsMentioning(agent.ready, ['not-here.mjs']);
    const classic = spawnAgent({ file: mod('not-here.cjs') });
    await rejectsMentioning(classic.ready, ['not-here.cjs']);
  });

  it('a syntax error in a module rejects ready with a SyntaxError', async () => {
    const agent = spawnAgent({ file: mod('syntax-error.mjs') });
    await rejectsMentioning(agent.ready, [], 'SyntaxError');
  });
});

describe('agentcluster: built-ins', () => {
  const atomicsPath = builtinModules()['agentcluster:atomics'];
  it(
    "import 'agentcluster:atomics' works inside an agent",
    { skip: atomicsPath ? false : 'dist/atomics is not built (run `npx tsc -p tsconfig.build.json`)' },
    async () => {
      const agent = spawnAgent({ file: mod('uses-atomics.mjs') });
      assert.deepEqual(await nextMessage(agent), { mutex: 'function', canBlock: 'function' });
      assert.equal(await agent.evaluate(`import('agentcluster:atomics').then((m) => typeof m.Semaphore)`), 'function');
    },
  );
});
