// `agentcluster stress --json` owns stdout: its one JSON document must parse.
// The user's test file runs in this process (its top level, its models, its
// timers) and in agents (whose console output, with no listener, is written
// to process.stdout), so from the start of the run until the process exits,
// every other write to stdout is diverted to stderr, where the user still
// sees it. The document itself goes through the write saved here.
//
// The diversion is at the stream level (process.stdout.write). Writes below
// it (fs.writeSync(1, ...), process.stdout._write, a child process that
// inherits fd 1) reach fd 1 directly: redirecting the descriptor itself is
// out of scope (docs/stress-harness.md, "The command").

export interface StdoutDiversion {
  /** Writes to the real stdout, past the diversion. */
  write(text: string): void;
}

/** Sends process.stdout writes to process.stderr for the rest of the process; returns the way past it. */
export function divertStdoutToStderr(): StdoutDiversion {
  const stdout = process.stdout;
  const ownWrite = stdout.write;
  stdout.write = ((...args: Parameters<typeof process.stderr.write>) => process.stderr.write(...args)) as typeof stdout.write;
  return {
    write: (text) => {
      ownWrite.call(stdout, text);
    },
  };
}
