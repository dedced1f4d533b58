// The signal block shared by a pool's host and its agents: one declaration
// (src/scheduler/signal-block.ts), the host's views and the agent's
// generated source agreeing on every offset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapSource } from '../src/scheduler/agent-bootstrap.js';
import {
  createSignalBlock,
  RESULT_MS_BYTE_OFFSET,
  SIGNAL_BLOCK_BYTES,
  SIGNAL_WORD_COUNT,
  SignalWord,
  signalBlockSource,
  signalViews,
} from '../src/scheduler/signal-block.js';

test('signal block: word indices are distinct and dense, the float64 is 8-aligned after them', () => {
  const indices = Object.values(SignalWord).sort((a, b) => a - b);
  assert.deepEqual(indices, [...Array(SIGNAL_WORD_COUNT).keys()]);
  assert.equal(RESULT_MS_BYTE_OFFSET % 8, 0);
  assert.ok(RESULT_MS_BYTE_OFFSET >= SIGNAL_WORD_COUNT * 4, 'the float64 overlaps the words');
  assert.equal(SIGNAL_BLOCK_BYTES, RESULT_MS_BYTE_OFFSET + 8);
  assert.equal(createSignalBlock().byteLength, SIGNAL_BLOCK_BYTES);
});

test('signal block: the host views cover the words and the float64 without overlap', () => {
  const block = createSignalBlock();
  const { words, resultMs } = signalViews(block);
  for (const [name, index] of Object.entries(SignalWord)) words[index] = 1000 + index + name.length;
  resultMs[0] = 12.5;
  const bytes = new DataView(block);
  for (const [name, index] of Object.entries(SignalWord)) assert.equal(bytes.getInt32(4 * index, true), 1000 + index + name.length, name);
  assert.equal(bytes.getFloat64(RESULT_MS_BYTE_OFFSET, true), 12.5);
});

test('signal block: the agent-side source declares the same names and offsets as the host', () => {
  const block = createSignalBlock();
  const host = signalViews(block);
  // Evaluate the generated declaration as the agent does, over the same block.
  const agent = new Function('config', `${signalBlockSource('config.sig')}\nreturn { sig, sigMs, ${Object.keys(SignalWord).join(', ')} };`)({ sig: block }) as {
    sig: Int32Array;
    sigMs: Float64Array;
  } & Record<string, number>;
  for (const [name, index] of Object.entries(SignalWord)) {
    assert.equal(agent[name], index, name);
    Atomics.store(host.words, index, 7 * (index + 1));
    assert.equal(Atomics.load(agent.sig, agent[name]!), 7 * (index + 1), `${name} is the same word on both sides`);
  }
  assert.equal(agent.sig.length, SIGNAL_WORD_COUNT);
  agent.sigMs[0] = 3.25;
  assert.equal(host.resultMs[0], 3.25);
});

test('signal block: the bootstrap source uses the generated declaration, not its own offsets', () => {
  assert.ok(bootstrapSource.includes(signalBlockSource('config.sig')));
  assert.equal(bootstrapSource.match(/new (Int32|Float64)Array\(config\.sig/g)?.length, 2);
});
