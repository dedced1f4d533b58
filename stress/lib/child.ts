// Child processes for scenarios that end a process (exit paths, uncaught
// exceptions, signals): run a stress/hosts/ script under tsx, capture all.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const hostScript = (name: string): string => fileURLToPath(new URL(`../hosts/${name}`, import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface ChildOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called with the child and each stdout chunk (e.g. to send a signal once it printed "ready"). */
  onStdout?(chunk: string, child: import('node:child_process').ChildProcess): void;
}

/** `node --import tsx stress/hosts/<name> ...args`, killed with SIGKILL after timeoutMs. */
export function runHost(name: string, args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  return runNode(['--import', 'tsx', hostScript(name), ...args], options);
}

export function runNode(args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Sanitizer runs pass LD_PRELOAD/ASAN_OPTIONS through the environment; keep it.
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** Signs of a crash rather than an orderly exit (V8 fatal errors, aborts, sanitizer reports). */
export const CRASH_PATTERN =
  /FATAL ERROR|Fatal error|Segmentation fault|Aborted|Assertion .*failed|Check failed|terminate called|core dumped|pure virtual|AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer/i;

export function describeChild(result: ChildResult, limit = 2000): string {
  const cut = (text: string) => (text.length > limit ? `…${text.slice(-limit)}` : text);
  return `code=${result.code} signal=${result.signal} timedOut=${result.timedOut} (${result.ms} ms)\n--- stdout ---\n${cut(result.stdout)}\n--- stderr ---\n${cut(result.stderr)}`;
}
