// `agentcluster stress --json` owns stdout: its one JSON document must parse.
// The user's test file runs in this process (its top level, its models, its
// timers) and in agents (whose console output, with no listener, is written
// to process.stdout), so from the start of the run until the process exits,
// every other write to stdout is diverted to stderr, where the user still
// sees it. The document itself goes past the diversion.
//
// The diversion is at the stream level: process.stdout.write and the
// stream's own _write/_writev. Writes below the stream (fs.writeSync(1, ...),
// a child process that inherits fd 1) reach fd 1 directly: redirecting the
// descriptor itself is out of scope (docs/stress-harness.md, "The command").
import type { Writable } from 'node:stream';

export interface StdoutDiversion {
  /** Writes to the real stdout, past the diversion. */
  write(text: string): void;
}

type Chunk = { chunk: unknown; encoding: BufferEncoding };
type Callback = (error?: Error | null) => void;
const methods = ['write', '_write', '_writev'] as const;

/** Sends process.stdout writes to process.stderr for the rest of the process; returns the way past it. */
export function divertStdoutToStderr(): StdoutDiversion {
  const stdout: Writable = process.stdout;
  const stderr = process.stderr;
  const slots = stdout as unknown as Record<string, unknown>;
  // The stream's own properties, to put back around the document (undefined: the prototype's).
  const own = Object.fromEntries(methods.map((m) => [m, Object.hasOwn(stdout, m) ? slots[m] : undefined]));
  const ownWrite = stdout.write;
  const divert = (): void => {
    stdout.write = ((...args: Parameters<typeof stderr.write>) => stderr.write(...args)) as typeof stdout.write;
    stdout._write = (chunk: unknown, encoding: BufferEncoding, callback: Callback) => stderr.write(chunk as string, encoding, callback);
    if (typeof stdout._writev === 'function') {
      stdout._writev = (chunks: Chunk[], callback: Callback) => {
        for (const { chunk, encoding } of chunks) stderr.write(chunk as string, encoding);
        stderr.write('', callback);
      };
    }
  };
  const undivert = (): void => {
    for (const m of methods) {
      if (own[m] !== undefined) slots[m] = own[m];
      else delete slots[m];
    }
  };
  divert();
  return {
    write: (text) => {
      // Nothing else reached the stream since the diversion, so it writes this chunk now (its _write
      // called synchronously, nothing buffered that a diverted _write would later receive).
      undivert();
      try {
        ownWrite.call(stdout, text, 'utf8');
      } finally {
        divert();
      }
    },
  };
}
