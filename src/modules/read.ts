// Reading a module file on the host: only regular files. A FIFO would block
// the host thread forever and /dev/zero would read without end (F2), so open
// non-blocking, fstat the opened descriptor (no stat/read swap window), then read.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** Thrown for a path that is not a regular file; graph.ts leaves it to the agent's own (typed) report. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  constructor(readonly path: string) {
    super(`Cannot read module ${path}: not a regular file`);
  }
}

export function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new NotRegularFileError(path);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
