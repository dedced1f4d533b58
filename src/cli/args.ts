// Shared by the CLIs: strict flag parsing with one clear message per misuse,
// whole-number flags, and a quiet exit when stdout's reader goes away.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true; tokens: true }>>;

/**
 * parseArgs in strict mode, plus: a flag that takes one value may be given
 * once (`--agents 2 --agents 3` is a mistake, not "3"), and a value may not be
 * empty (`--output=`). Throws UsageError.
 */
export function parseFlags<O extends Options>(argv: string[], options: O): { values: Parsed<O>['values']; positionals: string[] } {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const spec = options[token.name]!;
    if (spec.type === 'string' && token.value === '') throw new UsageError(`${token.rawName} needs a value`);
    if (spec.multiple) continue;
    if (seen.has(token.name)) throw new UsageError(`${token.rawName} given more than once`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A whole number in [min, max] written in decimal digits ("2", not "2.5", "0x2", " 2" or "2e0"); throws UsageError. */
export function wholeNumber(flag: string, text: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
    throw new UsageError(`${flag} must be ${range}, not ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * `cli | head` closes the pipe under us: stop quietly (as a program killed by
 * SIGPIPE would), without an EPIPE stack. Other stdout errors are reported.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') process.stderr.write(`cannot write to stdout: ${error.message}\n`);
    process.exit(error.code === 'EPIPE' ? (process.exitCode as number | undefined) ?? 0 : 1);
  });
}
