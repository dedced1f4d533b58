// Child process of bench/pool.ts: resident memory of a pool of N threads of
// one peer, in a fresh process so that peers never share a baseline.
//   node --expose-gc --import tsx bench/pool-rss-child.ts <AgentPool|piscina|tinypool> <N>
// Prints one JSON line last: { peer, count, base, after, perThread }.
import { createPool, peerNames, rendezvous, type PeerName } from './pool-peers.js';
import { rssBytes, sleep } from './lib.js';

async function settle(): Promise<number> {
  await sleep(300);
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  return rssBytes();
}

const peer = process.argv[2] as PeerName;
const count = Number(process.argv[3] ?? 8);
if (!peerNames.includes(peer) || !(count > 0)) throw new Error('usage: pool-rss-child.ts <AgentPool|piscina|tinypool> <N>');

const base = await settle();
const pool = createPool(peer, count);
await rendezvous(pool, count); // every thread up, the job module loaded in each
for (let i = 0; i < 200; i++) await pool.run(i, { name: 'inc' });
const after = await settle();
await pool.destroy();
console.log(JSON.stringify({ peer, count, base, after, perThread: (after - base) / count }));
