// The built-in suites `agentcluster stress --suite NAME` runs (shipped in dist/).
import { fileURLToPath } from 'node:url';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

export const suiteFiles: Record<string, string> = {
  'memory-model': fileURLToPath(new URL(`./suite/memory-model.${ext}`, import.meta.url)),
};
