// AgentChannel: two entangled ports that carry structured-clone messages
// directly between their owners. A port moves to an agent (or back) by being
// listed in a postMessage transfer list; messages then go agent to agent
// without passing through the host. Ports are native objects on every side.
import { native } from '../native.js';
import { invalidOption } from '../agent/errors.js';
import { toHighWaterMark, type HighWaterMark } from '../flow-control.js';

export interface AgentPortMessageEvent {
  type: 'message';
  data: unknown;
  target: AgentPort;
  /** Every port of the message's transfer list (also those not in `data`), as MessageEvent.ports. */
  ports: AgentPort[];
}

export interface AgentPortCloseEvent {
  type: 'close';
  target: AgentPort;
}

export interface AgentPortDrainEvent {
  type: 'drain';
  target: AgentPort;
}

/** One end of an AgentChannel (the same shape inside agents). */
export interface AgentPort {
  /**
   * Sends a clone of `value` to the other end. Returns false if the other end
   * is closed (nothing was sent; the transfer list still moved), also when the
   * other end was in the transfer list (HTML's "doomed" rule: both ends close), or if the other end's queue is now at or
   * over its high-water mark (the message WAS queued: wait for 'drain'). Inside
   * an agent a full queue makes the call wait instead (until there is room,
   * the other end goes away, or the agent is terminated), unless both ends
   * live in that same agent or the other end is in transit (then false and
   * 'drain' as on the host); a post that waited returns true. Throws a DataCloneError for a bad transfer list
   * (this port itself in it, a detached buffer or port...), and a TypeError
   * once this port was transferred away or closed.
   */
  postMessage(value: unknown, transfer?: readonly unknown[] | { transfer?: readonly unknown[] }): boolean;
  /** Closes both ends; the other end gets a 'close' event. This port is released at once. */
  close(): void;
  /** Starts delivering messages (setting onmessage or adding a 'message' listener does it too). Until then they queue. */
  start(): void;
  onmessage: ((event: AgentPortMessageEvent) => void) | null;
  /** Called when the other end closed, was garbage-collected (no handler, no reference) or its agent ended (terminated, crashed, closed). */
  onclose: ((event: AgentPortCloseEvent) => void) | null;
  /** Called when the other end's queue, after having been full, fell to half the high-water mark. */
  ondrain: ((event: AgentPortDrainEvent) => void) | null;
  /** Messages this port sent that the other end has not taken yet. */
  readonly bufferedMessages: number;
  /** Serialized bytes of those messages. */
  readonly bufferedBytes: number;
  addEventListener(type: 'message', listener: (event: AgentPortMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: AgentPortCloseEvent) => void): void;
  addEventListener(type: 'drain', listener: (event: AgentPortDrainEvent) => void): void;
  removeEventListener(type: 'message' | 'close' | 'drain', listener: (event: never) => void): void;
}

export interface AgentChannelOptions {
  /** High-water mark of each port's inbound queue (default { messages: 4096, bytes: 16 MiB }). */
  highWaterMark?: HighWaterMark;
}

interface NativeChannel {
  port1: AgentPort;
  port2: AgentPort;
}

export class AgentChannel {
  readonly port1: AgentPort;
  readonly port2: AgentPort;

  constructor(options?: AgentChannelOptions) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw invalidOption('options', 'an object');
    }
    for (const key of Object.keys(options ?? {})) {
      if (key !== 'highWaterMark') throw invalidOption(key, 'highWaterMark (unknown AgentChannel option)');
    }
    const limits = toHighWaterMark(options?.highWaterMark);
    const channel = native.createChannel(limits.messages, limits.bytes) as NativeChannel;
    this.port1 = channel.port1;
    this.port2 = channel.port2;
  }
}
