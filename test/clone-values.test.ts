// Issue 3: structured clone, a battery per type, in every direction:
//   host clone()              (same native path, no agent)
//   host → agent → host       (agent.postMessage, echoed back)
//   built inside the agent    (postMessage inside the agent, and evaluate() results)
//   the `data` option         (agentData, posted back)
// Each result must match what Node's own structuredClone makes of the value.
// Plus DataCloneError for what cannot be cloned, and throwing getters.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clone, type Agent } from '../src/index.js';
import { assertSameClone, build, builderSource, cloneCases, type CloneCase } from './fixtures/clone-cases.js';
import { echoAgent, roundTrip, spawnAgent, terminateAll } from './support/agents.js';
import { nextMessage } from './support/waits.js';
import { asResizable, resizableArrayBuffer } from './fixtures/buffers.js';

let echo: Agent;
let builder: Agent;

before(async () => {
  echo = echoAgent();
  builder = spawnAgent({ name: 'builder', source: builderSource });
  await Promise.all([echo.ready, builder.ready]);
});
after(terminateAll);

async function builtInAgent(testCase: CloneCase): Promise<unknown> {
  const reply = nextMessage(builder);
  builder.postMessage(testCase.expr);
  return reply;
}

describe('cloneable values match structuredClone', () => {
  for (const testCase of cloneCases) {
    describe(testCase.label, () => {
      it('host clone()', () => {
        const value = build(testCase);
        assertSameClone(clone(value), structuredClone(value), testCase);
      });

      it('host → agent → host', async () => {
        const value = build(testCase);
        const expected = structuredClone(value);
        assertSameClone(await roundTrip(echo, value), expected, testCase);
      });

      it('built inside the agent (postMessage)', async () => {
        assertSameClone(await builtInAgent(testCase), structuredClone(build(testCase)), testCase);
      });

      it('built inside the agent (evaluate result)', async () => {
        assertSameClone(await builder.evaluate(`(${testCase.expr})`), structuredClone(build(testCase)), testCase);
      });
    });
  }

  it('the data option carries every case at once', async () => {
    const values = cloneCases.map(build);
    const agent = spawnAgent({ source: 'postMessage(agentData)', data: values });
    const back = await nextMessage<unknown[]>(agent);
    cloneCases.forEach((testCase, i) => assertSameClone(back[i], structuredClone(values[i]), testCase));
  });

  it('agent → host → agent relay keeps the graph (checked inside the receiving agent)', async () => {
    const receiver = spawnAgent({
      source: `onmessage = ({ data: o }) => postMessage([
        o.self === o, o.list[0] === o, o.list[1].back === o,
        o.map.get('me') === o.map, o.map.get(o) === 'root',
        o.shared.a === o.shared.b, o.bytes instanceof Uint16Array, o.bytes[1],
        o.when instanceof Date, o.when.getTime(), o.err instanceof RangeError, o.err.message,
        o.big, Object.is(o.negZero, -0),
      ]);`,
    });
    const value = await builtInAgent({
      label: 'graph',
      expr: `(() => {
        const o = { negZero: -0, big: 2n ** 70n, when: new Date(7), err: new RangeError('r'), bytes: new Uint16Array([1, 65535]) };
        o.self = o; o.list = [o, { back: o }];
        o.map = new Map(); o.map.set('me', o.map); o.map.set(o, 'root');
        const s = {}; o.shared = { a: s, b: s };
        return o;
      })()`,
    });
    const reply = nextMessage(receiver);
    receiver.postMessage(value);
    assert.deepEqual(await reply, [true, true, true, true, true, true, true, 65535, true, 7, true, 'r', 2n ** 70n, true]);
  });
});

describe('details structuredClone keeps that deepStrictEqual does not check', () => {
  it('-0, NaN and BigInt are exact after a round trip', async () => {
    const back = await roundTrip(echo, [-0, NaN, 0, 2n ** 64n, -1n]);
    assert.ok(Object.is(back[0], -0));
    assert.ok(Number.isNaN(back[1]));
    assert.ok(Object.is(back[2], 0));
    assert.equal(back[3], 2n ** 64n);
    assert.equal(back[4], -1n);
  });

  it('holes stay holes and extra array properties stay', async () => {
    const arr: unknown[] & { extra?: string } = [1, , 3];
    arr.extra = 'x';
    for (const back of [clone(arr), await roundTrip(echo, arr)]) {
      assert.equal(back.length, 3);
      assert.equal(1 in back, false);
      assert.equal(back.extra, 'x');
    }
  });

  it('RegExp flags are kept and lastIndex is reset to 0', async () => {
    const re = /a+b/dgimsy;
    re.lastIndex = 5;
    for (const back of [clone(re), await roundTrip(echo, re), await builtInAgent({ label: 're', expr: '(() => { const r = /a+b/dgimsy; r.lastIndex = 5; return r; })()' }) as RegExp]) {
      assert.ok(back instanceof RegExp);
      assert.equal(back.source, 'a+b');
      assert.equal(back.flags, 'dgimsy');
      assert.equal(back.lastIndex, 0);
    }
  });

  it('a resizable ArrayBuffer keeps resizable and maxByteLength, and can still grow', async () => {
    const rab = resizableArrayBuffer(4, 64);
    for (const back of [clone(rab), await roundTrip(echo, rab)].map(asResizable)) {
      assert.equal(back.resizable, true);
      assert.equal(back.maxByteLength, 64);
      assert.equal(back.byteLength, 4);
      back.resize(64);
      assert.equal(back.byteLength, 64);
    }
    assert.equal(rab.byteLength, 4, 'the original is untouched');
  });

  it('a typed array keeps its byteOffset and its whole underlying buffer', async () => {
    const view = new Int32Array(new ArrayBuffer(32), 8, 2);
    view.set([7, 8]);
    for (const back of [clone(view), await roundTrip(echo, view)]) {
      assert.ok(back instanceof Int32Array);
      assert.equal(back.byteOffset, 8);
      assert.equal(back.length, 2);
      assert.equal(back.buffer.byteLength, 32);
      assert.deepEqual([...back], [7, 8]);
    }
  });

  it('errors keep name, message, stack and cause (as structuredClone does)', async () => {
    for (const kind of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
      const original = new kind(`${kind.name} message`, { cause: { detail: kind.name } });
      for (const back of [clone(original), await roundTrip(echo, original)]) {
        assert.equal(Object.getPrototypeOf(back), kind.prototype);
        assert.equal(back.name, kind.name);
        assert.equal(back.message, `${kind.name} message`);
        assert.equal(back.stack, original.stack);
        assert.deepEqual(back.cause, { detail: kind.name });
      }
    }
  });

  it('errors built inside the agent carry the agent-side stack', async () => {
    const back = (await builtInAgent({ label: 'e', expr: '(function thrower() { return new TypeError("from agent"); })()' })) as Error;
    assert.ok(back instanceof TypeError);
    assert.match(back.stack ?? '', /^TypeError: from agent\n\s+at thrower/);
    assert.match(back.stack ?? '', /builder/);
  });

  it('objects are copies, never the same object', async () => {
    const value = { inner: { x: 1 } };
    const back = await roundTrip(echo, value);
    const cloned = clone(value);
    assert.notEqual(back, value);
    assert.notEqual(back.inner, value.inner);
    assert.notEqual(cloned.inner, value.inner);
  });
});

const nonCloneables: { label: string; expr: string }[] = [
  { label: 'function', expr: 'function f() {}' },
  { label: 'arrow function', expr: '() => 1' },
  { label: 'class', expr: 'class K {}' },
  { label: 'symbol', expr: 'Symbol("s")' },
  { label: 'Symbol object', expr: 'Object(Symbol.iterator)' },
  { label: 'WeakMap', expr: 'new WeakMap()' },
  { label: 'WeakSet', expr: 'new WeakSet()' },
  { label: 'WeakRef', expr: 'new WeakRef({})' },
  { label: 'Promise', expr: 'Promise.resolve(1)' },
  { label: 'Proxy of an object', expr: 'new Proxy({}, {})' },
  { label: 'Proxy of an array', expr: 'new Proxy([1], {})' },
  { label: 'revoked Proxy', expr: '(() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; })()' },
  { label: 'FinalizationRegistry', expr: 'new FinalizationRegistry(() => {})' },
  { label: 'generator object', expr: '(function* () {})()' },
  { label: 'function nested deep in an object', expr: '({ a: [1, { b: new Map([["k", () => 1]]) }] })' },
  { label: 'symbol as a Set member', expr: 'new Set([1, Symbol("in set")])' },
];

function structuredCloneError(value: unknown): DOMException {
  try {
    structuredClone(value);
  } catch (error) {
    return error as DOMException;
  }
  throw new Error('structuredClone accepted it');
}

function assertDataCloneError(error: unknown, expectedMessage: string): true {
  assert.ok(error instanceof DOMException, `a DOMException, got ${String(error)}`);
  assert.equal(error.name, 'DataCloneError');
  assert.equal(error.code, 25);
  assert.equal(error.message, expectedMessage);
  return true;
}

describe('what cannot be cloned throws DataCloneError and sends nothing', () => {
  const reporter = `
    onmessage = (e) => {
      const value = (0, eval)('(' + e.data + ')');
      try {
        postMessage(value);
        postMessage({ sent: true });
      } catch (error) {
        postMessage({ name: error.name, message: error.message, code: error.code, isError: error instanceof Error });
      }
    };
  `;
  let agentReporter: Agent;
  before(async () => {
    agentReporter = spawnAgent({ name: 'reporter', source: reporter });
    await agentReporter.ready;
  });

  for (const { label, expr } of nonCloneables) {
    describe(label, () => {
      it('host clone() throws the DataCloneError structuredClone throws', () => {
        const value = build({ label, expr });
        const expected = structuredCloneError(value);
        assert.throws(() => clone(value), (error: unknown) => assertDataCloneError(error, expected.message));
      });

      it('agent.postMessage throws it and nothing reaches the agent', async () => {
        const value = build({ label, expr });
        const expected = structuredCloneError(value);
        assert.throws(() => echo.postMessage(value), (error: unknown) => assertDataCloneError(error, expected.message));
        assert.equal(await roundTrip(echo, 'sentinel'), 'sentinel', 'the next message is the first one the agent sees');
      });

      it('postMessage inside the agent throws an error named DataCloneError with the same message, nothing sent', async () => {
        const expected = structuredCloneError(build({ label, expr }));
        const reply = nextMessage(agentReporter);
        agentReporter.postMessage(expr);
        assert.deepEqual(await reply, { name: 'DataCloneError', message: expected.message, code: 25, isError: true });
      });
    });
  }

  it(
    'a host object (MessagePort) throws a DataCloneError DOMException',
    () => {
      const { port1, port2 } = new MessageChannel();
      try {
        for (const attempt of [() => clone(port1), () => clone({ nested: [port1] }), () => echo.postMessage(port1)]) {
          assert.throws(attempt, (error: unknown) => {
            assert.ok(error instanceof DOMException, `a DOMException, got ${String(error)}`);
            assert.equal(error.name, 'DataCloneError');
            assert.match(error.message, /MessagePort|could not be cloned/);
            return true;
          });
        }
      } finally {
        port1.close();
        port2.close();
      }
    },
  );

  it('a value that fails deep inside a large message sends nothing at all', async () => {
    const value = { big: new Array(10_000).fill({ ok: 1 }), last: Symbol('late') };
    assert.throws(() => echo.postMessage(value), (error: unknown) => (error as Error).name === 'DataCloneError');
    assert.equal(await roundTrip(echo, 'after'), 'after');
  });
});

describe('getters that throw', () => {
  it('host clone() and agent.postMessage propagate the getter\'s own exception; nothing is sent', async () => {
    const boom = new Error('getter boom');
    let reads = 0;
    const value = {
      first: 1,
      get second() {
        reads++;
        throw boom;
      },
    };
    assert.throws(() => clone(value), (error: unknown) => error === boom);
    assert.throws(() => echo.postMessage(value), (error: unknown) => error === boom);
    assert.throws(() => echo.postMessage({ nested: [value] }), (error: unknown) => error === boom);
    assert.equal(reads, 3);
    assert.equal(await roundTrip(echo, 'next'), 'next');
  });

  it('a getter throwing a non-Error value propagates that value', () => {
    assert.throws(
      () =>
        clone({
          get x() {
            throw 'plain'; // eslint-disable-line no-throw-literal
          },
        }),
      (error: unknown) => error === 'plain',
    );
  });

  it('inside the agent the getter\'s exception propagates to postMessage\'s caller; nothing sent', async () => {
    const agent = spawnAgent({
      source: `
        const thrown = new RangeError('agent getter');
        try {
          postMessage({ ok: 1, get bad() { throw thrown; } });
          postMessage('sent?!');
        } catch (error) {
          postMessage({ same: error === thrown, name: error.name, message: error.message });
        }
      `,
    });
    assert.deepEqual(await nextMessage(agent), { same: true, name: 'RangeError', message: 'agent getter' });
  });

  it('a getter that throws while the data option is cloned makes the constructor throw', () => {
    const boom = new Error('data getter');
    assert.throws(
      () =>
        spawnAgent({
          source: '',
          data: {
            get x() {
              throw boom;
            },
          },
        }),
      (error: unknown) => error === boom,
    );
  });
});
