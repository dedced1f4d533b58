// RSS measurement: forced GC (when it can be had), samples and a slope.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

/** A full GC of the host heap (exposes gc on first use; a harness-only trick). */
export function hostGc(): void {
  if (gcFn === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') gcFn = existing;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

export const rssMB = (): number => process.memoryUsage.rss() / (1024 * 1024);

/** RSS after a couple of host GCs and a pause (agents free their isolates on their own threads). */
export async function settledRssMB(pauseMs = 50): Promise<number> {
  for (let i = 0; i < 2; i++) {
    hostGc();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return rssMB();
}

/**
 * RSS once it is at or below `limitMB`, polling for up to `maxWaitMs`; the last
 * reading otherwise. V8 13 and later (Node 24+) keep the heap pages of disposed
 * isolates in a process-wide pool that a delayed V8 task frees about 10 s
 * later (measured on Node 24.22.3: 102 MB after 80 OOM agents, 70 MB after
 * 10 s), so "memory comes back" has to allow for that delay.
 */
export async function rssBackUnder(limitMB: number, maxWaitMs: number): Promise<{ rssMB: number; waitedMs: number }> {
  const started = Date.now();
  let now = await settledRssMB(100);
  while (now > limitMB && Date.now() - started < maxWaitMs) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    now = await settledRssMB(10);
  }
  return { rssMB: now, waitedMs: Date.now() - started };
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Whether RSS bounds are enforced: not under the sanitizers (scripts/sanitize.sh
 * sets AGENTCLUSTER_SANITIZE), where ASan's quarantine and shadow memory own RSS.
 */
export const enforceMemoryBounds = (): boolean => !process.env.AGENTCLUSTER_SANITIZE;
