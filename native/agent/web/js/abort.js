// AbortController and AbortSignal (DOM Standard), with AbortSignal.abort,
// .timeout, .any, throwIfAborted and reason. A dependent signal (any()) is
// held weakly by its sources, so long-lived sources do not pin them, except
// while it has 'abort' listeners: then its sources hold it strongly (`held`),
// as the DOM Standard requires, until it aborts or loses its listeners.
const { DOMException } = require('domexception');
const { EventTarget, Event, setAbortSignalCheck, setListenerHook, listenerMapOf, defineEventHandler } = require('event');
const { setTimeout } = natives.captured;

const kInternal = Symbol('internal');
const signals = new WeakSet();

function check(signal) {
  if (!signals.has(signal)) throw new TypeError('Illegal invocation');
  return signal[kInternal];
}

function abortError() {
  return new DOMException('This operation was aborted', 'AbortError');
}

// Unregisters dead dependents from their sources.
const dependentsRegistry = new FinalizationRegistry(({ sources, ref }) => {
  for (const source of sources) source.dependents.delete(ref);
});

class AbortSignal extends EventTarget {
  constructor(key = undefined) {
    if (key !== kInternal) throw new TypeError('Illegal constructor');
    super();
    signals.add(this);
    Object.defineProperty(this, kInternal, {
      value: { aborted: false, reason: undefined, dependents: new Set(), held: new Set(), dependent: false, sources: [] },
    });
  }

  get aborted() { return check(this).aborted; }
  get reason() { return check(this).reason; }

  throwIfAborted() {
    const state = check(this);
    if (state.aborted) throw state.reason;
  }

  static abort(reason = undefined) {
    const signal = new AbortSignal(kInternal);
    const state = signal[kInternal];
    state.aborted = true;
    state.reason = reason === undefined ? abortError() : reason;
    return signal;
  }

  static timeout(milliseconds) {
    const delay = Number(milliseconds);
    if (!Number.isFinite(delay) || delay < 0 || delay > Number.MAX_SAFE_INTEGER) {
      throw new TypeError('The "milliseconds" argument must be a non-negative finite number');
    }
    const signal = new AbortSignal(kInternal);
    setTimeout(() => {
      signalAbort(signal, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, Math.trunc(delay));
    return signal;
  }

  static any(signalsIterable) {
    const list = [];
    for (const item of signalsIterable) {
      check(item);
      list.push(item);
    }
    const result = new AbortSignal(kInternal);
    const state = result[kInternal];
    for (const source of list) {
      if (source[kInternal].aborted) {
        state.aborted = true;
        state.reason = source[kInternal].reason;
        return result;
      }
    }
    state.dependent = true;
    const ref = new WeakRef(result);
    const roots = new Set();
    for (const source of list) {
      const sourceState = source[kInternal];
      const parents = sourceState.dependent ? sourceState.sources : [source];
      for (const parent of parents) {
        const parentState = parent[kInternal];
        if (roots.has(parentState)) continue;
        roots.add(parentState);
        parentState.dependents.add(ref);
        state.sources.push(parent);
      }
    }
    dependentsRegistry.register(result, { sources: [...roots], ref });
    dependentByListeners.set(listenerMapOf(result), result);
    return result;
  }
}

// listener map -> its dependent signal (to find it from the listener hook)
const dependentByListeners = new WeakMap();
setListenerHook((map, type) => {
  if (type !== 'abort') return;
  const dependent = dependentByListeners.get(map);
  if (dependent === undefined) return;
  const state = dependent[kInternal];
  if (state.aborted) return;
  const listened = map.has('abort');
  for (const source of state.sources) {
    if (listened) source[kInternal].held.add(dependent);
    else source[kInternal].held.delete(dependent);
  }
});

function release(dependent) {
  for (const source of dependent[kInternal].sources) source[kInternal].held.delete(dependent);
}

function signalAbort(signal, reason) {
  const state = signal[kInternal];
  if (state.aborted) return;
  state.aborted = true;
  state.reason = reason === undefined ? abortError() : reason;
  const toAbort = [];
  for (const ref of state.dependents) {
    const dependent = ref.deref();
    if (dependent !== undefined && !dependent[kInternal].aborted) {
      dependent[kInternal].aborted = true;
      dependent[kInternal].reason = state.reason;
      toAbort.push(dependent);
    }
  }
  state.dependents.clear();
  state.held.clear();
  for (const dependent of toAbort) release(dependent);
  signal.dispatchEvent(new Event('abort'));
  for (const dependent of toAbort) dependent.dispatchEvent(new Event('abort'));
}

defineEventHandler(AbortSignal.prototype, 'abort');
for (const key of ['aborted', 'reason', 'throwIfAborted']) {
  Object.defineProperty(AbortSignal.prototype, key, { enumerable: true });
}
Object.defineProperty(AbortSignal.prototype, Symbol.toStringTag, { value: 'AbortSignal', configurable: true });
setAbortSignalCheck((value) => signals.has(value));

class AbortController {
  #signal = new AbortSignal(kInternal);
  get signal() { return this.#signal; }
  abort(reason = undefined) { signalAbort(this.#signal, reason); }
}
Object.defineProperty(AbortController.prototype, 'signal', { enumerable: true });
Object.defineProperty(AbortController.prototype, 'abort', { enumerable: true });
Object.defineProperty(AbortController.prototype, Symbol.toStringTag, { value: 'AbortController', configurable: true });

return { AbortController, AbortSignal };
