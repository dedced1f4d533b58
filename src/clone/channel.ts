// AgentChannel: two entangled ports that carry structured-clone messages
// directly between their owners. A port moves to an agent (or back) by being
// listed in a postMessage transfer list; messages then go agent to agent
// without passing through the host. Ports are native objects on every side.
import { native } from '../native.js';

export interface AgentPortMessageEvent {
  type: 'message';
  data: unknown;
  target: AgentPort;
}

export interface AgentPortCloseEvent {
  type: 'close';
  target: AgentPort;
}

/** One end of an AgentChannel (the same shape inside agents). */
export interface AgentPort {
  /** Sends a clone of `value` to the other end; false if the other end is closed. Throws a TypeError once this port was transferred away or its 'close' event was delivered. */
  postMessage(value: unknown, transfer?: readonly unknown[] | { transfer?: readonly unknown[] }): boolean;
  /** Closes both ends; the other end gets a 'close' event. */
  close(): void;
  onmessage: ((event: AgentPortMessageEvent) => void) | null;
  /** Called when the other end closed or its agent ended (terminated, crashed, closed). */
  onclose: ((event: AgentPortCloseEvent) => void) | null;
  addEventListener(type: 'message', listener: (event: AgentPortMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: AgentPortCloseEvent) => void): void;
  removeEventListener(type: 'message' | 'close', listener: (event: never) => void): void;
}

interface NativeChannel {
  port1: AgentPort;
  port2: AgentPort;
}

export class AgentChannel {
  readonly port1: AgentPort;
  readonly port2: AgentPort;

  constructor() {
    const channel = native.createChannel() as NativeChannel;
    this.port1 = channel.port1;
    this.port2 = channel.port2;
  }
}
