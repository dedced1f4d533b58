// The code every pool agent runs (an ES module, given to `new Agent` as
// source). It imports the job module by file URL, then serves tasks.
//
// Protocol (flat arrays, three slots per entry, so a batch is one message):
//   host -> agent  [id, payload, name, ...]   id > 0: a task (name undefined: the default job)
//                                             id < 0: broadcast number -id of `payload`
//   agent -> host  [id, value, ms, ...]       id > 0: task id fulfilled with value, ran ms
//                                             id < 0: task -id threw; value is an error envelope
//                                             id = 0: broadcast number `value` done; ms: envelope if it threw
//
// Cancellation before start, without a round trip: the host and the agent
// share `ctl`, an Int32Array ring indexed by the agent-local sequence number
// s of each task (both sides count tasks in posting order). The host writes
// s when it posts the task; the agent CASes s -> -s when it starts it; the
// host CASes s -> 0 to cancel it. Whoever wins decides: a task is either
// cancelled before it ever ran, or it is running (and the host terminates
// the agent).
//
// Results of synchronous jobs that ran from one incoming batch go back as
// one message; async jobs run up to `concurrency` at a time and report as
// they settle.
//
// The latency path: unwrapped messages. When one side has handled every
// message the other posted (each side publishes how many it has handled in
// `sig`), the next message may be a bare value: one task whose id is in
// sig[TASK] and export in sig[NAME] (0: the default, n: the n-th name the
// agent has seen in wrapped entries; both sides number names in stream
// order) (host -> agent), or one fulfilled result whose id is in
// sig[RESULT] and run time in the float64 (agent -> host). The receiver reads and clears the id before it publishes
// its handled count, so an id in `sig` always belongs to the very message
// being received. Array wrappers cost a good part of a round trip.
//   sig: the int32 words and the float64 declared in signal-block.ts

import { signalBlockSource } from './signal-block.js';

export interface BootstrapConfig {
  /** file: URL of the job module. */
  url: string;
  /** Export called when a task names none. */
  name: string;
  /** SharedArrayBuffer of the cancel ring (a power of two of Int32 slots). */
  ctl: SharedArrayBuffer;
  /** The signal block of unwrapped messages (signal-block.ts). */
  sig: SharedArrayBuffer;
  /** Async tasks in progress at once. */
  concurrency: number;
  /** The pool's `data` option: the agent's `agentData` once the bootstrap ran. */
  data: unknown;
}

export const bootstrapSource = String.raw`
const config = agentData;
const ctl = new Int32Array(config.ctl);
const mask = ctl.length - 1;
const limit = config.concurrency;
${signalBlockSource('config.sig')}
const names = []; // export names in the order they came in wrapped entries
const known = new Set();
let received = 0; // messages handled (published as sig[AGENT_SEEN])
let sent = 0; // messages posted (the host publishes sig[HOST_SEEN])
const now = performance.now;
const kMove = Symbol.for('agentcluster.move');

// The host's move() (move.ts), in the agent: every ArrayBuffer reachable in the value moves; none found throws.
function notMovable(message) {
  const error = new TypeError(message);
  error.code = 'ERR_POOL_NOT_MOVABLE';
  return error;
}
function transferOf(value) {
  if (value instanceof ArrayBuffer) return [value]; // the usual move(buffer): no walk
  const list = new Set();
  const seen = new Set();
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object' || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof ArrayBuffer) list.add(item);
    else if (ArrayBuffer.isView(item)) { if (item.buffer instanceof ArrayBuffer) list.add(item.buffer); }
    else if (Array.isArray(item)) for (const v of item) stack.push(v);
    else if (item instanceof Map) for (const [k, v] of item) stack.push(k, v);
    else if (item instanceof Set) for (const v of item) stack.push(v);
    else if (Object.getPrototypeOf(item) === Object.prototype || Object.getPrototypeOf(item) === null) {
      for (const key of Object.keys(item)) stack.push(item[key]);
    }
  }
  return [...list];
}
function move(value, transferList) {
  if (transferList !== undefined) {
    if (!Array.isArray(transferList)) throw notMovable('The transferList of move() must be an array');
    return { [kMove]: true, value, transferList };
  }
  const found = transferOf(value);
  if (found.length === 0) throw notMovable('move() found no ArrayBuffer to move in the value (SharedArrayBuffers are shared, plain values are copied): pass the value itself, or a transferList');
  return { [kMove]: true, value, transferList: found };
}
// The channel to the host is the pool's: jobs return their results.
const post = postMessage;
Object.defineProperty(globalThis, 'postMessage', {
  value: function postMessage() {
    throw new TypeError('postMessage() is not available to pool jobs: return the result (or use a SharedArrayBuffer)');
  },
  writable: true, configurable: true, enumerable: false,
});
Object.defineProperty(globalThis, 'move', { value: move, writable: true, configurable: true, enumerable: false });
Object.defineProperty(globalThis, 'agentData', { value: config.data, writable: true, configurable: true, enumerable: false });

// Through the wrapper (job-namespace.ts): a job exporting then() would make import(config.url) adopt it.
const { ns } = await import('agentcluster:internal/pool-job');
const fns = new Map();
function lookup(name) {
  let fn = fns.get(name);
  if (fn !== undefined) return fn;
  fn = ns[name];
  if (typeof fn !== 'function') {
    const error = new TypeError('The job module ' + config.url + ' has no ' + (name === 'default' ? 'default export' : 'export named "' + name + '"') + ' that is a function');
    error.code = 'ERR_POOL_JOB_NOT_FOUND';
    throw error;
  }
  fns.set(name, fn);
  return fn;
}
let defaultFn;

function envelope(e, depth) {
  if (e instanceof Error) {
    const data = { name: String(e.name), message: String(e.message), stack: typeof e.stack === 'string' ? e.stack : undefined, props: undefined, cause: undefined };
    const keys = Object.keys(e);
    if (keys.length > 0) {
      data.props = {};
      for (const key of keys) { try { data.props[key] = e[key]; } catch {} }
    }
    if (e.cause !== undefined && (depth || 0) < 4) data.cause = envelope(e.cause, (depth || 0) + 1);
    return [1, data];
  }
  return [0, e];
}
function plain(env) {
  // An envelope stripped to strings, for when its props could not be cloned.
  if (env[0] === 1) return [1, { name: env[1].name, message: env[1].message, stack: env[1].stack }];
  let text;
  try { text = String(env[1]); } catch { text = 'a value that could not be cloned'; }
  return [1, { name: 'Error', message: text }];
}

let out = [];
let moved = null; // [[index in out, transferList], ...]
let seq = 0;
let active = 0;
const backlog = [];

function done(id, value, t0) {
  const ms = now() - t0;
  if (value !== null && typeof value === 'object' && value[kMove] === true) {
    (moved === null ? (moved = []) : moved).push([out.length, value.transferList]);
    out.push(id, value.value, ms);
  } else {
    out.push(id, value, ms);
  }
}

function start(id, payload, name, s) {
  if (Atomics.compareExchange(ctl, s & mask, s, -s) !== s) return; // cancelled before it started
  const t0 = now();
  let result;
  try {
    result = (name === undefined ? (defaultFn === undefined ? (defaultFn = lookup(config.name)) : defaultFn) : lookup(name))(payload);
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function') {
      const promise = Promise.resolve(result);
      active++;
      promise.then((value) => settle(id, value, t0, true), (error) => settle(id, error, t0, false));
      return;
    }
  } catch (error) {
    out.push(-id, envelope(error, 0), now() - t0);
    return;
  }
  done(id, result, t0);
}

function settle(id, value, t0, ok) {
  active--;
  if (ok) done(id, value, t0);
  else out.push(-id, envelope(value, 0), now() - t0);
  while (active < limit && backlog.length > 0) {
    const next = backlog.shift();
    start(next[0], next[1], next[2], next[3]);
  }
  flush();
}

function broadcast(bid, value) {
  const handler = ns.onBroadcast;
  if (typeof handler !== 'function') { out.push(0, bid, undefined); return; }
  try {
    const result = handler(value);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      Promise.resolve(result).then(
        () => { out.push(0, bid, undefined); flush(); },
        (error) => { out.push(0, bid, envelope(error, 0)); flush(); },
      );
      return;
    }
    out.push(0, bid, undefined);
  } catch (error) {
    out.push(0, bid, envelope(error, 0));
  }
}

function send(value, transfer) {
  post(value, transfer);
  sent = (sent + 1) | 0;
}

function flush() {
  if (out.length === 0) return;
  const batch = out;
  const lists = moved;
  out = [];
  moved = null;
  if (batch.length === 3 && batch[0] > 0 && sent === Atomics.load(sig, HOST_SEEN)) {
    // One result and the host has read everything before it: unwrapped.
    Atomics.store(sig, RESULT, batch[0]);
    sigMs[0] = batch[2];
    try {
      send(batch[1], lists === null ? undefined : lists[0][1]);
      return;
    } catch {
      Atomics.store(sig, RESULT, 0);
    }
  }
  try {
    if (lists === null) send(batch);
    else {
      const all = [];
      for (const entry of lists) for (const buffer of entry[1]) all.push(buffer);
      send(batch, all);
    }
    return;
  } catch {}
  // Something in the batch cannot be cloned: send the entries one by one so
  // that only the culprit fails.
  for (let i = 0; i < batch.length; i += 3) {
    const id = batch[i];
    let list;
    if (lists !== null) for (const entry of lists) if (entry[0] === i) list = entry[1];
    try {
      send([id, batch[i + 1], batch[i + 2]], list);
      continue;
    } catch (error) {
      try {
        if (id > 0) send([-id, envelope(error, 0), batch[i + 2]]);
        else if (id < 0) send([id, plain(batch[i + 1]), batch[i + 2]]);
        else send([0, batch[i + 1], plain(batch[i + 2])]);
      } catch {
        const failure = [1, { name: 'DataCloneError', message: 'The result could not be cloned' }];
        if (id === 0) send([0, batch[i + 1], failure]);
        else send([id > 0 ? -id : id, failure, 0]);
      }
    }
  }
}

addEventListener('message', (event) => {
  const raw = Atomics.load(sig, TASK);
  let name;
  if (raw !== 0) {
    // Read and clear before publishing the count: see the top.
    const n = Atomics.load(sig, NAME);
    if (n !== 0) name = names[n - 1];
    Atomics.store(sig, TASK, 0);
  }
  Atomics.store(sig, AGENT_SEEN, (received = (received + 1) | 0));
  if (raw !== 0) {
    // One unwrapped task (the latency path).
    seq = seq === 0x3fffffff ? 1 : seq + 1;
    if (active < limit && backlog.length === 0) start(raw, event.data, name, seq);
    else backlog.push([raw, event.data, name, seq]);
    flush();
    return;
  }
  const m = event.data;
  let t = now();
  for (let i = 0; i < m.length; i += 3) {
    const id = m[i];
    if (id > 0) {
      name = m[i + 2];
      if (name !== undefined && !known.has(name)) {
        known.add(name);
        names.push(name);
      }
      seq = seq === 0x3fffffff ? 1 : seq + 1;
      if (active < limit && backlog.length === 0) start(id, m[i + 1], m[i + 2], seq);
      else backlog.push([id, m[i + 1], m[i + 2], seq]);
      if (out.length !== 0 && i + 3 < m.length) {
        // A long batch: do not hold finished results back for more than a millisecond.
        const t1 = now();
        if (t1 - t > 1) { flush(); t = t1; }
      }
    } else {
      broadcast(-id, m[i + 1]);
    }
  }
  flush();
});
`;
