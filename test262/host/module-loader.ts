import type { LoaderHooks } from '../../src/modules/index.js';

// test262 imports every file as module code (INTERPRETING.md), while Node's
// rules would load a typeless .js fixture by its syntax: a script-only
// fixture as CommonJS, a syntax error at run time instead of resolution.
export const everyFileIsAModule: LoaderHooks = {
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    return loaded.format === 'json' ? loaded : { ...loaded, format: 'module' };
  },
};
