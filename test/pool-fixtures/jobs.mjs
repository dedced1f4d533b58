// Job module of the AgentPool tests: runs inside agents (no node: imports).
export default (x) => x + 1;

export async function double(x) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return x * 2;
}

export function echo(x) {
  return x;
}

export function fail({ message, code }) {
  const error = new TypeError(message);
  error.code = code;
  error.detail = { n: 1 };
  throw error;
}

export async function failAsync(message) {
  await null;
  throw new RangeError(message);
}

export function throwString() {
  throw 'a plain string';
}

// Transfer: fill the buffer it was given and send it back moved.
export function fill({ buffer, value }) {
  new Uint8Array(buffer).fill(value);
  return move(buffer);
}

export function byteLength(buffer) {
  return buffer.byteLength;
}

// Keeps a reference to the buffer it returns moved, to check it is detached afterwards.
let kept;
export function makeBuffer(size) {
  kept = new ArrayBuffer(size);
  new Uint8Array(kept).fill(7);
  return move(kept);
}
export function keptLength() {
  return kept.byteLength;
}

// Blocks until the host stores a non-zero value in slot 0; slot 1 counts starts.
export function block(sab) {
  const a = new Int32Array(sab);
  Atomics.add(a, 1, 1);
  Atomics.notify(a, 1);
  Atomics.wait(a, 0, 0);
  return 'released';
}

// Appends `value` to a shared log: slot 0 is the length.
export function record({ sab, value }) {
  const a = new Int32Array(sab);
  const i = Atomics.add(a, 0, 1);
  a[1 + i] = value;
  return value;
}

export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(() => resolve(ms), ms));
}

export function forever() {
  for (;;);
}

export function hog() {
  const hoard = [];
  for (;;) hoard.push(new Array(100_000).fill(Math.random()));
}

export function uncaughtLater() {
  setTimeout(() => {
    throw new Error('thrown from a timer');
  }, 0);
  return new Promise(() => {});
}

export function closeSelf() {
  close();
  return new Promise(() => {});
}

export function getData() {
  return agentData;
}

export function uncloneable() {
  return () => 1;
}

export function whoAmI() {
  return name;
}

let shared;
export function onBroadcast(value) {
  if (value === 'throw') throw new Error('broadcast handler failed');
  shared = value;
  globalThis.broadcastValue = value;
}
export function getShared() {
  return shared;
}

export function maybeFail(x) {
  if (typeof x === 'object') throw new Error(x.message);
  return x;
}

// Async: counts itself active in slot 1 (max in slot 2) until slot 0 opens.
export async function concurrent(sab) {
  const a = new Int32Array(sab);
  const now = Atomics.add(a, 1, 1) + 1;
  for (let max = Atomics.load(a, 2); now > max; max = Atomics.load(a, 2)) {
    if (Atomics.compareExchange(a, 2, max, now) === max) break;
  }
  while (Atomics.load(a, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  Atomics.sub(a, 1, 1);
  return 'done';
}

export function waits() {
  return Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

// move() of an object holding buffers: the buffers move back; `kept` sees them detached.
export function moveObject({ size, plain }) {
  if (plain) return move({ a: 1 }); // nothing to move: must throw ERR_POOL_NOT_MOVABLE
  kept = new ArrayBuffer(size);
  return move({ buffer: kept, views: new Map([['v', new Uint8Array(new ArrayBuffer(4))]]) });
}
// The task's buffers (moved in inside an object): their sizes.
export function sizes({ buffer, nested }) {
  return [buffer.byteLength, nested.list[0].byteLength];
}

// An array nested `depth` deep: deeper than the host's deserializer can read (pool-edges.test.ts).
export function nested(depth) {
  let value = null;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

// A task that moves a port in: answers on it, so the host sees the port arrived alive.
export function answerOnPort({ port, text }) {
  port.postMessage(`agent got ${text}`);
  return 'answered';
}

// Holds its moved buffer across an await (an async task that runs while others run).
export async function holdBuffer({ buffer, ms }) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return buffer.byteLength;
}
