// Hostile use of the issue-18 diagnostics: each scenario runs in a child
// process (test/fixtures/diagnostics-hostile.ts), since each used to kill it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeChild, runFixture } from './fixtures/helpers.js';

async function survives(scenario: string): Promise<void> {
  const result = await runFixture('diagnostics-hostile.ts', [scenario], { timeoutMs: 90_000 });
  assert.ok(result.code === 0 && result.stdout.includes('ok'), describeChild(result));
}

describe('diagnostics under hostile use', () => {
  it('getHeapSnapshot()/getHeapSnapshotString() then terminate(): rejections only, no unhandled stream error', async () => {
    await survives('snapshot-terminate');
  });

  it('a worker_thread terminated while its busy agent answers diagnostics: no abort', async () => {
    await survives('worker-terminated');
  });
});
