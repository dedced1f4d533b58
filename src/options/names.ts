// Misspelled option names are errors, not silently ignored: every options
// object of the public API (Agent, resourceLimits, AgentPool, run/map) is
// checked against its list of names, and the error names the closest one.

/** Edit distance (insert, delete, substitute, swap adjacent), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(best);
    }
  }
  return rows[a.length]![b.length]!;
}

/** The valid name closest to `name`, if one is close enough to be a likely typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const lower = name.toLowerCase();
  const prefix = lower.length >= 3 && best.toLowerCase().startsWith(lower);
  return prefix || bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Throws `fail(message)` for the first own enumerable key of `options` that
 * is not in `known`; `where` names the options object in the message.
 */
export function checkOptionNames(options: object, known: readonly string[], where: string, fail: (message: string) => Error): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = nearestName(key, known);
    throw fail(`Unknown ${where} option "${key}"${suggestion === undefined ? `; valid options: ${known.join(', ')}` : ` (did you mean ${suggestion}?)`}`);
  }
}
