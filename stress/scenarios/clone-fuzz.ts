// Clone fuzz: fast-check generates descriptions of values — ordinary ones and
// hostile ones (throwing or mutating getters, proxies, functions, symbols,
// huge sparse arrays, deep nesting, shared references and cycles, detached
// and resizable buffers, transfer lists with mistakes) — each description is
// built twice, and one copy goes through our native clone() while the other
// goes through Node's structuredClone(). Both must give the same value
// (structure, aliasing, types, bytes), or both must throw the same class of
// error; transferred buffers must end detached on both sides alike.
import fc from 'fast-check';
import { clone } from '../../src/index.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { describeError } from '../lib/util.js';

type Spec =
  | { t: 'prim'; v: unknown }
  | { t: 'boxed'; v: number | string | boolean | bigint }
  | { t: 'date'; ms: number }
  | { t: 'regexp'; src: string; flags: string }
  | { t: 'ab'; len: number; max: number | null; fill: number; transfer: boolean }
  | { t: 'ta'; ctor: string; len: number; offset: number }
  | { t: 'dv'; len: number }
  | { t: 'sab'; len: number }
  | { t: 'err'; ctor: string; msg: string; cause: Spec | null }
  | { t: 'arr'; items: Spec[]; holes: number[] }
  | { t: 'sparse'; length: number; entries: [number, Spec][] }
  | { t: 'obj'; entries: [string, Spec][] }
  | { t: 'map'; entries: [Spec, Spec][] }
  | { t: 'set'; items: Spec[] }
  | { t: 'ref'; n: number }
  | { t: 'deep'; depth: number; kind: 'arr' | 'obj' }
  | { t: 'hostile'; kind: Hostile; key: string; inner: Spec };

const HOSTILE = ['getter-throws', 'getter-throws-string', 'getter-mutates', 'getter-deletes', 'proxy', 'function', 'symbol', 'weakmap', 'promise', 'class-instance', 'symbol-key', 'non-enumerable', 'inherited-getter', 'detached-buffer', 'revoked-proxy', 'array-getter'] as const;
type Hostile = (typeof HOSTILE)[number];
const ERRORS = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError'] as const;
const TYPED = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'] as const;

const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '4294967295', '-1', '__proto__', 'constructor', 'length', 'toString', ''), fc.nat(20).map(String));

const prim = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }), // lone surrogates
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
);

const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec; leaf: Spec }>((tie) => ({
  leaf: fc.oneof(
    { weight: 6, arbitrary: prim.map((v): Spec => ({ t: 'prim', v })) },
    { weight: 1, arbitrary: fc.oneof(fc.double(), fc.string({ maxLength: 5 }), fc.boolean(), fc.bigInt()).map((v): Spec => ({ t: 'boxed', v })) },
    { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.constant(NaN)).map((ms): Spec => ({ t: 'date', ms })) },
    { weight: 1, arbitrary: fc.record({ src: fc.constantFrom('a+b', '^x$', '(?<n>\\d+)', '[\\u{1F600}]', '.', '(a)|b'), flags: fc.subarray(['d', 'g', 'i', 'm', 's', 'u', 'y']).map((f) => f.join('')) }).map((r): Spec => ({ t: 'regexp', ...r })) },
    { weight: 2, arbitrary: fc.record({ len: fc.nat(64), max: fc.option(fc.integer({ min: 64, max: 256 }), { nil: null }), fill: fc.nat(255), transfer: fc.boolean() }).map((r): Spec => ({ t: 'ab', ...r })) },
    { weight: 2, arbitrary: fc.record({ ctor: fc.constantFrom(...TYPED), len: fc.nat(16), offset: fc.nat(2) }).map((r): Spec => ({ t: 'ta', ...r })) },
    { weight: 1, arbitrary: fc.nat(32).map((len): Spec => ({ t: 'dv', len })) },
    { weight: 1, arbitrary: fc.nat(32).map((len): Spec => ({ t: 'sab', len })) },
    { weight: 2, arbitrary: fc.nat(50).map((n): Spec => ({ t: 'ref', n })) },
  ),
  spec: fc.oneof(
    { maxDepth: 6, depthIdentifier: 'spec' },
    { weight: 5, arbitrary: tie('leaf') },
    { weight: 2, arbitrary: fc.record({ items: fc.array(tie('spec'), { maxLength: 6 }), holes: fc.array(fc.nat(8), { maxLength: 3 }) }).map((r): Spec => ({ t: 'arr', ...r })) },
    { weight: 2, arbitrary: fc.array(fc.tuple(key, tie('spec')), { maxLength: 6 }).map((entries): Spec => ({ t: 'obj', entries })) },
    { weight: 1, arbitrary: fc.array(fc.tuple(tie('spec'), tie('spec')), { maxLength: 4 }).map((entries): Spec => ({ t: 'map', entries })) },
    { weight: 1, arbitrary: fc.array(tie('spec'), { maxLength: 4 }).map((items): Spec => ({ t: 'set', items })) },
    { weight: 1, arbitrary: fc.record({ ctor: fc.constantFrom(...ERRORS), msg: fc.string({ maxLength: 10 }), cause: fc.option(tie('spec'), { nil: null }) }).map((r): Spec => ({ t: 'err', ...r })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ length: fc.oneof(fc.integer({ min: 1000, max: 2 ** 20 }), fc.constant(2 ** 32 - 1), fc.integer({ min: 2 ** 24, max: 2 ** 32 - 2 })), entries: fc.array(fc.tuple(fc.nat(), tie('spec')), { maxLength: 4 }) })
        .map((r): Spec => ({ t: 'sparse', length: r.length, entries: r.entries.map(([i, s]) => [i % r.length, s] as [number, Spec]) })),
    },
    { weight: 1, arbitrary: fc.record({ depth: fc.oneof(fc.integer({ min: 10, max: 1500 }), fc.integer({ min: 200_000, max: 400_000 })), kind: fc.constantFrom('arr' as const, 'obj' as const) }).map((r): Spec => ({ t: 'deep', ...r })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom(...HOSTILE), key, inner: tie('spec') }).map((r): Spec => ({ t: 'hostile', ...r })) },
  ),
}) as const).spec;

interface Case {
  spec: Spec;
  /** Transfer-list mistakes: 0 none, 1 a buffer twice, 2 a buffer not in the value, 3 a SharedArrayBuffer. */
  mistake: number;
}
const caseArb: fc.Arbitrary<Case> = fc.record({ spec: specArb, mistake: fc.constantFrom(0, 0, 0, 0, 1, 2, 3) });

/** Builds a fresh value from a spec; collects the buffers marked for transfer. */
function build(c: Case): { value: unknown; transfer: unknown[] } {
  const made: object[] = [];
  const transfer: unknown[] = [];
  const Ctors = globalThis as unknown as Record<string, new (...args: unknown[]) => object>;
  const remember = <T extends object>(o: T): T => {
    made.push(o);
    return o;
  };
  const make = (s: Spec): unknown => {
    switch (s.t) {
      case 'prim':
        return s.v;
      case 'boxed':
        return remember(Object(s.v) as object);
      case 'date':
        return remember(new Date(s.ms));
      case 'regexp':
        return remember(new RegExp(s.src, s.flags.includes('u') || !s.src.includes('\\u{') ? s.flags : s.flags + 'u'));
      case 'ab': {
        const buf = s.max !== null ? new ArrayBuffer(s.len, { maxByteLength: Math.max(s.max, s.len) }) : new ArrayBuffer(s.len);
        new Uint8Array(buf).fill(s.fill);
        if (s.transfer) transfer.push(buf);
        return remember(buf);
      }
      case 'ta': {
        const Ctor = Ctors[s.ctor] as unknown as { new (b: ArrayBuffer, o: number, l: number): object; BYTES_PER_ELEMENT: number };
        const buf = new ArrayBuffer((s.len + s.offset) * Ctor.BYTES_PER_ELEMENT);
        new Uint8Array(buf).forEach((_, i, a) => (a[i] = (i * 37) & 255));
        return remember(new Ctor(buf, s.offset * Ctor.BYTES_PER_ELEMENT, s.len));
      }
      case 'dv':
        return remember(new DataView(new ArrayBuffer(s.len + 4), 2, s.len));
      case 'sab': {
        const sab = new SharedArrayBuffer(s.len);
        new Uint8Array(sab).fill(7);
        return remember(sab);
      }
      case 'err': {
        const e = remember(s.cause !== null ? new Ctors[s.ctor]!(s.msg, { cause: make(s.cause) }) : new Ctors[s.ctor]!(s.msg));
        return e;
      }
      case 'arr': {
        const a = remember([] as unknown[]);
        s.items.forEach((item, i) => (a[i] = make(item)));
        for (const h of s.holes) if (h < a.length) delete a[h];
        return a;
      }
      case 'sparse': {
        const a = remember([] as unknown[]);
        a.length = s.length;
        for (const [i, item] of s.entries) a[i] = make(item);
        return a;
      }
      case 'obj': {
        const o = remember({} as Record<string, unknown>);
        for (const [k, item] of s.entries) Object.defineProperty(o, k, { value: make(item), enumerable: true, writable: true, configurable: true });
        return o;
      }
      case 'map': {
        const m = remember(new Map());
        for (const [k, v] of s.entries) m.set(make(k), make(v));
        return m;
      }
      case 'set': {
        const set = remember(new Set());
        for (const item of s.items) set.add(make(item));
        return set;
      }
      case 'ref':
        return made.length === 0 ? null : made[s.n % made.length];
      case 'deep': {
        const root: Record<string, unknown> | unknown[] = s.kind === 'arr' ? [] : {};
        let node: Record<string, unknown> | unknown[] = root;
        for (let i = 0; i < s.depth; i++) {
          const next: Record<string, unknown> | unknown[] = s.kind === 'arr' ? [] : {};
          if (Array.isArray(node)) node.push(next);
          else node.x = next;
          node = next;
        }
        return remember(root);
      }
      case 'hostile':
        return hostile(s.kind, s.key, () => make(s.inner), remember);
    }
  };
  const value = make(c.spec);
  if (c.mistake === 1 && transfer.length > 0) transfer.push(transfer[0]);
  if (c.mistake === 2) transfer.push(new ArrayBuffer(8));
  if (c.mistake === 3) transfer.push(new SharedArrayBuffer(8));
  return { value, transfer };
}

function hostile(kind: Hostile, key: string, inner: () => unknown, remember: <T extends object>(o: T) => T): unknown {
  const o = remember({ before: 1 } as Record<string, unknown>);
  switch (kind) {
    case 'getter-throws':
      Object.defineProperty(o, key, { enumerable: true, get: () => { throw new TypeError(`getter ${key} says no`); } });
      break;
    case 'getter-throws-string':
      Object.defineProperty(o, key, { enumerable: true, get: () => { throw `plain ${key}`; } });
      break;
    case 'getter-mutates':
      Object.defineProperty(o, key, { enumerable: true, get: () => { o.addedLater = inner(); o.before = 2; return 'mutated'; } });
      o.after = inner();
      break;
    case 'getter-deletes':
      Object.defineProperty(o, key, { enumerable: true, get: () => { delete o.after; return 'deleter'; } });
      o.after = inner();
      break;
    case 'array-getter': {
      const a: unknown[] = [1, 2, 3];
      Object.defineProperty(a, 1, { enumerable: true, get: () => { a.length = 1; return inner(); } });
      return remember(a);
    }
    case 'proxy':
      return new Proxy(remember({ x: inner() }), {});
    case 'revoked-proxy': {
      const r = Proxy.revocable({}, {});
      r.revoke();
      o[key] = r.proxy;
      break;
    }
    case 'function':
      o[key] = () => inner();
      break;
    case 'symbol':
      o[key] = Symbol(key);
      break;
    case 'weakmap':
      o[key] = new WeakMap();
      break;
    case 'promise':
      o[key] = Promise.resolve(1);
      break;
    case 'class-instance': {
      class Point {
        x = 1;
        constructor(public y: unknown) {}
        get z() { return 3; }
      }
      o[key] = remember(new Point(inner()));
      break;
    }
    case 'symbol-key':
      (o as Record<symbol, unknown>)[Symbol('s')] = inner();
      break;
    case 'non-enumerable':
      Object.defineProperty(o, key, { enumerable: false, value: inner() });
      break;
    case 'inherited-getter': {
      const child = remember(Object.create({ get inherited() { throw new Error('never read'); } }) as Record<string, unknown>);
      child.own = inner();
      o[key] = child;
      break;
    }
    case 'detached-buffer': {
      const buf = new ArrayBuffer(8);
      structuredClone(buf, { transfer: [buf] });
      o[key] = buf;
      break;
    }
  }
  return o;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
const attempt = (fn: () => unknown): Outcome => {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
};

const errorClass = (e: unknown): string =>
  e !== null && typeof e === 'object' ? `${(e as object).constructor?.name ?? '?'}/${(e as { name?: string }).name}` : `thrown ${typeof e}`;

/** '' if a and b are the same structured-clone result (types, values, aliasing), else the first difference. */
export function sameClone(a: unknown, b: unknown): string {
  const pairs = new Map<object, object>();
  const back = new Map<object, object>();
  const walk = (x: unknown, y: unknown, path: string, depth: number): string => {
    if (depth > 500_000) return '';
    if (typeof x !== typeof y) return `${path}: ${typeof x} vs ${typeof y}`;
    if (x === null || y === null || (typeof x !== 'object' && typeof x !== 'function')) {
      return Object.is(x, y) ? '' : `${path}: ${String(x)} vs ${String(y)}`;
    }
    const ox = x as object;
    const oy = y as object;
    const known = pairs.get(ox);
    if (known !== undefined || back.has(oy)) return known === oy && back.get(oy) === ox ? '' : `${path}: aliasing differs`;
    pairs.set(ox, oy);
    back.set(oy, ox);
    const tx = Object.prototype.toString.call(ox);
    const ty = Object.prototype.toString.call(oy);
    if (tx !== ty) return `${path}: ${tx} vs ${ty}`;
    if (Object.getPrototypeOf(ox) !== Object.getPrototypeOf(oy)) return `${path}: prototypes differ`;
    if (ox instanceof ArrayBuffer || ox instanceof SharedArrayBuffer) {
      const bx = ox as ArrayBuffer;
      const by = oy as ArrayBuffer;
      if (bx.byteLength !== by.byteLength) return `${path}: byteLength ${bx.byteLength} vs ${by.byteLength}`;
      if (bx.resizable !== by.resizable || bx.maxByteLength !== by.maxByteLength) return `${path}: resizable/maxByteLength differ`;
      const ux = new Uint8Array(bx);
      const uy = new Uint8Array(by);
      for (let i = 0; i < ux.length; i++) if (ux[i] !== uy[i]) return `${path}: byte ${i} differs`;
      return '';
    }
    if (ArrayBuffer.isView(ox)) {
      const vx = ox as Uint8Array;
      const vy = oy as Uint8Array;
      if (vx.byteOffset !== vy.byteOffset || vx.byteLength !== vy.byteLength) return `${path}: view offset/length differ`;
      return walk(vx.buffer, vy.buffer, `${path}.buffer`, depth + 1);
    }
    if (ox instanceof Date) return Object.is((ox as Date).getTime(), (oy as Date).getTime()) ? '' : `${path}: dates differ`;
    if (ox instanceof RegExp) return String(ox) === String(oy) ? '' : `${path}: ${String(ox)} vs ${String(oy)}`;
    if (ox instanceof Error) {
      for (const k of ['name', 'message', 'stack', 'cause'] as const) {
        const hx = Object.prototype.hasOwnProperty.call(ox, k);
        const hy = Object.prototype.hasOwnProperty.call(oy, k);
        if (hx !== hy) return `${path}: own '${k}' on one side only`;
        if (k !== 'stack') {
          const d = walk((ox as unknown as Record<string, unknown>)[k], (oy as unknown as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
          if (d) return d;
        }
      }
      return '';
    }
    if (tx === '[object Number]' || tx === '[object String]' || tx === '[object Boolean]' || tx === '[object BigInt]') {
      return Object.is(ox.valueOf(), oy.valueOf()) ? '' : `${path}: boxed ${String(ox.valueOf())} vs ${String(oy.valueOf())}`;
    }
    if (ox instanceof Map) {
      const ex = [...(ox as Map<unknown, unknown>)];
      const ey = [...(oy as Map<unknown, unknown>)];
      if (ex.length !== ey.length) return `${path}: map sizes ${ex.length} vs ${ey.length}`;
      for (let i = 0; i < ex.length; i++) {
        const d = walk(ex[i]![0], ey[i]![0], `${path}<key ${i}>`, depth + 1) || walk(ex[i]![1], ey[i]![1], `${path}<value ${i}>`, depth + 1);
        if (d) return d;
      }
      return '';
    }
    if (ox instanceof Set) {
      const ex = [...(ox as Set<unknown>)];
      const ey = [...(oy as Set<unknown>)];
      if (ex.length !== ey.length) return `${path}: set sizes ${ex.length} vs ${ey.length}`;
      for (let i = 0; i < ex.length; i++) {
        const d = walk(ex[i], ey[i], `${path}<${i}>`, depth + 1);
        if (d) return d;
      }
      return '';
    }
    if (Array.isArray(ox) && (ox as unknown[]).length !== (oy as unknown[]).length) return `${path}: array length ${(ox as unknown[]).length} vs ${(oy as unknown[]).length}`;
    const kx = Reflect.ownKeys(ox);
    const ky = Reflect.ownKeys(oy);
    if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) return `${path}: keys [${kx.map(String).slice(0, 8)}] vs [${ky.map(String).slice(0, 8)}]`;
    for (const k of kx) {
      const dx = Object.getOwnPropertyDescriptor(ox, k)!;
      const dy = Object.getOwnPropertyDescriptor(oy, k)!;
      if (dx.enumerable !== dy.enumerable) return `${path}.${String(k)}: enumerability differs`;
      const d = walk(dx.value, dy.value, `${path}.${String(k)}`, depth + 1);
      if (d) return d;
    }
    return '';
  };
  return walk(a, b, '$', 0);
}

/** Compares native clone() with structuredClone() on one case; '' when they agree. */
export function compareCase(c: Case): string {
  const mine = build(c);
  const theirs = build(c);
  const a = attempt(() => clone(mine.value, { transfer: mine.transfer as ArrayBuffer[] }));
  const b = attempt(() => structuredClone(theirs.value, { transfer: theirs.transfer as ArrayBuffer[] }));
  if (a.ok !== b.ok) {
    return a.ok ? `native clone succeeded, structuredClone threw ${describeError((b as { error: unknown }).error)}` : `native clone threw ${describeError((a as { error: unknown }).error)}, structuredClone succeeded`;
  }
  if (!a.ok && !b.ok) {
    const ca = errorClass(a.error);
    const cb = errorClass(b.error);
    // The one known divergence: a SharedArrayBuffer in the transfer list. HTML's
    // StructuredSerializeWithTransfer throws a DataCloneError (ours); Node
    // pre-validates the list and throws TypeError "Found invalid object in transferList".
    if (c.mistake === 3 && cb === 'TypeError/TypeError') {
      if (ca !== 'DOMException/DataCloneError') return `a SharedArrayBuffer in the transfer list: native threw ${ca}, expected DOMException/DataCloneError`;
    } else if (ca !== cb) return `error classes differ: native ${ca} (${describeError(a.error)}) vs structuredClone ${cb} (${describeError(b.error)})`;
  } else if (a.ok && b.ok) {
    const diff = sameClone(a.value, b.value);
    if (diff) return `values differ at ${diff}`;
  }
  // The transfer list leaves the same buffers detached on both sides.
  for (let i = 0; i < mine.transfer.length; i++) {
    const x = mine.transfer[i] as ArrayBuffer;
    const y = theirs.transfer[i] as ArrayBuffer;
    if (x instanceof ArrayBuffer && x.byteLength !== y.byteLength) return `transfer entry ${i}: byteLength ${x.byteLength} after clone() vs ${y.byteLength} after structuredClone()`;
  }
  return '';
}

export const cloneFuzz: Scenario = {
  name: 'clone-fuzz',
  description: 'fast-check values incl. hostile ones through native clone() vs structuredClone(): same value or same error class',
  async run(ctx: StressContext) {
    let cases = 0;
    let bothThrew = 0;
    const result = await iterate(ctx, async ({ seed }) => {
      const samples = fc.sample(caseArb, { seed, numRuns: 40 });
      for (let i = 0; i < samples.length; i++) {
        const c = samples[i]!;
        cases++;
        const diff = compareCase(c);
        if (diff) {
          const spec = JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
          ctx.check(false, `case ${i}: ${diff}\n  spec: ${spec.length > 600 ? spec.slice(0, 600) + '…' : spec}`);
        }
        try {
          clone(build(c).value);
        } catch {
          bothThrew++;
        }
      }
      await new Promise((r) => setImmediate(r));
    });
    result.stats = { cases, throwingCases: bothThrew };
    return result;
  },
};
