// A minimal test262 host on plain Node.js (same V8 as our agents), used ONLY
// to attribute failures: "does V8 11.3 itself fail this test the same way?"
// It is a development tool, not part of the product (it uses node:vm and
// worker_threads, which the product never does).
//
//   node --expose-gc --experimental-vm-modules --no-warnings \
//        test262/tools/node-reference.mjs <test file> [--module] [--async] < scenario-source
//
// Reads the runnable scenario source (harness already prepended) on stdin and
// evaluates it in Node's main context (a real, interceptor-free global), with
// `print` and `$262` (createRealm through node:vm contexts, evalScript,
// detachArrayBuffer through a structuredClone transfer, gc through
// --expose-gc, IsHTMLDDA through %GetUndetectable() when started with
// --allow-natives-syntax, agent through worker_threads). stdout carries print
// output; the last stderr line is `@@RESULT {"error": {name, message, phase} | null}`.
import { readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

const args = process.argv.slice(2);
const file = path.resolve(args.find((a) => !a.startsWith('--')) ?? 'stdin.js');
const isModule = args.includes('--module');
const isAsync = args.includes('--async');
const source = readFileSync(0, 'utf8');

const gcFn = globalThis.gc; // --expose-gc's global is non-configurable; it stays

let reported = false;
function finish(error) {
  if (reported) return;
  reported = true;
  writeSync(2, `\n@@RESULT ${JSON.stringify({ error })}\n`);
  process.exit(0);
}
function describe(e, phase) {
  let name = 'Error';
  let message = '';
  try {
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
      const ctor = e.constructor;
      name = (typeof ctor === 'function' && ctor.name) || (typeof e.name === 'string' && e.name) || 'Error';
      message = e.message === undefined ? '' : String(e.message);
    } else {
      name = 'Error';
      message = String(e);
    }
  } catch {
    /* keep defaults */
  }
  return { name, message, phase };
}

function print(v) {
  const text = String(v);
  writeSync(1, text + '\n');
  if (isAsync && text.startsWith('Test262:AsyncTest')) setImmediate(() => finish(null));
}

function hidden(obj, name, value) {
  Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
}

// ---- $262.agent (worker_threads) -------------------------------------------
const agents = [];
const ctl = new Int32Array(new SharedArrayBuffer(8)); // [0] started count, [1] receipts
const AGENT_BOOT = `
const { workerData, parentPort } = require('node:worker_threads');
const vm = require('node:vm');
const ctl = new Int32Array(workerData.ctl);
const reportPort = workerData.reportPort;
let callback = null;
const pending = [];
function deliver() {
  while (callback && pending.length) { const m = pending.shift(); callback(m.sab, m.id); }
}
parentPort.on('message', (m) => {
  Atomics.add(ctl, 1, 1); Atomics.notify(ctl, 1);
  pending.push(m); deliver();
});
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const agent = {
  receiveBroadcast(fn) { callback = fn; setImmediate(deliver); },
  report(v) { reportPort.postMessage(String(v)); },
  sleep(ms) { Atomics.wait(sleepCell, 0, 0, ms); },
  leaving() {},
  monotonicNow() { return performance.now(); },
};
Object.defineProperty(globalThis, '$262', { value: { agent, global: globalThis }, writable: true, configurable: true });
Object.defineProperty(globalThis, 'print', { value: (v) => { require('node:fs').writeSync(1, String(v) + '\\n'); }, writable: true, configurable: true });
Atomics.add(ctl, 0, 1); Atomics.notify(ctl, 0);
vm.runInThisContext(workerData.src);
`;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const mainAgent = {
  start(src) {
    const before = Atomics.load(ctl, 0);
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(AGENT_BOOT, {
      eval: true,
      workerData: { src: String(src), ctl: ctl.buffer, reportPort: port2 },
      transferList: [port2],
    });
    w.unref();
    agents.push({ w, port: port1 });
    while (Atomics.load(ctl, 0) === before) Atomics.wait(ctl, 0, before, 50);
  },
  broadcast(sab, id) {
    const target = Atomics.load(ctl, 1) + agents.length;
    for (const a of agents) a.w.postMessage({ sab, id });
    let now;
    while ((now = Atomics.load(ctl, 1)) < target) Atomics.wait(ctl, 1, now, 50);
  },
  getReport() {
    for (const a of agents) {
      const m = receiveMessageOnPort(a.port);
      if (m) return m.message;
    }
    return null;
  },
  sleep(ms) {
    Atomics.wait(sleepCell, 0, 0, ms);
  },
  monotonicNow() {
    return performance.now();
  },
};

// ---- $262 --------------------------------------------------------------------
let undetectable;
try {
  undetectable = new Function('return %GetUndetectable()')();
} catch {
  undetectable = undefined; // not started with --allow-natives-syntax
}

function makeHost(realmGlobal, runScript, hostObject) {
  const host = hostObject;
  host.global = realmGlobal;
  host.createRealm = function createRealm() {
    const ctx = vm.createContext();
    const g = vm.runInContext('globalThis', ctx);
    const h = makeHost(g, (src) => vm.runInContext(src, ctx), vm.runInContext('({})', ctx));
    hidden(g, '$262', h);
    hidden(g, 'print', print);
    return h;
  };
  host.evalScript = function evalScript(src) {
    return runScript(String(src));
  };
  host.detachArrayBuffer = function detachArrayBuffer(buf) {
    structuredClone(undefined, { transfer: [buf] });
    return null;
  };
  host.gc = function gc() {
    if (!gcFn) throw new Error('gc unavailable (run with --expose-gc)');
    gcFn();
  };
  host.IsHTMLDDA = undetectable;
  host.agent = mainAgent;
  return host;
}

const mainHost = makeHost(globalThis, (src) => vm.runInThisContext(src), {});
hidden(globalThis, '$262', mainHost);
hidden(globalThis, 'print', print);

// ---- modules -------------------------------------------------------------------
const modules = new Map();
function loadModule(specifier, referrerFile, attrs) {
  const abs = path.resolve(path.dirname(referrerFile), specifier);
  const type = attrs?.type ?? (abs.endsWith('.json') ? 'json' : undefined);
  const key = `${abs}\0${type ?? 'js'}`;
  let m = modules.get(key);
  if (m) return m;
  const text = readFileSync(abs, 'utf8');
  if (type === 'json') {
    const value = JSON.parse(text);
    m = new vm.SyntheticModule(['default'], function () {
      this.setExport('default', value);
    }, { identifier: abs });
  } else if (type === 'text') {
    m = new vm.SyntheticModule(['default'], function () {
      this.setExport('default', text);
    }, { identifier: abs });
  } else {
    m = new vm.SourceTextModule(text, {
      identifier: abs,
      initializeImportMeta: (meta) => (meta.url = 'file://' + abs),
      importModuleDynamically: (spec, _ref, a) => dynamicImport(spec, abs, a),
    });
  }
  modules.set(key, m);
  return m;
}
function linker(referrerFile) {
  return (spec, referencing, extra) => {
    const attrs = extra?.attributes ?? extra?.assert;
    return loadModule(spec, referencing?.identifier ?? referrerFile, attrs);
  };
}
async function dynamicImport(spec, referrerFile, attrs) {
  const m = loadModule(spec, referrerFile, attrs);
  if (m.status === 'unlinked') await m.link(linker(m.identifier));
  if (m.status === 'linked') await m.evaluate();
  return m;
}

process.on('unhandledRejection', () => {});
process.on('uncaughtException', (e) => finish(describe(e, 'runtime')));
process.on('beforeExit', () => finish(null));

async function main() {
  if (isModule) {
    let m;
    try {
      m = new vm.SourceTextModule(source, {
        identifier: file,
        initializeImportMeta: (meta) => (meta.url = 'file://' + file),
        importModuleDynamically: (spec, _ref, a) => dynamicImport(spec, file, a),
      });
    } catch (e) {
      return finish(describe(e, 'parse'));
    }
    modules.set(`${file}\0js`, m);
    try {
      await m.link(linker(file));
      m.instantiate?.();
    } catch (e) {
      return finish(describe(e, 'resolution'));
    }
    try {
      await m.evaluate();
    } catch (e) {
      return finish(describe(e, 'runtime'));
    }
  } else {
    let script;
    try {
      script = new vm.Script(source, {
        filename: file,
        importModuleDynamically: (spec, _ref, a) => dynamicImport(spec, file, a),
      });
    } catch (e) {
      return finish(describe(e, 'parse'));
    }
    try {
      script.runInThisContext();
    } catch (e) {
      return finish(describe(e, 'runtime'));
    }
  }
  if (!isAsync) setImmediate(() => finish(null));
}
void main();
