// Ambient types for the parts of test262-stream (CommonJS, untyped) that the
// runner uses. `builder` + `create-scenarios` are exactly what
// TestStream/compile.js run for every file; they are called directly so that
// a malformed file becomes one failed test instead of an uncaught exception
// (compile.js calls builder inside an fs callback, where a throw would crash
// the process) and so that tests can be compiled lazily, one at a time.

declare module 'test262-stream/lib/builder.js' {
  export interface Test262StreamAttrs {
    description?: string;
    info?: string;
    esid?: string;
    /** Flags, normalised to a set: `{ onlyStrict: true, module: true }`. */
    flags: Record<string, boolean | undefined>;
    /** Declared includes; with the runtime, `assert.js`, `sta.js` (and `doneprintHandle.js`) are appended. */
    includes: string[];
    features?: string[];
    negative?: { phase: string; type: string };
    locale?: string[];
    [key: string]: unknown;
  }
  export interface Test262StreamTest {
    /** Relative to the test262 directory, e.g. `test/built-ins/Atomics/notify/foo.js`. */
    file: string;
    contents: string;
    attrs: Test262StreamAttrs;
    copyright: string;
    scenario: string | null;
    insertionIndex: number | null;
  }
  export interface BuilderOptions {
    test262Dir?: string;
    includesDir?: string;
    omitRuntime?: boolean;
  }
  /** Parses the frontmatter and (unless omitRuntime/raw) prepends the harness files. Throws on bad YAML. */
  export default function builder(file: string, contents: string, options: BuilderOptions): Test262StreamTest;
}

declare module 'test262-stream/lib/create-scenarios.js' {
  import type { Test262StreamTest } from 'test262-stream/lib/builder.js';
  /** Splits one test into its `default` / `strict mode` scenarios according to its flags. */
  export default function createScenarios(test: Test262StreamTest): Test262StreamTest[];
}
