// performance.timeOrigin, mark, measure and the entry list (User Timing).
// Entries stay until cleared, as in browsers and Node.
const { DOMException } = require('domexception');
const { performance } = natives.captured;
const now = performance.now;
const { timeOrigin } = natives;

const kKey = Symbol('entry');
const entries = [];

class PerformanceEntry {
  #name; #type; #start; #duration;
  constructor(key = undefined, name, type, start, duration) {
    if (key !== kKey) throw new TypeError('Illegal constructor');
    this.#name = name; this.#type = type; this.#start = start; this.#duration = duration;
  }
  get name() { return this.#name; }
  get entryType() { return this.#type; }
  get startTime() { return this.#start; }
  get duration() { return this.#duration; }
  toJSON() {
    return { name: this.#name, entryType: this.#type, startTime: this.#start, duration: this.#duration, detail: this.detail };
  }
}

class PerformanceMark extends PerformanceEntry {
  #detail;
  constructor(name, options = undefined) {
    if (arguments.length === 0) throw new TypeError('The "name" argument must be specified');
    const start = options?.startTime === undefined ? now.call(performance) : Number(options.startTime);
    if (!(start >= 0)) throw new TypeError('The "startTime" option must be a non-negative number');
    super(kKey, `${name}`, 'mark', start, 0);
    this.#detail = options?.detail === undefined ? null : structuredClone(options.detail);
  }
  get detail() { return this.#detail; }
}

class PerformanceMeasure extends PerformanceEntry {
  #detail;
  constructor(key = undefined, name, start, duration, detail) {
    super(key, name, 'measure', start, duration);
    this.#detail = detail;
  }
  get detail() { return this.#detail; }
}

for (const klass of [PerformanceEntry, PerformanceMark, PerformanceMeasure]) {
  Object.defineProperty(klass.prototype, Symbol.toStringTag, { value: klass.name, configurable: true });
}

function mark(name, options = undefined) {
  const entry = new PerformanceMark(name, options);
  entries.push(entry);
  return entry;
}

function timeOf(mark) {
  if (typeof mark === 'number') {
    if (mark < 0) throw new TypeError('A mark time cannot be negative');
    return mark;
  }
  const name = `${mark}`;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].entryType === 'mark' && entries[i].name === name) return entries[i].startTime;
  }
  throw new DOMException(`The "${name}" performance mark has not been set`, 'SyntaxError');
}

function measure(name, startOrOptions = undefined, endMark = undefined) {
  if (arguments.length === 0) throw new TypeError('The "name" argument must be specified');
  let start = 0;
  let end;
  let detail = null;
  if (startOrOptions !== null && typeof startOrOptions === 'object') {
    const options = startOrOptions;
    if (endMark !== undefined) throw new TypeError('An end mark cannot be given with measure options');
    if (options.start !== undefined && options.end !== undefined && options.duration !== undefined) {
      throw new TypeError('start, end and duration cannot all be given');
    }
    if (options.start !== undefined) start = timeOf(options.start);
    if (options.end !== undefined) end = timeOf(options.end);
    if (options.duration !== undefined) {
      const duration = Number(options.duration);
      if (options.start !== undefined) end = start + duration;
      else if (options.end !== undefined) start = end - duration;
    }
    if (options.detail !== undefined) detail = structuredClone(options.detail);
  } else {
    if (startOrOptions !== undefined) start = timeOf(startOrOptions);
    if (endMark !== undefined) end = timeOf(endMark);
  }
  if (end === undefined) end = now.call(performance);
  const entry = new PerformanceMeasure(kKey, `${name}`, start, end - start, detail);
  entries.push(entry);
  return entry;
}

const structuredClone = (value) => require('clone').structuredClone(value);

function getEntries() { return entries.slice(); }
function getEntriesByName(name, type = undefined) {
  name = `${name}`;
  return entries.filter((entry) => entry.name === name && (type === undefined || entry.entryType === `${type}`));
}
function getEntriesByType(type) {
  type = `${type}`;
  return entries.filter((entry) => entry.entryType === type);
}
function clear(type, name) {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].entryType === type && (name === undefined || entries[i].name === `${name}`)) entries.splice(i, 1);
  }
}
function clearMarks(name = undefined) { clear('mark', name); }
function clearMeasures(name = undefined) { clear('measure', name); }
function toJSON() { return { timeOrigin }; }

return {
  PerformanceEntry, PerformanceMark, PerformanceMeasure, timeOrigin, mark, measure,
  getEntries, getEntriesByName, getEntriesByType, clearMarks, clearMeasures, toJSON,
};
