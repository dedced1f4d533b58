// Issue 3: property — for arbitrary cloneable values (fc.anything() with typed
// arrays, Maps, Sets, Dates, BigInts, boxed values, null prototypes, sparse
// arrays, plus cycles and shared references we add), what comes back from an
// agent round trip deep-equals what Node's own structuredClone produces
// (prototypes included), and so does the host-side clone().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clone, type Agent } from '../src/index.js';
import { assertSameClone } from './fixtures/clone-cases.js';
import { echoAgent, roundTrip, terminateAll } from './support/agents.js';

let echo: Agent;
before(async () => {
  echo = echoAgent('property-echo');
  await echo.ready;
});
after(terminateAll);

const base = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withObjectString: true,
  withUnicodeString: true,
});

/** Wraps a value in a graph with a self-cycle, a back-reference from inside it and a shared reference. */
function withCycles(value: unknown): unknown {
  const container: Record<string, unknown> = { value, again: value, list: [value] };
  container.self = container;
  if (value !== null && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    (value as Record<string, unknown>).backToContainer = container;
  }
  if (value instanceof Map) value.set('cycle', container);
  if (value instanceof Set) value.add(container);
  return container;
}

const cloneable = fc.oneof(
  { weight: 2, arbitrary: base },
  { weight: 1, arbitrary: base.map(withCycles) },
  { weight: 1, arbitrary: fc.array(base, { maxLength: 4 }).map((items) => withCycles(items)) },
);

/** assert.deepStrictEqual treats new Date(NaN) as unequal to itself; the stricter details() check still runs. */
function hasInvalidDate(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof Date) return Number.isNaN(value.getTime());
  if (ArrayBuffer.isView(value)) return false;
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
  return children.some((child) => hasInvalidDate(child, seen));
}

function check(actual: unknown, original: unknown): void {
  const expected = structuredClone(original);
  assertSameClone(actual, expected, { label: 'property', expr: '', noDeepEqual: hasInvalidDate(expected) });
}

describe('clone property (fast-check)', () => {
  it('host → agent → host round trip deep-equals structuredClone', async () => {
    await fc.assert(
      fc.asyncProperty(cloneable, async (value) => {
        check(await roundTrip(echo, value), value);
      }),
      { numRuns: 300 },
    );
  });

  it('host clone() deep-equals structuredClone', () => {
    fc.assert(
      fc.property(cloneable, (value) => {
        check(clone(value), value);
      }),
      { numRuns: 500 },
    );
  });

  it('a batch of values sent in one message and echoed back as one array keeps each value and their sharing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cloneable, { minLength: 1, maxLength: 5 }), async (values) => {
        const batch = [...values, ...values]; // every value twice: shared references across the array
        const back = await roundTrip(echo, batch);
        check(back, batch);
        for (let i = 0; i < values.length; i++) {
          if (values[i] !== null && typeof values[i] === 'object') assert.equal(back[i], back[i + values.length]);
        }
      }),
      { numRuns: 100 },
    );
  });
});
