// Finding the stress tests of a user's file: the default export and named
// exports that are litmus()/linearizable() descriptors, or arrays of them.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { isLinearizableTest, isLitmusTest, StressError, type LinearizableTest, type LitmusTest } from './define.js';

export interface FoundTest {
  /** `default`, the export name, or `name[i]` in an exported array (agents look it up the same way). */
  id: string;
  file: string;
  test: LitmusTest | LinearizableTest;
}

function* descriptors(namespace: Record<string, unknown>): Generator<[string, unknown]> {
  const names = Object.keys(namespace).sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : 0));
  for (const name of names) {
    const value = namespace[name];
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield [`${name}[${i}]`, value[i]];
    else yield [name, value];
  }
}

/** Imports `file` on the host (its model and arbitraries live here) and lists its tests. */
export async function loadTests(file: string): Promise<FoundTest[]> {
  // fileURLToPath decodes percent-escapes (a space is %20 in a URL); URL.pathname keeps them.
  const path = file.startsWith('file:') ? fileURLToPath(file) : resolve(file);
  if (!existsSync(path)) throw new StressError('ERR_STRESS_NO_TESTS', `${file}: no such file`);
  if (statSync(path).isDirectory()) throw new StressError('ERR_STRESS_NO_TESTS', `${file}: is a directory (give the test files themselves)`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    // A syntax error or a throw at the file's top level: one line naming the file, the cause kept for the API.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new StressError('ERR_STRESS_LOAD_FAILED', `${file}: failed to import: ${reason}`, { cause: error });
  }
  const found: FoundTest[] = [];
  for (const [id, value] of descriptors(namespace)) {
    if (isLitmusTest(value) || isLinearizableTest(value)) found.push({ id, file: path, test: value });
  }
  if (found.length === 0) {
    throw new StressError('ERR_STRESS_NO_TESTS', `${file}: exports no litmus() or linearizable() test (export default litmus({...}))`);
  }
  return found;
}
