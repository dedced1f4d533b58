// The event protocol is declared once, in native/shared/event_schema.h; the
// TypeScript mirror (src/native-event-schema.ts) must say the same, and the
// Agent must read real events by it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Agent } from '../src/index.js';
import { consoleLevelNames, errorPhaseNames, nativeEventSchema } from '../src/native-event-schema.js';

const header = readFileSync(new URL('../native/shared/event_schema.h', import.meta.url), 'utf8');

/** Every `enum class NAME : TYPE { kKey = N, ... };` of the header, keys without the `k`. */
function parseEnums(source: string): Record<string, Record<string, number>> {
  const enums: Record<string, Record<string, number>> = {};
  for (const [, name, body] of source.matchAll(/enum class (\w+) : \w+ \{([^}]*)\};/g)) {
    const members: Record<string, number> = {};
    for (const raw of body!.split(',')) {
      const member = raw.replace(/\/\/.*$/gm, '').trim();
      if (member === '') continue;
      const match = /^k(\w+) = (\d+)$/.exec(member);
      assert.ok(match, `event_schema.h: ${name} member "${member}" is not "kName = N"`);
      members[match[1]!] = Number(match[2]);
    }
    enums[name!] = members;
  }
  return enums;
}

test('event schema: the TypeScript mirror has exactly the enums, names and values of event_schema.h', () => {
  const parsed = parseEnums(header);
  assert.ok(Object.keys(parsed).length >= 10, 'the header parser found too few enums');
  assert.deepEqual(parsed, JSON.parse(JSON.stringify(nativeEventSchema)));
});

test('event schema: kinds are distinct and every tuple field index is distinct and past the kind', () => {
  const parsed = parseEnums(header);
  const kinds = Object.values(parsed.HostEventKind!);
  assert.equal(new Set(kinds).size, kinds.length);
  for (const [name, members] of Object.entries(parsed)) {
    if (!name.endsWith('Field')) continue;
    const indices = Object.values(members);
    assert.equal(new Set(indices).size, indices.length, `${name} reuses an index`);
    assert.ok(indices.every((index) => index >= 1), `${name} overwrites the kind at 0`);
  }
});

test('event schema: level and phase names follow the enum order', () => {
  const parsed = parseEnums(header);
  for (const [key, value] of Object.entries(parsed.ConsoleLevel!)) assert.equal(consoleLevelNames[value], key.toLowerCase());
  assert.equal(consoleLevelNames.length, Object.keys(parsed.ConsoleLevel!).length);
  for (const [key, value] of Object.entries(parsed.ErrorPhase!)) assert.equal(errorPhaseNames[value], key.toLowerCase());
  assert.equal(errorPhaseNames.length, Object.keys(parsed.ErrorPhase!).length);
});

test('event schema: console level, error code and phase, and evaluate ids reach the host by it', async () => {
  const agent = new Agent({
    name: 'schema',
    source: "console.warn('w'); console.debug('d'); globalThis.fail = () => { throw Object.assign(new TypeError('bad'), { code: 'E_SCHEMA' }); };",
  });
  const lines: [string, string][] = [];
  agent.on('console', (level, text) => lines.push([level, text]));
  try {
    await agent.ready;
    // Several evaluations at once, settled out of order: each id gets its own outcome.
    const slow = agent.evaluate('new Promise((r) => setTimeout(() => r(1), 30))');
    const rejected = agent.evaluate('Promise.reject(Object.assign(new RangeError("no"), { code: "E_EVAL" }))');
    const fast = agent.evaluate('Promise.resolve(2)');
    const thrown = agent.evaluate('fail()');
    // Handlers attached at once: a rejection that lands before they are would be unhandled.
    const rejectedChecked = assert.rejects(rejected, (error: Error & { code?: string }) => error.name === 'RangeError' && error.code === 'E_EVAL');
    const thrownChecked = assert.rejects(thrown, (error: Error & { code?: string }) => error.name === 'TypeError' && error.code === 'E_SCHEMA');
    assert.equal(await fast, 2);
    await rejectedChecked;
    await thrownChecked;
    assert.equal(await slow, 1);
    assert.deepEqual(lines, [
      ['warn', 'w'],
      ['debug', 'd'],
    ]);
  } finally {
    await agent.terminate();
  }
  const broken = new Agent({ name: 'schema-parse', type: 'module', source: 'export const = 1;' });
  broken.on('error', () => {});
  await assert.rejects(broken.ready);
  assert.equal(broken.failure?.phase, 'parse');
  await broken.exited;
});
