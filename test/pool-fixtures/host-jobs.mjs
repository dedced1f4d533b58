// Jobs of the host-bridge tests: they reach the host only through `host`.
// The `yaml` npm package (a devDependency), imported by its bare name.
import { parse } from 'yaml';

/** Reads its input through host.sync (blocking) and parses it with the `yaml` package. */
export default function parseConfig(task) {
  const text = host.sync.readInput(task.name);
  return parse(text);
}

/** The async form, from a pool job. */
export async function doubleViaHost(task) {
  return (await host.double(task.n)) + 1;
}
