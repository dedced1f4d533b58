// The JSON encoding of `agentcluster run` result lines (docs/scheduler.md,
// "Result lines"). JSON values are written as themselves; every value
// structured clone can bring back from an agent that JSON cannot hold is
// written as a tagged object {"$type": ..., ...}, so a line decodes back to
// what the job returned. What cannot be written faithfully (a cycle, an
// object of an unknown class) throws ResultEncodeError: the caller writes
// an explicit error line instead of a lossy one.

export const TYPE_KEY = '$type';

export class ResultEncodeError extends TypeError {
  readonly code = 'ERR_RUN_RESULT_NOT_ENCODABLE';
  constructor(message: string) {
    super(message);
    this.name = 'TypeError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const typedArrays = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof typedArrays;

/** out[key] = value as an own property, even for the key "__proto__" (which `=` would treat as the prototype). */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}

function tag(type: string, fields: Record<string, Json> = {}): Json {
  return { [TYPE_KEY]: type, ...fields };
}

function base64(view: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): string {
  const bytes = view instanceof ArrayBuffer || view instanceof SharedArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decimal digits, or hex ("0x...", "-0x...") from 2^65536 on: V8
 * writes decimal in superlinear time (a 16M-bit BigInt took 10 s, the
 * largest would take hours), hex in linear time.
 */
const DECIMAL_BIGINT_LIMIT = 1n << 65536n;
function bigintText(v: bigint): string {
  const magnitude = v < 0n ? -v : v;
  if (magnitude < DECIMAL_BIGINT_LIMIT) return v.toString();
  return (v < 0n ? '-0x' : '0x') + magnitude.toString(16);
}
function parseBigint(text: string): bigint {
  return text.startsWith('-0x') ? -BigInt(text.slice(1)) : BigInt(text);
}

function encodeNumber(n: number): Json {
  if (Number.isFinite(n) && !Object.is(n, -0)) return n;
  return tag('number', { value: Object.is(n, -0) ? '-0' : String(n) });
}

/** No holes and no keys but indices: what a JSON array can hold. */
function isDense(array: unknown[]): boolean {
  if (Object.keys(array).length !== array.length) return false;
  for (let i = 0; i < array.length; i++) if (!(i in array)) return false;
  return true;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The JSON form of `value` (see the file comment); throws ResultEncodeError for what it cannot hold. */
export function encodeValue(value: unknown): Json {
  const ancestors = new Set<object>();
  const walk = (v: unknown): Json => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return encodeNumber(v);
      case 'undefined':
        return tag('undefined');
      case 'bigint':
        return tag('bigint', { value: bigintText(v) });
      case 'symbol':
      case 'function':
        throw new ResultEncodeError(`a ${typeof v} cannot be written`);
    }
    if (v === null) return null;
    const obj = v as object;
    if (ancestors.has(obj)) throw new ResultEncodeError('the value contains a cycle');
    ancestors.add(obj);
    try {
      return walkObject(obj);
    } finally {
      ancestors.delete(obj);
    }
  };
  const entries = (obj: object): Record<string, Json> => {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(obj)) setOwn(out, key, walk((obj as Record<string, unknown>)[key]));
    return out;
  };
  const walkObject = (obj: object): Json => {
    if (Array.isArray(obj)) {
      // Dense arrays with only index keys are JSON arrays; holes and extra keys need the tagged form.
      if (isDense(obj)) return obj.map(walk);
      return tag('Array', { length: obj.length, entries: entries(obj) });
    }
    if (obj instanceof ArrayBuffer) return tag('ArrayBuffer', { base64: base64(obj) });
    if (obj instanceof SharedArrayBuffer) return tag('SharedArrayBuffer', { base64: base64(obj) });
    if (ArrayBuffer.isView(obj)) {
      const name = Object.prototype.toString.call(obj).slice(8, -1); // 'Uint8Array', 'DataView'... (a Buffer is a Uint8Array)
      if (name !== 'DataView' && !(name in typedArrays)) throw new ResultEncodeError(`a ${name} cannot be written`);
      return tag(name, { base64: base64(obj) });
    }
    if (obj instanceof Map) return tag('Map', { entries: [...obj].map(([k, v]) => [walk(k), walk(v)]) });
    if (obj instanceof Set) return tag('Set', { values: [...obj].map(walk) });
    if (obj instanceof Date) return tag('Date', { value: encodeNumber(obj.getTime()) });
    if (obj instanceof RegExp) return tag('RegExp', { source: obj.source, flags: obj.flags });
    if (obj instanceof Error) {
      const fields: Record<string, Json> = { name: String(obj.name), message: String(obj.message) };
      if (typeof obj.stack === 'string') fields.stack = obj.stack;
      if (obj.cause !== undefined) fields.cause = walk(obj.cause);
      const props = entries(obj);
      if (Object.keys(props).length > 0) fields.props = props;
      return tag('Error', fields);
    }
    if (obj instanceof Number) return tag('Number', { value: encodeNumber(obj.valueOf()) });
    if (obj instanceof String) return tag('String', { value: obj.valueOf() });
    if (obj instanceof Boolean) return tag('Boolean', { value: obj.valueOf() });
    if (obj instanceof BigInt) return tag('BigInt', { value: bigintText(obj.valueOf() as bigint) });
    if (!isPlainObject(obj)) {
      const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
      throw new ResultEncodeError(`an object of class ${typeof name === 'string' && name !== '' ? name : '(anonymous)'} cannot be written`);
    }
    const fields = entries(obj);
    // A plain object that has the tag key itself is escaped, so it never reads as a tagged value.
    return Object.hasOwn(obj, TYPE_KEY) ? tag('object', { value: fields }) : fields;
  };
  return walk(value);
}

/** Inverse of encodeValue: rebuilds the value from its JSON form (throws a TypeError on an unknown tag). */
export function decodeValue(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const obj = json as Record<string, unknown>;
  const type = obj[TYPE_KEY];
  if (type === undefined || !Object.hasOwn(obj, TYPE_KEY)) return decodeFields(obj);
  const bytes = () => Buffer.from(String(obj.base64), 'base64');
  const copy = () => {
    const b = bytes();
    const out = new ArrayBuffer(b.byteLength);
    new Uint8Array(out).set(b);
    return out;
  };
  switch (type) {
    case 'object':
      return decodeFields(obj.value as Record<string, unknown>);
    case 'undefined':
      return undefined;
    case 'number':
      return obj.value === '-0' ? -0 : Number(obj.value);
    case 'bigint':
      return parseBigint(String(obj.value));
    case 'Array': {
      const out: unknown[] = new Array(Number(obj.length));
      for (const [key, v] of Object.entries(obj.entries as Record<string, unknown>)) setOwn(out as unknown as Record<string, unknown>, key, decodeValue(v));
      return out;
    }
    case 'ArrayBuffer':
      return copy();
    case 'SharedArrayBuffer': {
      const b = bytes();
      const out = new SharedArrayBuffer(b.byteLength);
      new Uint8Array(out).set(b);
      return out;
    }
    case 'DataView':
      return new DataView(copy());
    case 'Map':
      return new Map((obj.entries as [unknown, unknown][]).map(([k, v]) => [decodeValue(k), decodeValue(v)]));
    case 'Set':
      return new Set((obj.values as unknown[]).map(decodeValue));
    case 'Date':
      return new Date(decodeValue(obj.value) as number);
    case 'RegExp':
      return new RegExp(String(obj.source), String(obj.flags));
    case 'Error': {
      const error = new Error(String(obj.message), obj.cause === undefined ? undefined : { cause: decodeValue(obj.cause) });
      error.name = String(obj.name);
      if (typeof obj.stack === 'string') error.stack = obj.stack;
      if (obj.props !== undefined) Object.assign(error, decodeFields(obj.props as Record<string, unknown>));
      return error;
    }
    case 'Number':
      return new Number(decodeValue(obj.value));
    case 'String':
      return new String(obj.value);
    case 'Boolean':
      return new Boolean(obj.value);
    case 'BigInt':
      return Object(parseBigint(String(obj.value)));
  }
  if (typeof type === 'string' && type in typedArrays) {
    const Ctor = typedArrays[type as TypedArrayName];
    return new Ctor(copy());
  }
  throw new TypeError(`unknown ${TYPE_KEY} ${JSON.stringify(type)} in a result line`);
}

function decodeFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) setOwn(out, key, decodeValue(obj[key]));
  return out;
}

/** One `agentcluster run` output line for a task's result. Throws ResultEncodeError. */
export function encodeResultLine(value: unknown): string {
  let json = encodeValue(value);
  // A result that is an object with an "error" key is escaped, so only failures read as {"error": ...}.
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && Object.hasOwn(json, 'error') && !Object.hasOwn(json, TYPE_KEY)) {
    json = tag('object', { value: json });
  }
  return JSON.stringify(json);
}

export interface ResultLineError {
  name: string;
  message: string;
  code?: unknown;
}

export type DecodedResultLine = { ok: true; value: unknown } | { ok: false; error: ResultLineError };

/** Reads one line of `agentcluster run` output back: the task's result, or its error. */
export function decodeResultLine(line: string): DecodedResultLine {
  const json: unknown = JSON.parse(line);
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && Object.hasOwn(json, 'error') && !Object.hasOwn(json, TYPE_KEY)) {
    const error = (json as { error: ResultLineError }).error;
    // A job's error code may itself be tagged (a BigInt code, say).
    return { ok: false, error: error !== null && typeof error === 'object' && error.code !== undefined ? { ...error, code: decodeValue(error.code) } : error };
  }
  return { ok: true, value: decodeValue(json) };
}
