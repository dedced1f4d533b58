// `AgentPool.move(value)`: marks a task (host side) or a job's return value
// (agent side, the global `move` the bootstrap installs) so that its
// ArrayBuffers move instead of being copied. The marker is a plain object
// branded with a registered symbol, so both sides recognise it without
// sharing code (see agent-bootstrap.ts for the agent's copy).

export const kMove: unique symbol = Symbol.for('agentcluster.move') as never;

export interface Moved<T = unknown> {
  readonly [kMove]: true;
  readonly value: T;
  readonly transferList: readonly ArrayBuffer[];
}

/** The ArrayBuffers `move(value)` moves when no list is given: the value itself, a view's buffer, or those of an array's items. */
export function defaultTransferList(value: unknown): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  const add = (item: unknown) => {
    if (item instanceof ArrayBuffer) {
      if (!list.includes(item)) list.push(item);
    } else if (ArrayBuffer.isView(item) && item.buffer instanceof ArrayBuffer) {
      if (!list.includes(item.buffer)) list.push(item.buffer);
    }
  };
  if (Array.isArray(value)) value.forEach(add);
  else add(value);
  return list;
}

export function move<T>(value: T, transferList?: readonly ArrayBuffer[]): Moved<T> {
  return { [kMove]: true, value, transferList: transferList ?? defaultTransferList(value) };
}

export function isMoved(value: unknown): value is Moved {
  return value !== null && typeof value === 'object' && (value as { [kMove]?: unknown })[kMove] === true;
}
