// Event, CustomEvent and EventTarget (DOM Standard), without the tree
// parts: an agent has no nodes, so dispatch is at-target only.
const { DOMException } = require('domexception');
const { queueMicrotask, performance } = natives.captured;
const now = performance.now;

const NONE = 0, CAPTURING_PHASE = 1, AT_TARGET = 2, BUBBLING_PHASE = 3;
const kState = Symbol('event state');

function stateOf(event) {
  const state = event !== null && typeof event === 'object' ? event[kState] : undefined;
  if (state === undefined) throw new TypeError('Illegal invocation');
  return state;
}

class Event {
  constructor(type, options = undefined) {
    if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('The "options" argument must be an object');
    }
    Object.defineProperty(this, kState, {
      value: {
        type: `${type}`,
        bubbles: !!options?.bubbles,
        cancelable: !!options?.cancelable,
        composed: !!options?.composed,
        canceled: false,
        inPassive: false,
        stop: false,
        stopImmediate: false,
        dispatching: false,
        target: null,
        currentTarget: null,
        phase: NONE,
        timeStamp: now.call(performance),
      },
    });
    Object.defineProperty(this, 'isTrusted', { get: isTrusted, enumerable: true });
  }

  get type() { return stateOf(this).type; }
  get bubbles() { return stateOf(this).bubbles; }
  get cancelable() { return stateOf(this).cancelable; }
  get composed() { return stateOf(this).composed; }
  get defaultPrevented() { return stateOf(this).canceled; }
  get target() { return stateOf(this).target; }
  get srcElement() { return stateOf(this).target; }
  get currentTarget() { return stateOf(this).currentTarget; }
  get eventPhase() { return stateOf(this).phase; }
  get timeStamp() { return stateOf(this).timeStamp; }
  get returnValue() { return !stateOf(this).canceled; }
  set returnValue(value) { if (!value) this.preventDefault(); }
  get cancelBubble() { return stateOf(this).stop; }
  set cancelBubble(value) { if (value) stateOf(this).stop = true; }

  composedPath() {
    const state = stateOf(this);
    return state.dispatching && state.currentTarget ? [state.currentTarget] : [];
  }
  stopPropagation() { stateOf(this).stop = true; }
  stopImmediatePropagation() {
    const state = stateOf(this);
    state.stop = true;
    state.stopImmediate = true;
  }
  preventDefault() {
    const state = stateOf(this);
    if (state.cancelable && !state.inPassive) state.canceled = true;
  }
  initEvent(type, bubbles = false, cancelable = false) {
    const state = stateOf(this);
    if (state.dispatching) return;
    state.type = `${type}`;
    state.bubbles = !!bubbles;
    state.cancelable = !!cancelable;
    state.canceled = state.stop = state.stopImmediate = false;
    state.target = null;
  }
}

function isTrusted() { return false; }

for (const [key, value] of [['NONE', NONE], ['CAPTURING_PHASE', CAPTURING_PHASE], ['AT_TARGET', AT_TARGET], ['BUBBLING_PHASE', BUBBLING_PHASE]]) {
  const descriptor = { value, enumerable: true };
  Object.defineProperty(Event, key, descriptor);
  Object.defineProperty(Event.prototype, key, descriptor);
}
for (const key of ['type', 'bubbles', 'cancelable', 'composed', 'defaultPrevented', 'target', 'srcElement', 'currentTarget', 'eventPhase', 'timeStamp', 'returnValue', 'cancelBubble', 'composedPath', 'stopPropagation', 'stopImmediatePropagation', 'preventDefault', 'initEvent']) {
  Object.defineProperty(Event.prototype, key, { enumerable: true });
}
Object.defineProperty(Event.prototype, Symbol.toStringTag, { value: 'Event', configurable: true });

class CustomEvent extends Event {
  #detail;
  constructor(type, options = undefined) {
    if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
    super(type, options);
    this.#detail = options?.detail ?? null;
  }
  get detail() { return this.#detail; }
  initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
    if (stateOf(this).dispatching) return;
    this.initEvent(type, bubbles, cancelable);
    this.#detail = detail;
  }
}
Object.defineProperty(CustomEvent.prototype, 'detail', { enumerable: true });
Object.defineProperty(CustomEvent.prototype, Symbol.toStringTag, { value: 'CustomEvent', configurable: true });

const kListeners = Symbol('listeners');

function flatten(options) {
  if (typeof options === 'boolean' || options === undefined || options === null) {
    return { capture: !!options, once: false, passive: false, signal: undefined };
  }
  if (typeof options !== 'object') return { capture: !!options, once: false, passive: false, signal: undefined };
  const signal = options.signal;
  return { capture: !!options.capture, once: !!options.once, passive: !!options.passive, signal };
}

function listenersOf(target) {
  const map = target !== null && (typeof target === 'object' || typeof target === 'function') ? target[kListeners] : undefined;
  if (map === undefined) throw new TypeError('Illegal invocation');
  return map;
}

// Errors in listeners are reported as uncaught (after the dispatch), as
// Node does; the remaining listeners still run.
function report(error) {
  queueMicrotask(() => { throw error; });
}

class EventTarget {
  constructor() {
    Object.defineProperty(this, kListeners, { value: new Map() });
  }

  addEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError('The "type" and "listener" arguments must be specified');
    const map = listenersOf(this);
    const { capture, once, passive, signal } = flatten(options);
    if (callback === null || callback === undefined) return;
    if (typeof callback !== 'function' && typeof callback !== 'object') {
      throw new TypeError('The "listener" argument must be an object or a function');
    }
    if (signal !== undefined) {
      if (!isAbortSignal(signal)) throw new TypeError('The "signal" option must be an AbortSignal');
      if (signal.aborted) return;
    }
    type = `${type}`;
    let list = map.get(type);
    if (list === undefined) map.set(type, (list = []));
    if (list.some((entry) => entry.callback === callback && entry.capture === capture)) return;
    const entry = { callback, capture, once, passive, removed: false };
    list.push(entry);
    listenersChanged(map, type);
    if (signal !== undefined) {
      signal.addEventListener('abort', () => removeEntry(map, type, entry), { once: true });
    }
  }

  removeEventListener(type, callback, options = undefined) {
    if (arguments.length < 2) throw new TypeError('The "type" and "listener" arguments must be specified');
    const map = listenersOf(this);
    const { capture } = flatten(options);
    type = `${type}`;
    const list = map.get(type);
    if (list === undefined) return;
    const entry = list.find((item) => item.callback === callback && item.capture === capture);
    if (entry !== undefined) removeEntry(map, type, entry);
  }

  dispatchEvent(event) {
    const map = listenersOf(this);
    if (!(event instanceof Event)) throw new TypeError('The "event" argument must be an instance of Event');
    const state = stateOf(event);
    if (state.dispatching) throw new DOMException('The event is already being dispatched', 'InvalidStateError');
    state.dispatching = true;
    state.target = this;
    state.currentTarget = this;
    state.phase = AT_TARGET;
    const list = map.get(state.type);
    if (list !== undefined) {
      for (const entry of list.slice()) {
        if (entry.removed) continue;
        if (entry.once) removeEntry(map, state.type, entry);
        state.inPassive = entry.passive;
        try {
          const callback = entry.callback;
          if (typeof callback === 'function') {
            callback.call(this, event);
          } else {
            const handle = callback.handleEvent;
            if (typeof handle !== 'function') throw new TypeError('The listener has no handleEvent method');
            handle.call(callback, event);
          }
        } catch (error) {
          report(error);
        }
        state.inPassive = false;
        if (state.stopImmediate) break;
      }
    }
    state.dispatching = false;
    state.phase = NONE;
    state.currentTarget = null;
    state.stop = state.stopImmediate = false;
    return !state.canceled;
  }
}

function removeEntry(map, type, entry) {
  entry.removed = true;
  const list = map.get(type);
  if (list === undefined) return;
  const index = list.indexOf(entry);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) map.delete(type);
  listenersChanged(map, type);
}

for (const key of ['addEventListener', 'removeEventListener', 'dispatchEvent']) {
  Object.defineProperty(EventTarget.prototype, key, { enumerable: true });
}
Object.defineProperty(EventTarget.prototype, Symbol.toStringTag, { value: 'EventTarget', configurable: true });

// Set by abort.js (which needs EventTarget first): brand check of signals.
let isAbortSignal = () => false;
function setAbortSignalCheck(check) { isAbortSignal = check; }

// abort.js keeps a dependent signal alive while it has 'abort' listeners
// (DOM "Garbage collection"): told on every add/remove, with the listener map.
let listenersChanged = () => {};
function setListenerHook(hook) { listenersChanged = hook; }
function listenerMapOf(target) { return listenersOf(target); }

// An `on<type>` attribute (onabort): one listener slot per target.
function defineEventHandler(prototype, type) {
  const handlers = new WeakMap();
  Object.defineProperty(prototype, `on${type}`, {
    enumerable: true,
    configurable: true,
    get() { return handlers.get(this)?.value ?? null; },
    set(value) {
      let slot = handlers.get(this);
      if (slot === undefined) {
        slot = { value: null, listener: (event) => {
          const handler = slot.value;
          if (typeof handler === 'function') {
            const result = handler.call(this, event);
            if (result === false) event.preventDefault();
          }
        } };
        handlers.set(this, slot);
        this.addEventListener(type, slot.listener);
      }
      slot.value = typeof value === 'function' || (value !== null && typeof value === 'object') ? value : null;
    },
  });
}

return { Event, CustomEvent, EventTarget, setAbortSignalCheck, setListenerHook, listenerMapOf, defineEventHandler };
