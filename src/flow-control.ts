// The flow-control option shared by every message queue (docs/architecture.md,
// "Flow control"): `highWaterMark: { messages?, bytes? }`. Bytes are the
// serialized payload; transferred ArrayBuffers and SharedArrayBuffers are
// not copied and do not count.
import { invalidOption } from './agent/errors.js';

export interface HighWaterMark {
  /** Messages queued for the receiver before senders wait / see `false`. Default 4096. */
  messages?: number;
  /** Serialized bytes queued for the receiver before senders wait / see `false`. Default 16 MiB. */
  bytes?: number;
}

/** The defaults (native/shared/flow_control.h holds the same numbers). */
export const DEFAULT_HIGH_WATER_MARK: Readonly<Required<HighWaterMark>> = Object.freeze({ messages: 4096, bytes: 16 * 1024 * 1024 });

/** Validates a `highWaterMark` option; returns it with the defaults filled in. */
export function toHighWaterMark(value: unknown, name = 'highWaterMark'): Required<HighWaterMark> {
  if (value === undefined) return { ...DEFAULT_HIGH_WATER_MARK };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidOption(name, 'an object { messages?, bytes? }');
  const { messages, bytes, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalidOption(`${name}.${unknown[0]}`, 'absent (only messages and bytes are known)');
  const count = (v: unknown, key: 'messages' | 'bytes'): number => {
    if (v === undefined) return DEFAULT_HIGH_WATER_MARK[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalidOption(`${name}.${key}`, 'a positive integer');
    return v;
  };
  return { messages: count(messages, 'messages'), bytes: count(bytes, 'bytes') };
}
