// Every export of the addon and every AgentHandle method, called straight on
// build/Release/agentcluster.node with too few arguments or ones of the wrong
// type: each must throw a TypeError with a stable code (native/host/native_args.h),
// never reach an unchecked cast or abort. The calls run in one child process
// (plain node, no TypeScript wrapper in between) so that a crash fails the
// cases it took down instead of killing the test runner.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeChild, repoRoot, runNode, type ChildResult } from './support/agents.js';

/** What a call must do: throw this (name and code; `code: null` means none is required) or return. */
type Expected = { throws: { name: string; code: string | null } } | { returns: true };

const missing: Expected = { throws: { name: 'TypeError', code: 'ERR_MISSING_ARGS' } };
const wrongType: Expected = { throws: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' } };
const wrongValue: Expected = { throws: { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' } };
const returns: Expected = { returns: true };
const wrongThis: Expected = { throws: { name: 'TypeError', code: 'ERR_INVALID_THIS' } };
// V8 or node-addon-api refuses these itself (a method on a receiver that is not an AgentHandle, no `new`).
const refusedByWrapper = (name: string): Expected => ({ throws: { name, code: null } });

// [call, expected]. In the child, `addon` is the addon, `h` a live AgentHandle and `port` an AgentPort.
const cases: [string, Expected][] = [
  // Exports
  ['addon.clone()', missing],
  ['addon.clone(1, 5)', wrongType],  // the transfer list, checked by the serializer (as Node's postMessage does)
  ['addon.clone(1, undefined)', returns],
  ['addon.createChannel()', missing],
  ['addon.createChannel(1)', missing],
  ["addon.createChannel('1', 2)", wrongType],
  ['addon.createChannel(1, {})', wrongType],
  ['addon.createChannel(4, 1024)', returns],
  // Numbers that become integers: finite, integral, in range (native_args ReadIntegerArg)
  ['addon.createChannel(Infinity, 1024)', wrongValue],
  ['addon.createChannel(4, NaN)', wrongValue],
  ['addon.createChannel(0, 1024)', wrongValue],
  ['addon.createChannel(1.5, 1024)', wrongValue],
  ['addon.createChannel(4, 2 ** 53)', wrongValue],
  ['addon.setNodeSnapshotInUse()', missing],
  ["addon.setNodeSnapshotInUse('yes')", wrongType],
  ['addon.setNodeSnapshotInUse(1)', wrongType],
  ['addon.setSemiSpaceFlagGiven()', missing],
  ["addon.setSemiSpaceFlagGiven('no')", wrongType],
  ['addon.setSemiSpaceFlagGiven(false)', returns],
  ['addon.setErrorClass()', missing],
  ['addon.setErrorClass(42)', wrongType],
  ['addon.setErrorClass({})', wrongType],
  ["addon.liveCount('x')", returns],
  ['addon.agentSnapshotInfo({})', returns],
  ['addon.sharedSourceCount(null)', returns],
  // The AgentHandle constructor
  ['new addon.AgentHandle()', missing],
  ['new addon.AgentHandle(options)', missing],
  ['new addon.AgentHandle(null, () => {})', wrongType],
  ["new addon.AgentHandle('options', () => {})", wrongType],
  ['new addon.AgentHandle(options, 5)', wrongType],
  ['new addon.AgentHandle(options, {})', wrongType],
  ['new addon.AgentHandle({ ...options, builtinModules: { x: 1 } }, () => {})', wrongType],
  ['addon.AgentHandle(options, () => {})', refusedByWrapper('TypeError')],
  // AgentHandle methods with arguments
  ['h.postMessage()', missing],
  ['h.postMessage(1, 5)', wrongType],  // the transfer list, checked by the serializer (as Node's postMessage does)
  ['h.evaluate()', missing],
  ['h.evaluate(1)', missing],
  ["h.evaluate('1', 'x')", wrongType],
  ['h.evaluate(1, 2)', wrongType],
  ['h.evaluate(null, null)', wrongType],
  ["h.evaluate(NaN, 'x')", wrongValue],
  ["h.evaluate(Infinity, 'x')", wrongValue],
  ["h.evaluate(-1, 'x')", wrongValue],
  ["h.evaluate(2 ** 32, 'x')", wrongValue],
  ["h.evaluate(0.5, 'x')", wrongValue],
  ['h.hostReply()', missing],
  ['h.hostReply(1, true)', missing],
  ["h.hostReply('1', true, 0)", wrongType],
  ["h.hostReply(1, 'yes', 0)", wrongType],
  ['h.hostReply(NaN, true, 0)', wrongValue],
  ['h.hostReply(-Infinity, false, 0)', wrongValue],
  ['h.hostReply(2 ** 32, false, 0)', wrongValue],
  ['h.hostReply(1, true, 0, 5)', returns],  // no host bridge: refused (false) before the transfer list is read
  ['h.diagnostics()', missing],
  ['h.diagnostics(5)', wrongType],
  ["h.diagnostics('bogus')", wrongValue],
  ["h.diagnostics('post')", missing],
  ["h.diagnostics('post', 1)", missing],
  ["h.diagnostics('post', 'a', 1)", wrongType],
  ["h.diagnostics('ack')", missing],
  ["h.diagnostics('ack', '5')", wrongType],
  ["h.diagnostics('cancel', {})", wrongType],
  ["h.diagnostics('post', NaN, 1)", wrongValue],
  ["h.diagnostics('post', 0, NaN)", wrongValue],
  ["h.diagnostics('post', Infinity, 1)", wrongValue],
  ["h.diagnostics('post', 4, 1)", wrongValue],
  ["h.diagnostics('post', 0.5, 1)", wrongValue],
  ["h.diagnostics('post', 0, 0)", wrongValue],  // id 0 is the exit info's, never a request
  ["h.diagnostics('post', 0, 2 ** 32)", wrongValue],
  ["h.diagnostics('ack', Infinity)", wrongValue],
  ["h.diagnostics('ack', NaN)", wrongValue],
  ["h.diagnostics('ack', -1)", wrongValue],
  ["h.diagnostics('ack', 0)", returns],
  ["h.diagnostics('cancel', NaN)", wrongValue],
  ["h.diagnostics('cancel', 0)", wrongValue],
  ["h.diagnostics('cancel', 1.5)", wrongValue],
  ["h.diagnostics('cpuUsage', 'junk')", returns],
  ["h.diagnostics('heapUsed', {})", returns],
  // AgentHandle methods without arguments ignore extra ones
  ['h.ref(1)', returns],
  ["h.unref('x')", returns],
  ['h.interrupt({})', returns],
  ['h.atomicsStats(1)', returns],
  ['h.drainEvents(1)', returns],
  ['h.hostSyncWaiting(1)', returns],
  ['h.endingReason(1)', returns],
  ['h.checkThreadFromForeignThread(1)', returns],
  // A method or accessor on something that is not an AgentHandle
  ["addon.AgentHandle.prototype.evaluate.call({}, 1, 'x')", refusedByWrapper('TypeError')],
  // Accessors check their receiver themselves (AgentHandle::FromReceiver): plain objects,
  // primitives and fakes built on the prototype alike
  ["Object.getOwnPropertyDescriptor(addon.AgentHandle.prototype, 'threadId').get.call({})", wrongThis],
  ["Object.getOwnPropertyDescriptor(addon.AgentHandle.prototype, 'bufferedMessages').get.call(1)", wrongThis],
  ["Object.create(addon.AgentHandle.prototype).bufferedBytes", wrongThis],
  ["Object.getOwnPropertyDescriptor(addon.AgentHandle.prototype, 'threadId').get.call(port)", wrongThis],
  ['h.threadId + h.bufferedMessages + h.bufferedBytes', returns],
  // AgentPort methods (a channel from createChannel); the same serializer checks the transfer list
  ['port.postMessage(1, 5)', wrongType],
  ['port.postMessage(1, { transfer: 5 })', wrongType],
  ["port.postMessage.call({}, 1)", refusedByWrapper('TypeError')],
  ['h.terminate(1)', returns],
  ['addon.stopAll(1, 2)', returns],  // last: it stops `h`
];

// One line per case: `begin <i>` before the call, then its JSON outcome,
// so that a crash shows which call it was.
const childSource = `
const addon = require(${JSON.stringify(repoRoot + 'build/Release/agentcluster.node')});
addon.setNodeSnapshotInUse(true);
const options = { name: 'arg-types', source: '', basePath: process.cwd(), isModule: false, canBlock: true, builtinModules: {} };
const h = new addon.AgentHandle(options, () => {});
const { port1: port, port2 } = addon.createChannel(4, 1024);
const cases = ${JSON.stringify(cases.map(([call]) => call))};
cases.forEach((call, i) => {
  console.log('begin ' + i);
  try {
    new Function('addon', 'h', 'options', 'port', 'return ' + call)(addon, h, options, port);
    console.log(JSON.stringify({ i, returned: true }));
  } catch (error) {
    console.log(JSON.stringify({ i, name: error?.name, code: error?.code ?? null, message: String(error?.message) }));
  }
});
addon.stopAll();
port.close();
`;

interface Outcome { i: number; returned?: true; name?: string; code?: string | null; message?: string }

describe('native entry points refuse bad arguments with a TypeError (child process)', () => {
  let result: ChildResult;
  const outcomes = new Map<number, Outcome>();

  before(async () => {
    result = await runNode(['-e', childSource], { timeoutMs: 60_000 });
    for (const line of result.stdout.split('\n')) {
      if (line.startsWith('{')) {
        const outcome = JSON.parse(line) as Outcome;
        outcomes.set(outcome.i, outcome);
      }
    }
  });

  it('the child ran every call and exited normally', () => {
    assert.equal(result.signal, null, describeChild(result));
    assert.equal(result.code, 0, describeChild(result));
    assert.equal(outcomes.size, cases.length, describeChild(result));
  });

  cases.forEach(([call, expected], i) => {
    it(`${call} → ${'returns' in expected ? 'returns' : `${expected.throws.name}${expected.throws.code ? ` ${expected.throws.code}` : ''}`}`, () => {
      const outcome = outcomes.get(i);
      assert.ok(outcome, `no outcome: the child stopped at or before this call\n${describeChild(result)}`);
      if ('returns' in expected) {
        assert.equal(outcome.returned, true, `threw ${outcome.name} ${outcome.code}: ${outcome.message}`);
        return;
      }
      assert.notEqual(outcome.returned, true, 'returned instead of throwing');
      assert.equal(outcome.name, expected.throws.name, outcome.message);
      if (expected.throws.code !== null) assert.equal(outcome.code, expected.throws.code, outcome.message);
      // The message names the entry point and the argument (or the receiver) it refused.
      assert.ok(outcome.message && outcome.message.length > 0);
    });
  });

  it('messages name the entry point, the argument and what was received', () => {
    const at = (call: string) => outcomes.get(cases.findIndex(([c]) => c === call));
    assert.match(String(at("h.evaluate(1, 2)")?.message), /^AgentHandle\.evaluate\(id, source\): the "source" argument must be of type string; received number$/);
    assert.match(String(at('addon.createChannel(1)')?.message), /^createChannel\(messages, bytes\): the "bytes" argument must be specified \(2 required, 1 given\)$/);
    assert.match(String(at('new addon.AgentHandle(null, () => {})')?.message), /the "options" argument must be of type object; received null/);
    assert.match(String(at("h.diagnostics('bogus')")?.message), /received 'bogus'/);
    assert.match(String(at("h.diagnostics('post', NaN, 1)")?.message), /^AgentHandle\.diagnostics: the "kind" argument must be an integer from 0 to 3; received NaN$/);
    assert.match(String(at('addon.createChannel(Infinity, 1024)')?.message), /the "messages" argument must be an integer from 1 to 9007199254740991; received Infinity/);
    assert.match(String(at("Object.create(addon.AgentHandle.prototype).bufferedBytes")?.message), /AgentHandle\.bufferedBytes .*not an AgentHandle/);
  });
});
