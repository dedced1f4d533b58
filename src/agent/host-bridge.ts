// The host side of the host bridge (`new Agent({ host })`, native/host_bridge.h).
// The agent reaches exactly the functions snapshot here at creation; each call
// arrives as a kHostCall event with cloned arguments, runs on the host thread,
// and its settled result (thenables are resolved here, on the host) goes back
// as a clone: the agent never holds a host object, proxy or getter.
import { isMoved } from '../scheduler/move.js';
import { AgentError } from './errors.js';
import { invalidOption } from './errors.js';
import type { HostFunctions } from './options.js';

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
      this.reply(id, sync, answer, transfer);
    } catch (error) {
      // The result could not be cloned (a function, a symbol, a getter threw): the call rejects with that.
      try {
        this.reply(id, sync, encodeThrown(error));
      } catch {
        this.reply(id, sync, [1, { name: 'Error', message: 'the host function threw a value that cannot be cloned' }]);
      }
    }
  }
}
