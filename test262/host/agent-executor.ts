// Runs one test262 scenario in a fresh agent whose global scope is the
// native test262 host (print, $262, $262.agent). The agent, and every agent
// the test started, is terminated when the test ends: pass, fail or timeout.
import { Agent } from '../../src/agent/agent.js';
import type { ExecRequest, ExecResult, Executor } from '../runner/executor.js';
import { everyFileIsAModule } from './module-loader.js';

const asyncComplete = 'Test262:AsyncTestComplete';
const asyncFailure = 'Test262:AsyncTestFailure:';

export interface AgentExecutorOptions {
  /** Heap limit per test agent, so a runaway test cannot take the machine (default 512). */
  maxHeapMB?: number;
}

export class AgentExecutor implements Executor {
  readonly #maxHeapMB: number;

  constructor(options: AgentExecutorOptions = {}) {
    this.#maxHeapMB = options.maxHeapMB ?? 512;
  }

  run(request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
    return runInAgent(request, signal, this.#maxHeapMB);
  }
}

export function runInAgent(request: ExecRequest, signal: AbortSignal, maxHeapMB = 512): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve) => {
    const printed: string[] = [];
    let timedOut = false;
    let settled = false;
    let agent: Agent;
    try {
      agent = new Agent({
        source: request.source,
        type: request.isModule ? 'module' : 'classic',
        filename: request.file,
        name: request.relPath,
        globals: 'test262',
        canBlock: request.canBlock,
        trackUnhandledRejections: false,
        resourceLimits: { maxHeapMB },
        loader: everyFileIsAModule,
      });
    } catch (error) {
      resolve({ stdout: '', error: null, timedOut: false, crashed: String(error) });
      return;
    }

    const finish = () => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      void agent.terminate().then(() => {
        const failure = agent.failure;
        let error: ExecResult['error'] = null;
        let crashed: string | undefined;
        if (failure?.outOfMemory) crashed = 'the test exceeded its heap limit';
        else if (failure) error = { ...splitSummary(failure.summary), phase: failure.phase };
        resolve({ stdout: printed.join('\n'), error, timedOut, ...(crashed ? { crashed } : {}) });
      });
    };
    const onAbort = () => {
      timedOut = true;
      finish();
    };

    agent.on('console', (level, text) => {
      if (level !== 'print') return; // console.* of tests is not part of the result
      printed.push(text);
      if (request.isAsync && (text === asyncComplete || text.startsWith(asyncFailure))) finish();
    });
    agent.on('error', () => finish());
    agent.on('exit', () => finish());
    agent.ready.then(
      () => {
        if (!request.isAsync) finish();
      },
      () => finish(),
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** "Name: message" as the agent read it natively. */
export function splitSummary(summary: string): { name: string; message: string } {
  const colon = summary.indexOf(':');
  if (colon < 0) return { name: summary.trim() || 'Error', message: '' };
  return { name: summary.slice(0, colon).trim(), message: summary.slice(colon + 1).trim() };
}
