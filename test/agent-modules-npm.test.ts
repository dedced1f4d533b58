// Issue 13: real npm packages in agents, unmodified as installed (versions
// pinned in package-lock.json). The same job set runs in AgentPool and in
// piscina and must give deep-equal results.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Piscina } from 'piscina';
import { Agent, AgentPool } from '../src/index.js';
import { fixture } from './support/agents.js';

const jobs = fixture('npm/jobs.mjs');
const packages = ['marked', 'nanoid', 'ms', 'lodash-es', 'date-fns', 'zod', 'ajv', 'uuid', 'fast-xml-parser', 'yaml', 'semver', 'fflate'];

/** [export, task] pairs covering every package of the set. */
const cases: [string, unknown][] = [
  ['marked', '# Title\n\nSome *emphasis*, **strong**, `code` and a [link](https://example.com).\n\n- one\n- two\n'],
  ['nanoid', 42],
  ['ms', ['2 days', '1.5h', 60_000, 3_600_000 * 30]],
  ['lodash', [5, 3, 8, 1, 4]],
  ['dates', [2024, 1, 31]],
  ['zod', { name: 'Ada', age: 36 }],
  ['zod', { name: 'A', age: -1.5, tags: [1] }],
  ['ajvValidate', { id: 3, items: ['a'] }],
  ['ajvValidate', { id: 0, items: [], note: 'too long', extra: true }],
  ['uuid', 'agentcluster'],
  ['xml', '<root a="1"><item>x</item><item>y</item><n>3</n></root>'],
  ['yaml', 'name: job\nlist: [1, 2]\nnested:\n  key: value\n'],
  ['semver', ['1.10.0', '1.2.3', '2.0.0-beta.1', '1.2.10']],
  ['fflate', 'hello hello hello agents '.repeat(20)],
];

describe('npm packages in AgentPool, compared with piscina', () => {
  let pool: AgentPool;
  let piscina: Piscina;
  before(() => {
    pool = new AgentPool({ filename: jobs, minAgents: 2, maxAgents: 2 });
    piscina = new Piscina({ filename: jobs, minThreads: 1, maxThreads: 1 });
  });
  after(async () => {
    await pool.destroy();
    await piscina.destroy();
  });

  it('the job module covers every package of the set', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(jobs, 'utf8');
    for (const name of packages) assert.match(text, new RegExp(`from '${name}'`), name);
  });

  for (const [name, task] of cases) {
    it(`${name}(${JSON.stringify(task).slice(0, 40)}) gives piscina's result`, async () => {
      const [ours, theirs] = await Promise.all([pool.run(task, { name }), piscina.run(task, { name })]);
      assert.deepEqual(ours, theirs);
    });
  }

  it('a piscina-style CommonJS job (module.exports = fn) runs unchanged', async () => {
    const filename = fixture('npm/piscina-style.cjs');
    const ours = new AgentPool({ filename, minAgents: 1, maxAgents: 1 });
    const theirs = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
    try {
      const task = { duration: '90m', versions: ['1.0.0', '1.4.2', '2.1.0'], range: '^1.1' };
      const result = await ours.run(task);
      assert.deepEqual(result, { ms: 5_400_000, newest: '1.4.2' });
      assert.deepEqual(result, await theirs.run(task));
    } finally {
      await ours.destroy();
      await theirs.destroy();
    }
  });
});

describe('TypeScript jobs', () => {
  it('a .ts job importing two packages runs, with the same result as its JavaScript run by piscina', async () => {
    const pool = new AgentPool({ filename: fixture('npm/typed-job.ts'), minAgents: 1, maxAgents: 1 });
    const theirs = new Piscina({ filename: fixture('npm/piscina-style.cjs'), minThreads: 1, maxThreads: 1 });
    try {
      const task = { duration: '2h', versions: ['3.0.0', '3.1.4', '4.0.0'], range: '~3.1' };
      const result = await pool.run(task);
      assert.deepEqual(result, { ms: 7_200_000, newest: '3.1.4' });
      assert.deepEqual(result, await theirs.run(task));
    } finally {
      await pool.destroy();
      await theirs.destroy();
    }
  });

  it("a stack points at the .ts file's own line and column", async () => {
    const pool = new AgentPool({ filename: fixture('npm/typed-job.ts'), minAgents: 1, maxAgents: 1 });
    try {
      const error = await pool.run(null, { name: 'fails' }).then(() => undefined, (e: Error) => e);
      assert.equal(error?.message, 'failed in typed');
      // Line 13, column 40: `new Error(...)` after the annotated declaration on the same line (blanked types keep columns).
      assert.match(error!.stack!, /typed-job\.ts:13:40/);
    } finally {
      await pool.destroy();
    }
  });

  it('TypeScript that is not only types (enum) fails with a SyntaxError naming file:line:col', async () => {
    const pool = new AgentPool({ filename: fixture('npm/typed-enum.ts'), minAgents: 1, maxAgents: 1 });
    try {
      const error = await pool.ready.then(() => undefined, (e: { cause: Error }) => e.cause);
      assert.equal(error?.name, 'SyntaxError');
      assert.match(error!.message, /'enum Color \{ Red \}' at .*typed-enum\.ts:2:1/);
    } finally {
      await pool.destroy();
    }
  });
});

describe('Node built-ins', () => {
  it('a static import of node:fs fails the start with ERR_AGENT_NODE_BUILTIN naming the importer and the ways out', async () => {
    const pool = new AgentPool({ filename: fixture('npm/builtin-import.mjs'), minAgents: 1, maxAgents: 1 });
    try {
      const error = await pool.ready.then(() => undefined, (e: unknown) => e as Error & { cause?: Error & { code?: string } });
      assert.ok(error, 'the pool must not start');
      const cause = error.cause!;
      assert.equal(cause.code, 'ERR_AGENT_NODE_BUILTIN');
      for (const part of ["'node:fs'", 'builtin-import.mjs', 'no Node built-ins', 'conditions', 'bridge', 'bundling']) {
        assert.ok(cause.message.includes(part), `${cause.message} should mention ${part}`);
      }
    } finally {
      await pool.destroy();
    }
  });

  it('a guarded require() of a built-in throws where it is called, so the module still loads', async () => {
    const pool = new AgentPool({ filename: fixture('npm/guarded-require.cjs'), minAgents: 1, maxAgents: 1 });
    try {
      assert.deepEqual(await pool.run(null), { crypto: 'undefined', code: 'ERR_AGENT_NODE_BUILTIN', mentions: true });
    } finally {
      await pool.destroy();
    }
  });
});

describe('env', () => {
  const probe = `postMessage(typeof process === 'undefined' ? null : { keys: Object.keys(process), env: { ...process.env }, frozen: Object.isFrozen(process) && Object.isFrozen(process.env) })`;
  async function first(agent: Agent): Promise<unknown> {
    const value = await new Promise((resolve, reject) => {
      agent.once('message', resolve);
      agent.once('error', reject);
    });
    await agent.terminate();
    return value;
  }

  it('without env an agent has no process at all', async () => {
    assert.equal(await first(new Agent({ source: probe })), null);
  });

  it('env gives a frozen process.env of exactly what was passed, and nothing else on process', async () => {
    const agent = new Agent({ source: probe, env: { NODE_ENV: 'production', EMPTY: '' } });
    assert.deepEqual(await first(agent), { keys: ['env'], env: { NODE_ENV: 'production', EMPTY: '' }, frozen: true });
  });

  it('pool agents get the pool env', async () => {
    const pool = new AgentPool({ source: 'export default () => process.env.NODE_ENV', env: { NODE_ENV: 'test' }, minAgents: 1, maxAgents: 1 });
    try {
      assert.equal(await pool.run(null), 'test');
    } finally {
      await pool.destroy();
    }
  });

  it('bad env and conditions values are typed option errors', () => {
    const bad: [string, unknown][] = [['env', 'x'], ['env', { A: 1 }], ['env', null], ['conditions', 'worker'], ['conditions', ['']], ['conditions', ['import']], ['conditions', [1]]];
    for (const [name, value] of bad) {
      assert.throws(() => new Agent({ source: '', [name]: value }), { code: 'ERR_AGENT_INVALID_OPTION' }, `${name}: ${String(value)}`);
      assert.throws(() => new AgentPool({ source: 'export default () => 1', [name]: value }), { code: 'ERR_POOL_INVALID_OPTION' }, `${name}: ${String(value)}`);
    }
  });
});
