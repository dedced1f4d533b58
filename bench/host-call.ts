// Host call round trip (issue 14): an agent calling `host.echo(i)` (async)
// and `host.sync.echo(i)` (blocking) against the same call made by a
// worker_thread to its host over a MessagePort (async: postMessage + await
// the reply; sync: postMessage + Atomics.wait + receiveMessageOnPort, the
// usual pattern), and against our own message round trip (host → agent →
// host, bench/roundtrip.ts). All in one run, in interleaved rounds.
//   node --import tsx bench/host-call.ts [--quick]
// isolated-vm's Reference.apply is not compared: the registry's isolated-vm
// (7.x) requires Node >= 24 and does not build against Node 20 here.
import { Worker } from 'node:worker_threads';
import { Agent } from '../src/index.js';
import { isMain, parseOptions, printTable, publish, ratio, fmtRatio, fmtTime, withTimeout, type BenchOptions, type BenchReport } from './lib.js';
import { pingPong, startAgentEcho } from './roundtrip.js';

const ASYNC_TARGET = 1; // async host call at most the worker's round trip
const SYNC_VS_MESSAGE = 0.5; // sync host call at most 2x our message round trip

const callLoop = (call: string) => `(async (n) => {
  let sum = 0; const t0 = performance.now();
  for (let i = 0; i < n; i++) sum += ${call};
  return [(performance.now() - t0) * 1e6 / n, sum];
})`;

interface Peer {
  label: string;
  /** Mean ns per call over `n` sequential calls, timed inside the thread. */
  round(n: number): Promise<number>;
  stop(): Promise<unknown>;
}

async function startAgentPeer(sync: boolean): Promise<Peer> {
  const agent = new Agent({ source: `globalThis.loop = ${callLoop(sync ? 'host.sync.echo(i)' : 'await host.echo(i)')};`, host: { echo: (i: number) => i } });
  await withTimeout(agent.ready, 30_000, 'agent ready');
  return {
    label: sync ? 'agent host.sync.echo(i)' : 'agent await host.echo(i)',
    round: async (n) => (await agent.evaluate<[number, number]>(`loop(${n})`))[0],
    stop: () => agent.terminate(),
  };
}

const workerSource = (sync: boolean) => `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
let port, flag;
parentPort.once('message', (setup) => {
  ({ port, flag } = setup);
  const pending = new Map();
  let next = 0;
  port.on('message', ({ id, value }) => { pending.get(id)(value); pending.delete(id); });
  const echo = (i) => new Promise((resolve) => { const id = next++; pending.set(id, resolve); port.postMessage({ id, args: [i] }); });
  const syncPort = setup.syncPort;
  const echoSync = (i) => {
    Atomics.store(flag, 0, 0);
    syncPort.postMessage({ id: next++, args: [i] });
    Atomics.wait(flag, 0, 0);
    return receiveMessageOnPort(syncPort).message.value;
  };
  const loop = ${callLoop(sync ? 'echoSync(i)' : 'await echo(i)')};
  parentPort.on('message', async (n) => parentPort.postMessage(await loop(n)));
  parentPort.postMessage('ready');
});`;

async function startWorkerPeer(sync: boolean): Promise<Peer> {
  const worker = new Worker(workerSource(sync), { eval: true });
  const { port1, port2 } = new MessageChannel();
  const sync1 = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // The host side: the same echo function, answered from the host's event loop.
  const echo = (i: number) => i;
  port1.on('message', ({ id, args }: { id: number; args: [number] }) => port1.postMessage({ id, value: echo(...args) }));
  sync1.port1.on('message', ({ id, args }: { id: number; args: [number] }) => {
    sync1.port1.postMessage({ id, value: echo(...args) });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
  let resolveNext: ((v: unknown) => void) | undefined;
  worker.on('message', (m) => resolveNext?.(m));
  const next = () => new Promise((resolve) => (resolveNext = resolve));
  const ready = next();
  worker.postMessage({ port: port2, flag, syncPort: sync1.port2 }, [port2, sync1.port2]);
  await withTimeout(ready, 30_000, 'worker ready');
  return {
    label: sync ? 'worker sync (Atomics.wait + receiveMessageOnPort)' : 'worker await port round trip',
    round: async (n) => {
      const answer = next();
      worker.postMessage(n);
      return ((await answer) as [number, number])[0];
    },
    stop: async () => {
      port1.close();
      sync1.port1.close();
      await worker.terminate();
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(options: BenchOptions): Promise<BenchReport> {
  const q = options.quick;
  const perRound = q ? 500 : 5000;
  const rounds = q ? 3 : 9;
  console.log(`\n=== host-call: a call from a thread to a host function and back (${q ? 'quick' : 'full'}) ===`);
  const peers = [await startAgentPeer(false), await startWorkerPeer(false), await startAgentPeer(true), await startWorkerPeer(true)];
  const echo = await startAgentEcho();
  const samples = peers.map(() => [] as number[]);
  const messageRoundTrips: number[] = [];
  try {
    for (const peer of peers) await peer.round(perRound); // warm-up
    await pingPong(echo, 42, perRound);
    for (let r = 0; r < rounds; r++) {
      for (let p = 0; p < peers.length; p++) samples[p]!.push(await peers[p]!.round(perRound));
      const trips = await pingPong(echo, 42, perRound);
      messageRoundTrips.push(trips.reduce((a, b) => a + b, 0) / trips.length);
    }
  } finally {
    for (const peer of peers) await peer.stop();
    await echo.stop();
  }
  const [agentAsync, workerAsync, agentSync, workerSync] = samples.map(median) as [number, number, number, number];
  const message = median(messageRoundTrips);
  printTable(`Mean time per call (median of ${rounds} rounds of ${perRound} sequential calls, timed in the calling thread)`, ['caller', 'per call', 'vs agent'], [
    [peers[0]!.label, fmtTime(agentAsync), ''],
    [peers[1]!.label, fmtTime(workerAsync), `agent faster by ${fmtRatio(workerAsync / agentAsync)}`],
    [peers[2]!.label, fmtTime(agentSync), ''],
    [peers[3]!.label, fmtTime(workerSync), `agent faster by ${fmtRatio(workerSync / agentSync)}`],
    ['our message round trip (host → agent → host, mean)', fmtTime(message), `sync call is ${fmtRatio(agentSync / message)} of it`],
  ]);
  const report: BenchReport = {
    name: 'host-call',
    ratios: [
      ratio('host-call', 'async host call vs worker MessagePort round trip', agentAsync, workerAsync, 'ns', ASYNC_TARGET),
      ratio('host-call', 'sync host call vs worker Atomics.wait + receiveMessageOnPort', agentSync, workerSync, 'ns'),
      ratio('host-call', 'sync host call vs our message round trip (target: at most 2x)', agentSync, message, 'ns', SYNC_VS_MESSAGE),
    ],
    checks: [],
    data: { perRound, rounds, agentAsync, workerAsync, agentSync, workerSync, message },
  };
  return publish(report, options);
}

if (isMain(import.meta.url)) await run(parseOptions());
