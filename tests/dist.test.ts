// The library's error and hardening suites, run again against the BUILT
// package (dist/webgpu-rnn.js, minified by Vite) instead of the sources: the
// build can change behaviour (class names, bundling), and users run the build.
// This file builds the library, then runs vitest on those two files in a child
// process with RNN_TEST_DIST=1, under which vite.config.ts resolves every
// `../src/index` import of the tests to dist/webgpu-rnn.js.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/browser';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

describe('the built package passes the error and hardening suites', () => {
  it('builds dist/ and runs tests/errors.test.ts and tests/hardening.test.ts against it', async () => {
    const build = await run('npm', ['run', 'build:lib']);
    expect(build.code, build.out).toBe(0);
    const report = join(repoRoot, 'test-artifacts', 'dist-suite.json');
    const r = await run('npx', ['vitest', 'run', 'tests/errors.test.ts', 'tests/hardening.test.ts', '--reporter=json', `--outputFile=${report}`], { RNN_TEST_DIST: '1' });
    const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; testResults: { name: string; assertionResults: { status: string; fullName: string; failureMessages: string[] }[] }[] };
    const failed = json.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${a.fullName}: ${a.failureMessages[0]?.split('\n')[0]}`));
    expect(failed).toEqual([]);
    expect(r.code, r.out.slice(-4000)).toBe(0);
    // both files ran, with their whole suites
    expect(json.testResults.map((f) => f.name.replace(/.*tests\//, '')).sort()).toEqual(['errors.test.ts', 'hardening.test.ts']);
    expect(json.numPassedTests).toBeGreaterThan(150);
    console.log(`against dist/: ${json.numPassedTests} passed, ${json.numFailedTests} failed`);
  });
});
