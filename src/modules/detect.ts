// Node's syntax detection for a typeless `.js` file (a package.json without
// `type`, or none): Node compiles it as CommonJS and, when that fails with an
// error only ES-module syntax causes, runs it as an ES module
// (node_contextify.cc `ShouldRetryAsESM`, Node 20.19+ / 22.12+):
// - import/export statements and import.meta: an ES module outright;
// - top-level await and a top-level `const require` (or module, exports,
//   __filename, __dirname), which are CommonJS errors but valid ES module
//   code: an ES module only when it also parses as one, else the CommonJS
//   error stands. So do the errors other top-level awaits give
//   ("missing ) after argument list", any "Unexpected ...").
// We ask the host's own V8 (the agents' V8) for the CommonJS compile, with the
// wrapper's parameters, so the messages are the ones Node matches. Nothing is
// run: the compiled functions are dropped.
import { parse as parseEsm } from 'es-module-lexer/js';

const esmOnlyErrors = [
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
];

const validInEsmOnlyErrors = [
  "Identifier 'module' has already been declared",
  "Identifier 'exports' has already been declared",
  "Identifier 'require' has already been declared",
  "Identifier '__filename' has already been declared",
  "Identifier '__dirname' has already been declared",
  'await is only valid in async functions and the top level bodies of modules',
];

/** What other top-level awaits give (`f(await x)`, `if (await x)`, `for await`): Node tries the ES parse for them too. */
const maybeTopLevelAwaitErrors = ['missing ) after argument list', 'SyntaxError: Unexpected'];

/** A compile is needed only when an ES parse could succeed: an await, a CommonJS name, or an escape spelling one. */
const retryCandidate = /\bawait\b|\b(?:module|exports|require|__filename|__dirname)\b|\\u/;

const AsyncFunction = (async () => {}).constructor as FunctionConstructor;

/** A leading `#!` line is not part of a function body; keep the offsets. */
function blankHashbang(source: string): string {
  return source.startsWith('#!') ? source.replace(/^#![^\n\r\u2028\u2029]*/, (line) => ' '.repeat(line.length)) : source;
}

/** Whether es-module-lexer sees import/export/import.meta (an ES module in Node's rule too). */
function hasImportExportSyntax(source: string): boolean {
  try {
    return parseEsm(source)[3] === true;
  } catch {
    return false;
  }
}

/** The SyntaxError message compiling the text as a CommonJS module body gives, or undefined when it compiles. */
function commonJsCompileError(body: string): string | undefined {
  try {
    // eslint-disable-next-line no-new-func -- compiled, never called: the V8 parse of Node's wrapper
    new Function('exports', 'require', 'module', '__filename', '__dirname', body);
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return error.message;
    throw error; // EvalError: code generation from strings is disallowed in this process
  }
}

/**
 * Whether the text parses as an ES module body. Approximated, since Node has
 * no stable API to compile a module from the host without running it, as a
 * strict async function body, which accepts top-level await with the
 * module's strictness. It is looser than the Module goal for a few things a module rejects (top-level
 * `return` or `new.target`, HTML-like comments, a top-level function and a
 * `var` of the same name, `await` as a name inside a nested function): such a
 * file is an ES module here and its ES compile in the agent throws a
 * SyntaxError, where Node throws the CommonJS one.
 */
function parsesAsModule(body: string): boolean {
  try {
    // eslint-disable-next-line no-new-func -- compiled, never called
    new AsyncFunction(`'use strict';${body}`);
    return true;
  } catch {
    return false;
  }
}

/** Whether a typeless `.js` file with this text is an ES module, as Node decides. */
export function detectsAsModule(source: string): boolean {
  if (hasImportExportSyntax(source)) return true;
  if (!retryCandidate.test(source)) return false;
  const body = blankHashbang(source);
  let message: string | undefined;
  try {
    message = commonJsCompileError(body);
  } catch {
    return false; // no code generation on the host: import/export syntax alone decides, as before
  }
  if (message === undefined) return false;
  if (esmOnlyErrors.some((text) => message.includes(text))) return true;
  // Node matches V8's message text, which starts with the error's name.
  const text = `SyntaxError: ${message}`;
  return [...validInEsmOnlyErrors, ...maybeTopLevelAwaitErrors].some((part) => text.includes(part)) && parsesAsModule(body);
}
