// The shared control words of a stress run, host side. agent-loop.ts (which
// must stay import-free) repeats these numbers; a test checks they agree.
export const C_COUNT = 0;
export const C_SENSE = 1;
export const C_HOST_STOP = 2;
export const C_DECIDED_STOP = 3;
export const C_ROUNDS = 4;
export const C_BAD_ROUND = 5;
export const C_BAD_INDEX = 6;
export const C_CLOCK = 7;
export const C_ARRIVED = 8;
export const C_PER_AGENT = 16;

/** Words for `agents` agents. */
export function controlWords(agents: number): number {
  return C_PER_AGENT + 2 * agents;
}

/** The agent-side loop module: the .ts source under tsx, the compiled .js from dist/. */
export const agentLoopUrl = new URL(`./agent-loop.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** mulberry32 step + a string hash: per-test, per-agent seeds derived from the run's seed. */
export function deriveSeed(seed: number, ...parts: Array<string | number>): number {
  let h = seed >>> 0;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  }
  return h >>> 0;
}
