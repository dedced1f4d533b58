// Child process of the reentrancy scenario: 'message' listeners that throw.
// An agent posts N numbered messages; the host's listener throws on some of
// them (seeded). Every throw must surface as exactly one uncaughtException
// (caught here), and every message must still be delivered, in order.
// Prints one JSON line: { received, thrown, caught, inOrder }.
//   node --import tsx stress/hosts/throwing-listener-host.ts <seed> <n>
import { Agent } from '../../src/index.js';
import { Rng } from '../lib/rng.js';

const seed = Number(process.argv[2] ?? 1);
const n = Number(process.argv[3] ?? 1000);
const rng = new Rng(seed);
const throwOn = new Set<number>();
for (let i = 0; i < n; i++) if (rng.chance(0.05)) throwOn.add(i);

let caught = 0;
const caughtMarkers: number[] = [];
process.on('uncaughtException', (error) => {
  caught++;
  const match = /listener-throw-(\d+)/.exec(String((error as Error).message));
  if (match) caughtMarkers.push(Number(match[1]));
});

const agent = new Agent({ source: `onmessage = (e) => { for (let i = 0; i < e.data; i++) postMessage(i); }` });
const received: number[] = [];
// The listener records each message, then throws on some: the throw must not
// cost the rest of the batch (an EventEmitter stops at a throwing listener
// for that one event, as in Node; later events must still come).
agent.on('message', (value) => {
  received.push(value as number);
  if (received.length === n) {
    // Let the queued rethrows land before reporting.
    setTimeout(() => {
      const inOrder = received.every((v, i) => v === i);
      const markersInOrder = caughtMarkers.every((v, i) => i === 0 || v > caughtMarkers[i - 1]!);
      console.log(JSON.stringify({ received: received.length, thrown: throwOn.size, caught, inOrder, markersInOrder }));
      void agent.terminate();
    }, 50);
  }
  if (throwOn.has(value as number)) throw new Error(`listener-throw-${value}`);
});
// Never hang the parent: give up after 30 s with what we have.
setTimeout(() => {
  console.log(JSON.stringify({ received: received.length, thrown: throwOn.size, caught, inOrder: false, markersInOrder: false, gaveUp: true }));
  process.exit(0);
}, 30_000).unref();
await agent.ready;
agent.postMessage(n);
