// A job module that exports `then` (its namespace is a thenable): the pool
// still loads it and calls its exports, `then` included, instead of hanging
// in `pool.ready` (a plain `await import()` adopts the thenable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentPool } from '../src/index.js';
import { within } from './support/waits.js';

const filename = new URL('./pool-fixtures/thenable-job.mjs', import.meta.url);

test('a job module exporting then(): ready settles, the default export and then() both run', async () => {
  const pool = new AgentPool({ filename, minAgents: 1, maxAgents: 1, data: { some: 'data' } });
  try {
    // Before: ready never settled.
    await within(pool.ready, 10_000, 'pool.ready');
    assert.equal(await within(pool.run(21), 10_000, 'the default job'), 42);
    assert.equal(await within(pool.run(null, { name: 'then' }), 10_000, 'the then export'), 'then job ran');
    // The job still ran after the bootstrap set up its globals (agentData).
    assert.equal(await pool.run(null, { name: 'sawDataAtLoad' }), 'data seen at load');
  } finally {
    await pool.destroy();
  }
});
