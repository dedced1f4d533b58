// One submitted task, from run() to its settlement. The pool, the queue and
// the agent slots move it through its states; the transitions that reset
// several fields at once (settling, going back to the queue) live here.
import { unwatch } from './abort.js';
import type { AgentSlot } from './agent-slot.js';

/** In the pool's queue. */
export const QUEUED = 0;
/** Given to an agent slot (maybe still in its outbox, maybe behind other tasks inside the agent). */
export const DISPATCHED = 1;
/** Resolved, rejected or cancelled. */
export const SETTLED = 2;
export type TaskState = typeof QUEUED | typeof DISPATCHED | typeof SETTLED;

export class Task {
  state: TaskState = QUEUED;
  /** Ordering key in the queue (smaller runs first); see task-queue.ts. */
  key = 0;
  slot: AgentSlot | null = null;
  /** The agent-side sequence number once posted (0 while in the outbox). */
  seq = 0;
  /**
   * Posted to its agent with its transfer list: the data now lives there,
   * so if that agent goes away the task cannot be run elsewhere.
   */
  sent = false;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Agents that died of an error while holding it unstarted (it may be the cause: see the pool's slot exit). */
  deaths = 0;

  constructor(
    readonly id: number,
    readonly payload: unknown,
    readonly transfer: readonly ArrayBuffer[] | undefined,
    /** Export to call; undefined means the pool's default. */
    readonly name: string | undefined,
    readonly priority: number,
    /** performance.now() when queued (0 when it went straight to an agent). */
    readonly enqueuedAt: number,
    readonly resolve: (value: any) => void,
    readonly reject: (reason: unknown) => void,
  ) {}

  /** Marks it settled and disarms its signal and deadline (the caller resolves or rejects it). */
  settle(): void {
    this.state = SETTLED;
    if (this.onAbort !== undefined || this.timer !== undefined) unwatch(this);
  }

  /** Taken back from an agent that went away: it waits in the queue again, as if never dispatched. */
  requeue(): void {
    this.state = QUEUED;
    this.slot = null;
    this.seq = 0;
  }
}
