// Issue 18: `agentcluster run --cpu-prof DIR` writes one .cpuprofile per agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/run.js';
import { capture } from './fixtures/capture.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'agentcluster-cpu-prof-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--cpu-prof DIR: one profile per agent, where the job\'s hot function shows', async () => {
  const job = join(dir, 'spin.mjs');
  writeFileSync(job, 'export default function burnCycles(ms) { const end = performance.now() + ms; let n = 0; while (performance.now() < end) n++; return n > 0; }\n');
  const input = join(dir, 'tasks.jsonl');
  writeFileSync(input, Array.from({ length: 8 }, () => '40').join('\n') + '\n');
  const profiles = join(dir, 'profiles');
  const stderr = capture();
  const code = await main([job, '--agents', '2', '--input', input, '--output', join(dir, 'out.jsonl'), '--cpu-prof', profiles], { stderr });
  assert.equal(code, 0, stderr.text);
  const files = readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile'));
  assert.equal(files.length, 2, files.join(', '));
  assert.match(stderr.text, /2 CPU profiles written/);
  let hotHits = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as { nodes: { callFrame: { functionName: string }; hitCount: number }[]; samples: number[] };
    assert.ok(Array.isArray(profile.samples));
    for (const node of profile.nodes) if (node.callFrame.functionName === 'burnCycles') hotHits += node.hitCount;
  }
  assert.ok(hotHits > 0, 'burnCycles sampled');
});

test('--cpu-prof DIR where a profile cannot be written: reported as a write error, not as a lost agent', async () => {
  const job = join(dir, 'double.mjs');
  writeFileSync(job, 'export default (x) => x * 2;\n');
  const input = join(dir, 'one.jsonl');
  writeFileSync(input, '1\n');
  const profiles = join(dir, 'blocked');
  // A directory in the way of every profile file the run could write.
  for (let id = 1; id <= 64; id++) mkdirSync(join(profiles, `agent-${id}.cpuprofile`), { recursive: true });
  const stderr = capture();
  const code = await main([job, '--agents', '1', '--input', input, '--output', join(dir, 'out1.jsonl'), '--cpu-prof', profiles], { stderr });
  assert.equal(code, 0, stderr.text);
  assert.match(stderr.text, /0 CPU profiles written\n/);
  assert.doesNotMatch(stderr.text, /lost with their agents/);
  assert.match(stderr.text, /cannot write CPU profile .*agent-\d+\.cpuprofile: EISDIR/);
});
