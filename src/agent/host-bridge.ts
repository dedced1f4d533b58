// The host side of the host bridge (`new Agent({ host })`, native/agent/host_bridge.h).
// The agent reaches exactly the functions snapshot here at creation; each call
// arrives as a kHostCall event with cloned arguments, runs on the host thread,
// and its settled result (thenables are resolved here, on the host) goes back
// as a clone: the agent never holds a host object, proxy or getter.
import { types } from 'node:util';
import { isMoved } from '../scheduler/move.js';
import { AgentError } from './errors.js';
import { invalidOption } from './errors.js';
import type { HostFunctions } from './options.js';

/** Tests only: an option key (not public API) that makes the agent's call ids wrap at this number instead of 2^32. */
export const hostCallIdLimitForTests = Symbol('agentcluster.hostCallIdLimit');

/** The functions of a `host` option, in the order the native side numbers them. */
export interface HostSnapshot {
  readonly names: readonly string[];
  readonly functions: readonly ((...args: unknown[]) => unknown)[];
  readonly receiver: object;
}

/**
 * Own enumerable string-keyed data properties whose value is a function: read
 * once, here (no prototype walk; accessors are not called, and are skipped).
 * `sync` is the name of the blocking namespace and cannot be a function name.
 */
export function snapshotHost(host: unknown): HostSnapshot | undefined {
  if (host === undefined) return undefined;
  if (host === null || typeof host !== 'object' || Array.isArray(host)) {
    throw invalidOption('host', 'an object of functions (the host bridge)', host);
  }
  const names: string[] = [];
  const functions: ((...args: unknown[]) => unknown)[] = [];
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(host))) {
    if (!descriptor.enumerable || !('value' in descriptor) || typeof descriptor.value !== 'function') continue;
    // Names cross to the agent as UTF-8: a lone surrogate would become U+FFFD and two names could collapse into one.
    if (/\p{Cs}/u.test(name)) throw invalidOption(`host[${JSON.stringify(name)}]`, 'a name without lone surrogates (a well-formed string)');
    if (name === 'sync') throw invalidOption('host.sync', 'left out: host.sync is the blocking form of every host function');
    names.push(name);
    functions.push(descriptor.value as (...args: unknown[]) => unknown);
  }
  return { names, functions, receiver: host };
}

/** [status, payload]: 0 returned value, 1 an error record, 2 a thrown non-error value. */
type Answer = [0 | 1 | 2, unknown];

/** An Error as a plain record (its getters run here, on the host); anything else is thrown as a clone. */
function encodeThrown(thrown: unknown): Answer {
  if (!(thrown instanceof Error)) return [2, thrown];
  try {
    const code = (thrown as { code?: unknown }).code;
    return [1, {
      name: String(thrown.name),
      message: String(thrown.message),
      stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
      code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    }];
  } catch (error) {
    return [1, { name: 'Error', message: `the host function threw an error whose properties threw: ${String(error)}` }];
  }
}

export type HostReply = (id: number, sync: boolean, answer: Answer, transfer?: readonly unknown[]) => boolean | undefined;

export class HostBridgeServer {
  /** Sync calls dispatched to a host function and not yet answered (the agent is blocked). */
  pendingSync = 0;

  constructor(private readonly snapshot: HostSnapshot, private readonly reply: HostReply) {}

  /** One kHostCall event: [id, method index, sync, args readable, args or the error that made them unreadable]. */
  call(id: number, index: number, sync: boolean, ok: boolean, args: unknown): void {
    if (sync) this.pendingSync++;
    void this.#run(id, index, sync, ok, args).finally(() => {
      if (sync) this.pendingSync--;
    });
  }

  async #run(id: number, index: number, sync: boolean, ok: boolean, args: unknown): Promise<void> {
    let answer: Answer;
    let transfer: readonly unknown[] | undefined;
    try {
      const fn = this.snapshot.functions[index];
      if (!ok) throw args;
      if (fn === undefined || !Array.isArray(args)) throw new AgentError('ERR_AGENT_INVALID_OPTION', `no host function number ${index}`);
      let result = await fn.apply(this.snapshot.receiver, args);
      // move(value, [buffers]) (AgentPool.move): the buffers move to the agent.
      if (isMoved(result)) {
        transfer = result.transferList;
        result = result.value;
      }
      answer = [0, result];
    } catch (error) {
      answer = encodeThrown(error);
    }
    try {
      this.reply(id, sync, exactViews(answer, transfer), transfer);
    } catch {
      // The result could not be cloned (a function, a symbol, a getter threw). The serializer's
      // message may quote host source text (a function's body), so the agent gets a generic one.
      try {
        this.reply(id, sync, [1, { name: 'DataCloneError', message: `the host function's answer could not be cloned: ${typeName(answer[1])}` }]);
      } catch {
        this.reply(id, sync, [1, { name: 'DataCloneError', message: 'the host function\'s answer could not be cloned' }]);
      }
    }
  }
}

/** A type name for an error message that reveals no host text (no function source, no values). */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  try {
    const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : 'Object';
  } catch {
    return 'object';
  }
}

/**
 * The structured clone writes the WHOLE ArrayBuffer behind a view: a 3-byte Buffer from Node's pool
 * would give the agent the 8 KiB slab shared with every other small Buffer of the host. Views over
 * part of their buffer are replaced by exact-size copies (same type, same bytes), in the answer and
 * in the arrays, plain objects, Maps and Sets it contains; other values are left as they are.
 * (Shared memory is not copied: a SharedArrayBuffer is shared on purpose.)
 */
function exactViews(answer: Answer, transfer: readonly unknown[] | undefined): Answer {
  const moving = new Set(transfer ?? []);  // a moved buffer goes as it is
  const seen = new Map<object, unknown>();
  const copy = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return seen.get(value);
    if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer;
      if (!(buffer instanceof ArrayBuffer) || moving.has(buffer) || (value.byteOffset === 0 && value.byteLength === buffer.byteLength)) {
        seen.set(value, value);
        return value;
      }
      const bytes = buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
      // A Buffer arrives as a Uint8Array anyway (the clone knows no Buffer): copied as one.
      const Kind = typedArrayClasses.find((c) => value instanceof c) ?? Uint8Array;
      const exact = value instanceof DataView ? new DataView(bytes) : new Kind(bytes);
      seen.set(value, exact);
      return exact;
    }
    if (Array.isArray(value) && !types.isProxy(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      let changed = false;
      for (let i = 0; i < value.length; i++) {
        const item = copy(value[i]);
        if (item !== value[i]) changed = true;
        out[i] = item;
      }
      if (changed) return out;
      seen.set(value, value);
      return value;
    }
    if (value instanceof Map && !types.isProxy(value)) {
      const out = new Map();
      seen.set(value, out);
      let changed = false;
      for (const [k, v] of value) {
        const [k2, v2] = [copy(k), copy(v)];
        if (k2 !== k || v2 !== v) changed = true;
        out.set(k2, v2);
      }
      if (changed) return out;
      seen.set(value, value);
      return value;
    }
    if (value instanceof Set && !types.isProxy(value)) {
      const out = new Set();
      seen.set(value, out);
      let changed = false;
      for (const v of value) {
        const v2 = copy(v);
        if (v2 !== v) changed = true;
        out.add(v2);
      }
      if (changed) return out;
      seen.set(value, value);
      return value;
    }
    // Proxies, errors, dates, class instances...: left to the clone as they are.
    if (types.isProxy(value)) return value;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    // A plain object is always copied (what the clone does anyway: own enumerable string keys,
    // as data): each getter then runs once, here, and never again in the serializer.
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, { value: copy((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return [answer[0], copy(answer[1])];
}

const typedArrayClasses: readonly (new (buffer: ArrayBuffer) => ArrayBufferView)[] = [Uint8Array, Int8Array,
  Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
