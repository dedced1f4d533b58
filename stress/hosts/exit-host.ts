// Child process of the teardown-exit scenario: start agents in every state
// (Atomics.wait, waitAsync, storms, large clones, module loading, OOM, spin,
// evaluate), terminate some of them without waiting, then end the process
// the way argv[2] says. Prints READY when the agents are in place and
// EXIT-EVENT <code> from process.on('exit').
//   node --import tsx stress/hosts/exit-host.ts <mode> <seed>
import { Agent } from '../../src/index.js';
import { Rng } from '../lib/rng.js';
import { startWorkload, WORKLOADS, type Started } from '../lib/workloads.js';
import { within } from '../lib/util.js';

export const EXIT_MODES = ['natural', 'exit', 'exit-in-listener', 'uncaught', 'uncaught-in-listener', 'unhandled-rejection', 'sigterm', 'sigterm-handler'] as const;
export type ExitMode = (typeof EXIT_MODES)[number];

/** What the parent should see for a mode: exit code (or signal) and a stderr marker. */
export function expectedExit(mode: ExitMode, seed: number): { code: number | null; signal: NodeJS.Signals | null; stderr?: string } {
  switch (mode) {
    case 'natural':
      return { code: 0, signal: null };
    case 'exit':
    case 'exit-in-listener':
      return { code: 3 + (seed % 50), signal: null };
    case 'uncaught':
    case 'uncaught-in-listener':
    case 'unhandled-rejection':
      return { code: 1, signal: null, stderr: `stress-${mode}-${seed}` };
    case 'sigterm':
      return { code: null, signal: 'SIGTERM' };
    case 'sigterm-handler':
      return { code: 143, signal: null };
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));

async function main(): Promise<void> {
  const mode = process.argv[2] as ExitMode;
  const seed = Number(process.argv[3] ?? 1);
  if (!EXIT_MODES.includes(mode)) throw new Error(`exit-host: unknown mode ${mode}`);
  const rng = new Rng(seed);
  process.on('exit', (code) => console.log(`EXIT-EVENT ${code}`));
  if (mode === 'sigterm-handler') process.on('SIGTERM', () => process.exit(143));

  const spawn = (options: ConstructorParameters<typeof Agent>[0]) => {
    const agent = new Agent(options);
    agent.ready.catch(() => {});
    agent.on('error', () => {});
    return agent;
  };
  const started: Started[] = [];
  const count = rng.int(6, 16);
  for (let i = 0; i < count; i++) started.push(startWorkload(spawn, rng.pick(WORKLOADS), rng, `exit-${i}`));
  const echo = spawn({ name: 'echo', source: 'onmessage = (e) => postMessage(e.data);' });
  for (const s of started) s.inState.catch(() => {});
  await within(Promise.allSettled([echo.ready, ...started.filter(() => rng.chance(0.7)).map((s) => s.inState)]), 15_000, 'agents to start').catch(() => {});
  // Some are being terminated right as the process ends.
  for (const s of started) if (rng.chance(0.25)) void s.agent.terminate();
  console.log(`READY ${started.map((s) => s.workload).join(',')}`);
  await new Promise((resolve) => setTimeout(resolve, rng.int(0, 20)));

  const code = 3 + (seed % 50);
  switch (mode) {
    case 'natural':
      for (const s of started) s.agent.unref();
      echo.unref();
      return;
    case 'exit':
      process.exit(code);
    case 'exit-in-listener':
      echo.on('message', () => process.exit(code));
      echo.postMessage('x');
      return;
    case 'uncaught':
      setTimeout(() => {
        throw new Error(`stress-${mode}-${seed}`);
      }, 0);
      return;
    case 'uncaught-in-listener':
      echo.on('message', () => {
        throw new Error(`stress-${mode}-${seed}`);
      });
      echo.postMessage('x');
      return;
    case 'unhandled-rejection':
      void Promise.reject(new Error(`stress-${mode}-${seed}`));
      return;
    case 'sigterm':
    case 'sigterm-handler':
      // The parent sends SIGTERM once it reads READY; keep the process alive until then.
      setInterval(() => {}, 1000);
      return;
  }
}

if (isMain) await main();
