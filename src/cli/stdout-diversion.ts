// `agentcluster stress --json` owns stdout: its one JSON document must parse.
// The user's test file runs in this process (its top level, its models) and
// in agents (whose console output, with no listener, is written to
// process.stdout), so while the run is on, every other write to stdout is
// diverted to stderr, where the user still sees it.

/** Sends process.stdout writes to process.stderr until the returned function restores them. */
export function divertStdoutToStderr(): () => void {
  const stdout = process.stdout;
  const ownWrite = Object.hasOwn(stdout, 'write') ? stdout.write : undefined;
  stdout.write = ((...args: Parameters<typeof process.stderr.write>) => process.stderr.write(...args)) as typeof stdout.write;
  return () => {
    if (ownWrite !== undefined) stdout.write = ownWrite;
    else delete (stdout as { write?: unknown }).write; // back to the prototype's write
  };
}
