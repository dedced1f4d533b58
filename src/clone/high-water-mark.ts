// The flow-control high-water mark of a message queue (docs/architecture.md,
// "Flow control"): at or above either figure the queue is full; it has
// drained once both are at or below half. Bytes are serialized payload
// bytes; transferred ArrayBuffers and shared memory are not counted.
import { invalidOption } from '../agent/errors.js';

export interface HighWaterMark {
  /** Queued messages (default 4096). */
  messages?: number;
  /** Queued serialized bytes (default 16 MiB). */
  bytes?: number;
}

export const DEFAULT_HIGH_WATER_MARK: Readonly<Required<HighWaterMark>> = Object.freeze({
  messages: 4096,
  bytes: 16 * 1024 * 1024,
});

/** Validates `{ messages?, bytes? }` (each a number >= 1) and fills in the defaults. */
export function resolveHighWaterMark(value: unknown, optionName = 'highWaterMark'): Required<HighWaterMark> {
  if (value === undefined) return { ...DEFAULT_HIGH_WATER_MARK };
  if (value === null || typeof value !== 'object') throw invalidOption(optionName, 'an object { messages?, bytes? }');
  const known = new Set(['messages', 'bytes']);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalidOption(`${optionName}.${key}`, 'one of messages, bytes (unknown option)');
  }
  const { messages, bytes } = value as HighWaterMark;
  const check = (figure: unknown, key: string): number | undefined => {
    if (figure === undefined) return undefined;
    if (typeof figure !== 'number' || !(figure >= 1)) throw invalidOption(`${optionName}.${key}`, 'a number >= 1');
    return figure;
  };
  return {
    messages: check(messages, 'messages') ?? DEFAULT_HIGH_WATER_MARK.messages,
    bytes: check(bytes, 'bytes') ?? DEFAULT_HIGH_WATER_MARK.bytes,
  };
}
