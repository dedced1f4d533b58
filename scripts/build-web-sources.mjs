#!/usr/bin/env node
// Generates native/agent/web/web_sources.h: the JS halves of the agent web globals
// (native/agent/web/js/*.js) and the URL bundle (whatwg-url and its dependencies
// from node_modules, a small CommonJS loader around them), as ASCII string
// literals the addon compiles lazily. `--check` fails if the committed header
// is stale. Run by `npm run build:web`.
import { readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jsDir = join(root, 'native', 'agent', 'web', 'js');
const output = join(root, 'native', 'agent', 'web', 'web_sources.h');
const delimiter = 'WEBJS';

// Non-ASCII code points as \u escapes (surrogate pairs above U+FFFF), so V8
// can read the literal in place as a one-byte string. Valid in strings,
// regular expressions, identifiers and comments alike.
function toAscii(text) {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out += unit < 0x80 ? text[i] : `\\u${unit.toString(16).padStart(4, '0')}`;
  }
  return out;
}

function wrap(body) {
  return `(function (natives) {\n'use strict';\nconst require = natives.require;\n${body}\n})`;
}

// Post-processing of upstream sources, each checked to apply exactly once
// (a whatwg-url update that changes the text fails the build instead of
// silently dropping the fix).
const patches = {
  // whatwg-url looks schemes up with \`specialSchemes[scheme] !== undefined\` on
  // a plain literal, so "constructor:", "__proto__:" or any key polluted onto
  // Object.prototype became a "special" scheme (with a default port). Node's
  // URL (ada) and browsers are not affected. A null prototype makes it an
  // own-key lookup.
  'whatwg-url/lib/url-state-machine.js': [['const specialSchemes = {\n', 'const specialSchemes = {\n  __proto__: null,\n']],
};

function patch(id, text) {
  for (const [from, to] of patches[id] ?? []) {
    if (text.split(from).length !== 2) throw new Error(`${id}: patch target not found exactly once: ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

// The URL bundle: every file reachable by require() from whatwg-url's index.
function bundleUrl() {
  const entry = createRequire(join(root, 'package.json')).resolve('whatwg-url');
  // Real path: require.resolve answers real paths, and node_modules may be a
  // link (scripts/test-node-line.sh builds in a copy that links it).
  const nodeModules = realpathSync(join(root, 'node_modules'));
  const ids = new Map();  // absolute path -> id
  const order = [];
  const packages = new Set();
  const visit = (file) => {
    if (ids.has(file)) return ids.get(file);
    const id = relative(nodeModules, file).split(sep).join('/');
    ids.set(file, id);
    packages.add(id.split('/')[0]);
    const text = patch(id, readFileSync(file, 'utf8'));
    const record = { id, text, deps: {} };
    order.push(record);
    if (!file.endsWith('.json')) {
      const req = createRequire(file);
      for (const match of text.matchAll(/\brequire\("([^"]+)"\)/g)) {
        record.deps[match[1]] = visit(req.resolve(match[1]));
      }
    }
    return id;
  };
  const entryId = visit(entry);
  const modules = order
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map(({ id, text, deps }) => {
      const body = id.endsWith('.json') ? `module.exports = ${text.trim()};` : text;
      return `${JSON.stringify(id)}: [${JSON.stringify(deps)}, function (module, exports, require) {\n${body}\n}]`;
    });
  const licenses = [...packages].sort().map((name) => {
    const dir = join(nodeModules, name);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    return { name, version, license, text: file ? readFileSync(join(dir, file), 'utf8') : '' };
  });
  const body = `// URL and URLSearchParams: the WHATWG URL Standard's reference implementation
// (${licenses.map((l) => `${l.name}@${l.version}`).join(', ')}), bundled by
// scripts/build-web-sources.mjs. TextEncoder/TextDecoder are ours, not the globals.
const { TextEncoder, TextDecoder } = require('encoding');
const sources = {
__proto__: null,
${modules.join(',\n')}
};
const cache = new Map();
function load(id) {
  let module = cache.get(id);
  if (module !== undefined) return module.exports;
  const [deps, factory] = sources[id];
  // Null-prototype records: \`exports.X = ...\` must not run a setter user
  // code put on Object.prototype (it could delete globals mid-load).
  module = { __proto__: null, exports: { __proto__: null } };
  cache.set(id, module);
  factory.call(module.exports, module, module.exports, (name) => load(deps[name]));
  return module.exports;
}
const { URL, URLSearchParams } = load(${JSON.stringify(entryId)});
return { URL, URLSearchParams };`;
  return { body, licenses };
}

function generate() {
  const modules = readdirSync(jsDir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => ({ name: f.slice(0, -3), source: wrap(readFileSync(join(jsDir, f), 'utf8')) }));
  const url = bundleUrl();
  modules.push({ name: 'url', source: wrap(url.body) });
  modules.sort((a, b) => (a.name < b.name ? -1 : 1));
  let out = `// GENERATED by scripts/build-web-sources.mjs from native/agent/web/js/*.js and the
// npm packages below. Do not edit; run \`npm run build:web\`.
//
// Third-party code bundled into the "url" source, with its licenses:\n`;
  for (const l of url.licenses) {
    out += `//\n// ---- ${l.name}@${l.version} (${l.license}) ----\n`;
    out += l.text.trim().split('\n').map((line) => `// ${line}`.trimEnd()).join('\n') + '\n';
  }
  out += `#pragma once\n\n#include <cstddef>\n\nnamespace agentcluster {\n\nstruct WebSource {\n  const char* name;\n  const char* source;\n  size_t length;\n};\n\n`;
  for (const { name, source } of modules) {
    const ascii = toAscii(source);
    if (ascii.includes(`)${delimiter}"`)) throw new Error(`${name}: contains the literal delimiter`);
    out += `inline constexpr char kWebSource_${name}[] = R"${delimiter}(${ascii})${delimiter}";\n\n`;
  }
  out += `inline constexpr WebSource kWebSources[] = {\n`;
  for (const { name } of modules) {
    out += `    {"${name}", kWebSource_${name}, sizeof(kWebSource_${name}) - 1},\n`;
  }
  out += `};\n\n}  // namespace agentcluster\n`;
  return out;
}

const text = generate();
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(output, 'utf8'); } catch {}
  if (current !== text) {
    console.error('native/agent/web/web_sources.h is stale: run `npm run build:web`');
    process.exit(1);
  }
  console.log('native/agent/web/web_sources.h is up to date');
} else {
  writeFileSync(output, text);
  console.log(`wrote ${relative(root, output)} (${text.length} bytes)`);
}
