// Issue 11 item 17: the snapshot choice is process-wide. Under
// `node --no-node-snapshot`, a worker_thread started with `execArgv: []`
// that loaded agentcluster switched agents to Node's snapshot, and every
// new agent (in the worker and on the main thread) saw Math.E undefined.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeChild, runNode } from './support/agents.js';

// The main thread loads agentcluster first, then a worker with other execArgv
// loads it too; agents created afterwards on both threads must be whole.
const code = `
  import { Worker } from 'node:worker_threads';
  import { Agent } from './src/index.ts';
  const probe = async () => { const a = new Agent({ source: '' }); const v = await a.evaluate('String(Math.E)'); await a.terminate(); return v; };
  const before = await probe();
  const worker = new Worker(\`
    const { parentPort } = require('node:worker_threads');
    import(\${JSON.stringify(new URL('./dist/src/index.js', 'file://' + process.cwd() + '/').href)}).then(async ({ Agent }) => {
      const a = new Agent({ source: '' }); const v = await a.evaluate('String(Math.E)'); await a.terminate(); parentPort.postMessage(v);
    }, (e) => parentPort.postMessage('failed: ' + e));\`, { eval: true, execArgv: [] });
  const inWorker = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await worker.terminate();
  console.log(JSON.stringify({ before, inWorker, after: await probe() }));`;

describe('Node snapshot choice', () => {
  for (const flags of [['--no-node-snapshot'], []]) {
    it(`main ${flags.join(' ') || '(default)'} + a worker with execArgv [] loading agentcluster: agents keep Math.E (child process)`, async () => {
      const result = await runNode([...flags, '--import', 'tsx', '--input-type=module', '-e', code], { timeoutMs: 60_000 });
      assert.equal(result.code, 0, describeChild(result));
      const values = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, string>;
      assert.deepEqual(values, { before: String(Math.E), inWorker: String(Math.E), after: String(Math.E) });
    });
  }

  it('NODE_OPTIONS=--no-node-snapshot + a worker with execArgv [] and an empty env (child process)', async () => {
    const inWorkerEnv = code.replace('execArgv: [] }', 'execArgv: [], env: {} }');
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', inWorkerEnv], { timeoutMs: 60_000, env: { ...process.env, NODE_OPTIONS: '--no-node-snapshot' } });
    assert.equal(result.code, 0, describeChild(result));
    const values = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, string>;
    assert.deepEqual(values, { before: String(Math.E), inWorker: String(Math.E), after: String(Math.E) });
  });
});
