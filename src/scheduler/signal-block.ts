// The signal block a pool shares with each of its agents (the protocol is in
// agent-bootstrap.ts): int32 words, then the float64 run time of an
// unwrapped result. Declared once here; the host side uses the views and
// names below, and the bootstrap source (which runs inside the agent and
// imports nothing) gets the same declaration as generated source text.

/** Index of each int32 word. */
export const SignalWord = {
  /** Id of the unwrapped task being posted host -> agent (0: none). */
  TASK: 0,
  /** Messages the agent has handled (int32 wrap-around counter). */
  AGENT_SEEN: 1,
  /** Id of the unwrapped result being posted agent -> host (0: none). */
  RESULT: 2,
  /** Messages the host has handled (int32 wrap-around counter). */
  HOST_SEEN: 3,
  /** Export of the unwrapped task: 0 the default, n the n-th name the agent saw. */
  NAME: 4,
} as const;

export const SIGNAL_WORD_COUNT = Object.keys(SignalWord).length;
/** Byte offset of the float64 (the first multiple of 8 after the words). */
export const RESULT_MS_BYTE_OFFSET = Math.ceil((SIGNAL_WORD_COUNT * Int32Array.BYTES_PER_ELEMENT) / 8) * 8;
export const SIGNAL_BLOCK_BYTES = RESULT_MS_BYTE_OFFSET + Float64Array.BYTES_PER_ELEMENT;

export interface SignalViews {
  readonly words: Int32Array;
  /** [0]: ms the unwrapped result's task ran. */
  readonly resultMs: Float64Array;
}

export function createSignalBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(SIGNAL_BLOCK_BYTES);
}

export function signalViews(block: SharedArrayBuffer): SignalViews {
  return {
    words: new Int32Array(block, 0, SIGNAL_WORD_COUNT),
    resultMs: new Float64Array(block, RESULT_MS_BYTE_OFFSET, 1),
  };
}

/**
 * Agent-side source declaring `sig` (the words), `sigMs` (the float64) over
 * the SharedArrayBuffer that `blockExpression` evaluates to, and one const
 * per word name.
 */
export function signalBlockSource(blockExpression: string): string {
  const names = Object.entries(SignalWord)
    .map(([name, index]) => `${name} = ${index}`)
    .join(', ');
  return (
    `const sig = new Int32Array(${blockExpression}, 0, ${SIGNAL_WORD_COUNT});\n` +
    `const sigMs = new Float64Array(${blockExpression}, ${RESULT_MS_BYTE_OFFSET}, 1);\n` +
    `const ${names};`
  );
}
