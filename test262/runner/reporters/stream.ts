/** Helpers for reporter output streams. */
import { createWriteStream, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

/** Opens `file` for writing, creating its directory; throws at once if it cannot (a directory, no permission). */
export function openOutput(file: string): NodeJS.WritableStream {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return createWriteStream('', { fd: openSync(file, 'w') });
}

/** Ends a stream and waits until everything is flushed (or it fails). */
export function closeStream(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}
