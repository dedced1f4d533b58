// Findings of the second hostile review of heapSnapshotNearLimitFile (the
// snapshot written after an out-of-memory agent stopped). Each test fails on
// the code under review.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

const dir = mkdtempSync(join(tmpdir(), 'agentcluster-near-limit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function oomWith(file: string): Promise<void> {
  const agent = spawnAgent({ source: 'const keep = []; for (;;) keep.push([1, 2, 3, {}]);', resourceLimits: { maxHeapMB: 8, heapSnapshotNearLimitFile: file } });
  agent.on('error', () => {});
  assert.equal((await agent.exited).reason, 'out-of-memory');
}

describe('heapSnapshotNearLimitFile that is not a regular file', () => {
  it('finding F4: a symlink is written through (the snapshot lands in its target), not replaced by a regular file', async () => {
    const target = join(dir, 'target.heapsnapshot');
    const link = join(dir, 'link.heapsnapshot');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    await oomWith(link);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink was replaced by a regular file (rename(2) over it)');
    assert.ok(Array.isArray((JSON.parse(readFileSync(target, 'utf8')) as { nodes: unknown }).nodes));
  });

  it('finding F4: a FIFO or a device node (e.g. /dev/null as root) is never replaced by a regular file', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const nodes = [fifo];
    if (process.getuid?.() === 0) {
      // A private copy of /dev/null (char 1,3): as root the real /dev/null would be clobbered the same way.
      const devNull = join(dir, 'null');
      execFileSync('mknod', [devNull, 'c', '1', '3']);
      nodes.push(devNull);
    }
    for (const node of nodes) {
      await oomWith(node);
      const st = lstatSync(node);
      assert.ok(!st.isFile(), `${node} is now a ${st.size}-byte regular file: the special file was replaced`);
    }
  });
});
