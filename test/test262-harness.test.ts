/**
 * CI: a small slice of test262 through the REAL upstream harness
 * (test262-harness + eshost's engine262 agent) driving our CLI host
 * (dist/src/cli/host262.js, bin `agentcluster-262`), one process per test:
 *
 *   test262-harness --host-type=engine262 --host-path=<wrapper> --timeout=30000 -t 2 \
 *     --test262-dir <test262> '<test262>/test/built-ins/Atomics/notify/*.js'
 *
 * eshost spawns --host-path directly, so it must be an executable; the test
 * writes a two-line shell wrapper (`exec node dist/src/cli/host262.js "$@"`)
 * to a temporary directory. Every failure the harness reports must be an
 * engine failure listed in test262/expectations ([fail], [skip] or a
 * [features-skip] feature): the harness has no notion of our expectations.
 *
 * Needs the build (`npx tsc -p tsconfig.build.json`; `npm test` does it) and
 * the snapshot (TEST262_DIR, default ../shared/test262; skipped when neither
 * is available).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { describeFile, resolveTest262 } from '../test262/runner/discover.js';
import { expectationFor, loadExpectations } from '../test262/runner/expectations.js';

const run = promisify(execFile);
const repo = process.cwd();
const explicitDir = process.env['TEST262_DIR'];
const available = explicitDir !== undefined || existsSync(path.resolve(repo, '../shared/test262/test'));
const HOST_JS = path.join(repo, 'dist', 'src', 'cli', 'host262.js');
const HARNESS = path.join(repo, 'node_modules', 'test262-harness', 'bin', 'run.js');
const SLICE = 'built-ins/Atomics/notify/*.js';

interface HarnessResult {
  file: string;
  scenario: string;
  result: { pass: boolean; message?: string };
}

describe('test262-harness driving agentcluster-262', { skip: !available && 'no test262 snapshot (set TEST262_DIR)' }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'agentcluster-262-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it(`runs ${SLICE} with only engine failures`, { timeout: 180_000 }, async (t) => {
    assert.ok(existsSync(HOST_JS), `${HOST_JS} is missing: build first (npx tsc -p tsconfig.build.json)`);
    const t262 = resolveTest262(explicitDir, process.env, repo);
    const wrapper = path.join(tmp, 'agentcluster-262');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${HOST_JS}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    // Preflight: the host must start and print (else every test "fails" below with a confusing message).
    const probe = path.join(tmp, 'probe.js');
    writeFileSync(probe, "print(typeof $262.agent.start + ' ' + typeof $262.createRealm);\n");
    const preflight = await run(wrapper, [probe], { timeout: 30_000 }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`agentcluster-262 does not run: ${error.stderr || error.message}`);
    });
    assert.equal(preflight.stdout, 'function function\n');

    const started = performance.now();
    const { stdout } = await run(
      process.execPath,
      [
        HARNESS,
        '--host-type=engine262',
        `--host-path=${wrapper}`,
        '--timeout=30000',
        '-t',
        '2',
        '--test262-dir',
        t262.root,
        '--reporter',
        'json',
        '--reporter-keys',
        'file,scenario,result',
        path.join(t262.testDir, SLICE),
      ],
      { cwd: repo, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 },
    );
    const seconds = (performance.now() - started) / 1000;
    const results = JSON.parse(stdout) as HarnessResult[];

    const expectations = loadExpectations(path.join(repo, 'test262', 'expectations'));
    const unexpected: string[] = [];
    let engineFailures = 0;
    for (const r of results) {
      if (r.result.pass) continue;
      const relPath = path.relative(t262.testDir, path.resolve(repo, r.file)).split(path.sep).join('/');
      const attrs = describeFile(t262, relPath)[0]!.attrs;
      const scenario = r.scenario === 'strict mode' ? 'strict mode' : 'default';
      const exp = expectationFor(expectations, relPath, scenario, attrs.features);
      if (exp.expected === 'pass') unexpected.push(`${relPath} (${r.scenario}): ${r.result.message ?? ''}`);
      else engineFailures++;
    }
    const passed = results.filter((r) => r.result.pass).length;
    t.diagnostic(
      `test262-harness ${SLICE}: ${results.length} scenarios, ${passed} pass, ${engineFailures} engine failures ` +
        `(listed in expectations), ${unexpected.length} unexpected, ${seconds.toFixed(1)} s`,
    );
    // The slice has 44 files (88 scenarios) in the snapshot; most use $262.agent.
    assert.ok(results.length >= 40, `the harness ran only ${results.length} scenarios`);
    assert.ok(passed >= results.length * 0.75, `only ${passed}/${results.length} passed`);
    assert.deepEqual(unexpected, [], 'failures under test262-harness that are not engine limitations');
  });
});
