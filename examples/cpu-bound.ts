// npm start: the same CPU-bound work, first on the main thread, then on a
// pool of agents (one per CPU), and the speed-up.
import { availableParallelism } from 'node:os';
import { AgentPool } from '../src/index.js';
import fib from './jobs/fib.mjs';

const tasks = Array.from({ length: 24 }, () => 30); // 24 x fib(30)

// 1. One thread: call the function directly.
let start = performance.now();
const expected = tasks.map((n) => fib(n));
const single = performance.now() - start;
console.log(`main thread: ${tasks.length} x fib(30) in ${single.toFixed(0)} ms`);

// 2. A pool: each task runs the module's default export in an agent.
const pool = new AgentPool({ filename: new URL('./jobs/fib.mjs', import.meta.url), minAgents: availableParallelism() });
await pool.ready; // agents start in a few ms; waiting keeps the timing about the work
start = performance.now();
const results = await Promise.all(tasks.map((n) => pool.run(n)));
const pooled = performance.now() - start;
console.log(`pool of ${pool.maxAgents} agents: same tasks in ${pooled.toFixed(0)} ms`);

if (results.some((value, i) => value !== expected[i])) throw new Error('the pool computed something else');
console.log(`speed-up: ${(single / pooled).toFixed(2)}x on ${availableParallelism()} CPUs`);
await pool.close();
