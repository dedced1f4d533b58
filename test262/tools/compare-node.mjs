// Failure attribution: re-runs scenarios on plain Node.js (same V8) through
// node-reference.mjs and judges them with the runner's own validator.
//
//   node --import tsx test262/tools/compare-node.mjs [--test262 <dir>] [-j N] <results.jsonl | id ...>
//
// With a JSON-lines file from `agentcluster test262 --reporter json`, every
// unexpected failure in it is re-run; otherwise each argument is a scenario
// id (`path/to/test.js`, `path/to/test.js#strict`). Prints one TSV line per
// scenario: node verdict (ENGINE = plain Node fails too, HOST = plain Node
// passes), id, node's error, our error.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFile, loadScenarioSource, resolveTest262 } from '../runner/discover.js';
import { validate } from '../runner/validate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let dir;
let jobs = 2;
let timeoutMs = 30_000;
const items = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--test262') dir = argv[++i];
  else if (argv[i] === '-j') jobs = Number(argv[++i]);
  else if (argv[i] === '--timeout') timeoutMs = Number(argv[++i]);
  else items.push(argv[i]);
}
const t262 = resolveTest262(dir, process.env, process.cwd());

const wanted = []; // { relPath, scenario, ours }
for (const item of items) {
  if (item.endsWith('.jsonl') && existsSync(item)) {
    for (const line of readFileSync(item, 'utf8').split('\n')) {
      if (!line.startsWith('{"file"')) continue;
      const r = JSON.parse(line);
      if (r.status === 'fail' && r.expected === 'pass') wanted.push({ relPath: r.file, scenario: r.scenario, ours: r.error });
    }
  } else {
    const [relPath, sc] = item.split('#');
    const scenarios = sc ? [sc === 'strict' ? 'strict mode' : 'default'] : ['default', 'strict mode'];
    for (const scenario of scenarios) wanted.push({ relPath, scenario, ours: '' });
  }
}

function runOnNode(tc, source) {
  const flags = ['--expose-gc', '--experimental-vm-modules', '--no-warnings'];
  if (tc.attrs.features.includes('IsHTMLDDA')) flags.push('--allow-natives-syntax');
  const args = [...flags, path.join(here, 'node-reference.mjs'), tc.absPath];
  if (tc.attrs.flags.has('module')) args.push('--module');
  if (tc.attrs.flags.has('async')) args.push('--async');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.stdin.on('error', () => {});
    child.stdin.end(source);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const m = /@@RESULT (.*)\n?$/.exec(err);
      if (m) resolve({ stdout: out, error: JSON.parse(m[1]).error, timedOut });
      else resolve({ stdout: out, error: null, timedOut, crashed: `node exited ${code ?? sig}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

let next = 0;
const lines = [];
async function worker() {
  while (next < wanted.length) {
    const w = wanted[next++];
    const tc = describeFile(t262, w.relPath).find((c) => c.scenario === w.scenario);
    if (!tc) {
      lines.push(`MISSING\t${w.relPath}#${w.scenario}`);
      continue;
    }
    const source = await loadScenarioSource(t262, tc);
    const result = await runOnNode(tc, source);
    const v = validate(tc.attrs, result);
    const verdict = result.crashed ? 'REFCRASH' : v.status === 'fail' ? 'ENGINE' : 'HOST';
    const line = `${verdict}\t${tc.id}\t${(v.error ?? '').replace(/\s+/g, ' ').slice(0, 200)}\t${(w.ours ?? '').replace(/\s+/g, ' ').slice(0, 200)}`;
    lines.push(line);
    process.stdout.write(line + '\n');
  }
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
const host = lines.filter((l) => l.startsWith('HOST')).length;
process.stderr.write(`${lines.length} scenarios: ${lines.length - host} fail on plain Node too (ENGINE), ${host} pass on plain Node (HOST)\n`);
