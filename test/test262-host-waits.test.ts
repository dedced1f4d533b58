// The test262 host's blocking natives ($262.agent.broadcast, sleep) end when
// an agent they wait for dies, and once the test agent is terminated no
// further line of its JS runs.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from '../src/index.js';
import { delay, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

afterEach(terminateAll);

function printed(agent: Agent): string[] {
  const lines: string[] = [];
  agent.on('console', (_level, text) => lines.push(text));
  return lines;
}

describe('$262.agent blocking calls', () => {
  it('broadcast returns when a child accepted the job and then died before running it', async () => {
    const agent = spawnAgent({
      globals: 'test262',
      source: `
        $262.agent.start('setTimeout(() => { $262.agent.sleep(300); throw new Error("child dies"); }, 10);');
        $262.agent.sleep(100); // the child is inside its sleep: the job waits in its mailbox
        $262.agent.broadcast(new SharedArrayBuffer(8));
        print('broadcast returned');
      `,
    });
    const lines = printed(agent);
    // Before: the receipt count never dropped and broadcast blocked forever.
    await within(
      new Promise<void>((resolve) => agent.on('console', (_level, text) => text === 'broadcast returned' && resolve())),
      10_000,
      'the broadcast to return',
    );
    assert.ok(lines.some((line) => line.includes('child dies')), lines.join('\n'));
  });

  for (const [what, source] of [
    ['broadcast', "$262.agent.start('setInterval(() => {}, 1000);'); $262.agent.broadcast(new SharedArrayBuffer(8));"],
    ['sleep', '$262.agent.sleep(60000);'],
    // start() waits only until the child runs (test262-host-agent-limits.test.ts), so a child
    // that never ends no longer keeps it waiting: a start cannot be caught mid-wait here.
  ] as const) {
    it(`a terminated agent runs no JS after ${what} returns`, async () => {
      const agent = spawnAgent({ globals: 'test262', source: `print('waiting'); ${source} print('AFTER');` });
      const lines = printed(agent);
      await within(
        new Promise<void>((resolve) => agent.on('console', (_level, text) => text === 'waiting' && resolve())),
        10_000,
        'the agent to start waiting',
      );
      await delay(100);
      const info = await within(agent.terminate(), 10_000, 'terminate');
      assert.equal(info.reason, 'terminated');
      await delay(50);
      // Before: the wait returned, then print('AFTER') ran.
      assert.deepEqual(lines, ['waiting']);
    });
  }
});
