// Whether two paths name one file (`agentcluster run -o` must never be its
// input or its module: opening the output truncates it before anything is
// read). Compared by device and inode after following symlinks, so a
// symlink, a hard link or `dir/./file` is caught as well as the same name.
import { fstatSync, statSync, type Stats } from 'node:fs';

function statOf(target: string | number): Stats | undefined {
  try {
    return typeof target === 'number' ? fstatSync(target) : statSync(target);
  } catch {
    return undefined; // a file that does not exist yet cannot be another one
  }
}

/**
 * True when `output` is the regular file `other` (a path, or an open fd such
 * as stdin). Only regular files: `/dev/stdout` and `/dev/stdin` on one
 * terminal share an inode and are fine.
 */
export function isSameRegularFile(output: string, other: string | number): boolean {
  const a = statOf(output);
  if (a === undefined || !a.isFile()) return false;
  const b = statOf(other);
  return b !== undefined && b.isFile() && a.dev === b.dev && a.ino === b.ino;
}
