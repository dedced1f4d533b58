// Jobs of the host-bridge tests: they reach the host only through `host`.
// js-yaml's browser bundle (a real npm parser, already in node_modules) sets
// self.jsyaml when imported for its side effect.
import '../../node_modules/js-yaml/dist/js-yaml.js';

/** Reads its input through host.sync (blocking) and parses it with js-yaml. */
export default function parseConfig(task) {
  const text = host.sync.readInput(task.name);
  return self.jsyaml.safeLoad(text);
}

/** The async form, from a pool job. */
export async function doubleViaHost(task) {
  return (await host.double(task.n)) + 1;
}
