// The `conditions` and `env` options of Agent and AgentPool, validated the
// same way for both (each reports with its own error type).
type Invalid = (name: string, expected: string, ...value: [unknown?]) => Error;

/** 'import'/'require' come from how a module is loaded and 'default' always matches: not the user's to list. */
const implied = new Set(['import', 'require', 'default']);

export function checkConditions(value: unknown, invalid: Invalid): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 64) throw invalid('conditions', 'an array of at most 64 condition names', value);
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || item === '' || item.length > 256 || /[\s,]/.test(item)) {
      throw invalid('conditions', 'an array of non-empty condition names without spaces or commas', item);
    }
    if (implied.has(item)) throw invalid('conditions', `free of '${item}' (agents add 'import' or 'require' by how a module is loaded, and 'default')`);
    seen.add(item);
  }
  return [...seen];
}

export function checkEnv(value: unknown, invalid: Invalid): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('env', 'an object of string values', value);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalid(`env.${key}`, 'a string', item);
    if (key.includes('\0') || item.includes('\0')) throw invalid(`env.${key}`, 'free of NUL characters');
    out[key] = item;
  }
  return out;
}
