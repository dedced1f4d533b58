// Node's checks on package.json `exports`/`imports` targets (resolve.exports
// does not make them): a file target starts with './' and, after it, has no
// empty, '.', '..' or 'node_modules' segment (percent-encoded too), and no
// percent-encoded '/' or '\'. A '*' match that brings such a segment in is
// the specifier's fault (ERR_INVALID_MODULE_SPECIFIER), a bad target the
// package's (ERR_INVALID_PACKAGE_TARGET), as in Node.
const invalidSegment = /(^|\\|\/)((\.|%2e)(\.|%2e)?|(n|%6e|%4e)(o|%6f|%4f)(d|%64|%44)(e|%65|%45)(_|%5f)(m|%6d|%4d)(o|%6f|%4f)(d|%64|%44)(u|%75|%55)(l|%6c|%4c)(e|%65|%45)(s|%73|%53))?(\\|\/|$)/i;
const encodedSeparator = /%2f|%5c/i;

export interface TargetProblem {
  code: 'ERR_INVALID_PACKAGE_TARGET' | 'ERR_INVALID_MODULE_SPECIFIER';
  message: string;
}

/**
 * Checks `target` (already substituted) mapped from `key` (the subpath or
 * '#name' asked for) by the package.json `file`; undefined when valid.
 */
export function checkTarget(target: string, key: string, file: string, importer: string): TargetProblem | undefined {
  const rest = target.slice(2);
  if (target.startsWith('./') && !invalidSegment.test(rest) && !encodedSeparator.test(target)) return undefined;
  const keyRest = key.startsWith('./') ? key.slice(2) : key.startsWith('#') ? key.slice(1) : key;
  if (target.startsWith('./') && (invalidSegment.test(keyRest) || encodedSeparator.test(keyRest))) {
    return { code: 'ERR_INVALID_MODULE_SPECIFIER', message: `Invalid module specifier: '${key}' maps to '${target}', which leaves or escapes its package (${file}), imported from ${importer}` };
  }
  return { code: 'ERR_INVALID_PACKAGE_TARGET', message: `Invalid "exports"/"imports" target '${target}' for '${key}' in ${file}: targets must start with "./" and have no ".", ".." or "node_modules" segments, imported from ${importer}` };
}
