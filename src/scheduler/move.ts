// `AgentPool.move(value)`: marks a task (host side) or a job's return value
// (agent side, the global `move` the bootstrap installs) so that its
// ArrayBuffers move instead of being copied. The marker is a plain object
// branded with a registered symbol, so both sides recognise it without
// sharing code (see agent-bootstrap.ts for the agent's copy of the walk).
//
// Without a list, move() moves every ArrayBuffer it can reach in the value
// (through arrays, plain objects, Maps, Sets and views); a value in which it
// finds none throws ERR_POOL_NOT_MOVABLE rather than being copied silently.
// With a list, exactly the list moves.
import { PoolError } from './errors.js';

export const kMove: unique symbol = Symbol.for('agentcluster.move') as never;

export interface Moved<T = unknown> {
  readonly [kMove]: true;
  readonly value: T;
  readonly transferList: readonly ArrayBuffer[];
}

function notMovable(message: string): PoolError {
  return new PoolError('ERR_POOL_NOT_MOVABLE', message, { name: 'TypeError' });
}

/** Every distinct ArrayBuffer reachable in `value` (SharedArrayBuffers are shared, never moved). */
export function defaultTransferList(value: unknown): ArrayBuffer[] {
  if (value instanceof ArrayBuffer) return [value]; // the usual `move(buffer)`: no walk
  const list = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object' || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof ArrayBuffer) list.add(item);
    else if (ArrayBuffer.isView(item)) {
      if (!(item.buffer instanceof ArrayBuffer)) continue;
      // Moving a view moves its whole ArrayBuffer: refuse it for a Buffer that is a slice (Node's shared pool).
      if (Buffer.isBuffer(item) && item.byteLength !== item.buffer.byteLength) {
        throw notMovable('A Buffer that is a slice of a larger ArrayBuffer (such as Node\'s shared Buffer pool) cannot be moved; copy it, or use Buffer.allocUnsafeSlow');
      }
      list.add(item.buffer);
    } else if (Array.isArray(item)) for (const v of item) stack.push(v);
    else if (item instanceof Map) for (const [k, v] of item) stack.push(k, v);
    else if (item instanceof Set) for (const v of item) stack.push(v);
    else if (Object.getPrototypeOf(item) === Object.prototype || Object.getPrototypeOf(item) === null) {
      for (const key of Object.keys(item)) stack.push((item as Record<string, unknown>)[key]);
    }
  }
  return [...list];
}

export function move<T>(value: T, transferList?: readonly ArrayBuffer[]): Moved<T> {
  if (transferList !== undefined) {
    if (!Array.isArray(transferList)) throw notMovable('The transferList of move() must be an array');
    return { [kMove]: true, value, transferList };
  }
  const found = defaultTransferList(value);
  if (found.length === 0) {
    throw notMovable('move() found no ArrayBuffer to move in the value (SharedArrayBuffers are shared, plain values are copied): pass the value itself, or a transferList');
  }
  return { [kMove]: true, value, transferList: found };
}

export function isMoved(value: unknown): value is Moved {
  return value !== null && typeof value === 'object' && (value as { [kMove]?: unknown })[kMove] === true;
}
