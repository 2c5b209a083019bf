// The package as a TypeScript app gets it (issue 9, items 10-12), and the built
// library's typed errors (item 1: a minifier must not rename err.name).
//
//  1. `npm pack` the repo into a temporary folder; its prepack script builds
//     dist/ (the library, and its declarations with scripts/build-types.mjs).
//  2. A fresh project there (tests/consumer/ copied) installs the tarball with
//     `npm install --offline` and an empty cache: the package has no runtime
//     dependency; the types it references (@webgpu/types), Dawn (`webgpu`), tsc
//     and Vite come as file: links to this repo's node_modules. Nothing is
//     fetched.
//  3. tsc type-checks the app strictly, without skipLibCheck, as Node resolves
//     packages (NodeNext, emitting the JS) and as a bundler does; a file using
//     internal names must fail with exactly the errors it names.
//  4. Node runs the app on the CPU backend and on Dawn; Vite bundles it into a
//     page that headless Chromium runs on its page and in a module Web Worker.
//     Each run reports which backend and adapter ran, the fixed-weight LSTM and
//     GRU against the app's own float64 reference, a fit's loss curve (on the
//     GPU against the CPU backend's), and its typed errors.
//  5. The installed dist/webgpu-rnn.js, imported here: every exported error
//     class's name, instanceof and String(), and errors from a few API calls.
//
// SwiftShader is slow, so the app's shapes are tiny; no wall-clock limits.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, repoRoot } from './helpers/browser';
import type { ErrorCheck, Report } from './consumer/src/app';

type Pkg = typeof import('../src/index');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function mustRun(cmd: string, args: string[], cwd: string): Promise<Run> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) {
    throw new Error(`'${cmd} ${args.join(' ')}' in ${cwd} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

const consumerSrc = resolve(repoRoot, 'tests/consumer');
const pkgJson = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };

// What the app needs besides the tarball comes from this repo's node_modules, linked.
const link = (name: string): string => `file:${resolve(repoRoot, 'node_modules', name)}`;

let tmp = '';
let app = '';
let tarball = '';

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'webgpu-rnn-consumer-'));
  await mustRun('npm', ['pack', '--pack-destination', tmp, '--no-audit', '--no-fund'], repoRoot);
  const packed = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
  expect(packed).toEqual([`${pkgJson.name}-${pkgJson.version}.tgz`]);
  tarball = join(tmp, packed[0]!);

  app = join(tmp, 'app');
  cpSync(consumerSrc, app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'webgpu-rnn-consumer',
        private: true,
        type: 'module',
        dependencies: {
          [pkgJson.name]: `file:${tarball}`,
          '@webgpu/types': link('@webgpu/types'),
          webgpu: link('webgpu'),
        },
        devDependencies: { '@types/node': link('@types/node'), typescript: link('typescript'), vite: link('vite') },
      },
      null,
      2,
    ),
  );
  // --ignore-scripts: `webgpu`'s postinstall must not run in this repo's node_modules.
  await mustRun(
    'npm',
    ['install', '--offline', '--cache', join(tmp, 'npm-cache'), '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'],
    app,
  );
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const installed = (): string => join(app, 'node_modules', pkgJson.name);
const tsc = (project: string): Promise<Run> =>
  run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', project], app);

function checkReport(r: Report, backend: 'cpu' | 'webgpu' | 'wasm'): void {
  expect(r.backend).toBe(backend);
  // Against the app's float64 reference: the CPU backend computes in float64 too
  // (only the float32 weights' rounding is shared: 1e-12); the GPU in float32
  // through a handful of steps (measured ~1.5e-7 on SwiftShader: 1e-5).
  // The wasm backend computes in float32 too (the same bar).
  const tol = backend === 'cpu' ? 1e-12 : 1e-5;
  expect(r.lstmMaxErr).toBeLessThan(tol);
  expect(r.gruMaxErr).toBeLessThan(tol);
  // 12 epochs of Adam at lr 0.05 on 8 samples: the loss falls by more than half
  // (0.104 → 0.030 measured), on the GPU as on the CPU within float32 (2e-7
  // measured; 1e-4 leaves room for another GPU's rounding).
  expect(r.losses).toHaveLength(12);
  expect(r.losses.every(Number.isFinite)).toBe(true);
  expect(r.losses[11]!).toBeLessThan(0.5 * r.losses[0]!);
  expect(r.lossCurveMaxRel).toBeLessThan(1e-4);
  expect(r.summaryHasTotal).toBe(true);
  expect(r.liveBuffers).toBe(0);
  expect(r.errors.map((e: ErrorCheck) => e.expected)).toEqual(['ShapeError', 'ValueError', 'WeightError', 'DisposedError']);
  for (const e of r.errors) {
    expect(e.name, e.text).toBe(e.expected);
    expect(e.instanceOf, e.text).toBe(true);
    expect(e.text.startsWith(`${e.expected}: `), e.text).toBe(true);
  }
}

describe('the packed package, installed in a fresh TypeScript project', () => {
  test('the tarball holds the bundle, its map, its declarations and the license, nothing else of the repo', async () => {
    const list = (await mustRun('tar', ['-tzf', tarball], tmp)).stdout.split('\n').filter(Boolean).sort();
    expect(list).toEqual([
      'package/LICENSE',
      'package/README.md',
      'package/dist/webgpu-rnn.d.ts',
      'package/dist/webgpu-rnn.js',
      'package/dist/webgpu-rnn.js.map',
      'package/package.json',
    ]);
    // The WGSL is inlined in the bundle (imported with ?raw), and the source map carries the sources.
    const js = readFileSync(join(installed(), 'dist/webgpu-rnn.js'), 'utf8');
    expect(js).toContain('@compute');
    const map = JSON.parse(readFileSync(join(installed(), 'dist/webgpu-rnn.js.map'), 'utf8')) as { sourcesContent?: unknown[] };
    expect(map.sourcesContent?.length).toBeGreaterThan(0);
  });

  test('one declaration file: no internal members, no imports of internal modules, @webgpu/types referenced', () => {
    const dts = readFileSync(join(installed(), 'dist/webgpu-rnn.d.ts'), 'utf8');
    expect(dts).toContain('/// <reference types="@webgpu/types" />');
    expect(dts).not.toContain('@internal');
    expect(dts).not.toMatch(/from\s+['"]\.{1,2}\//); // everything inlined
    expect(dts).toMatch(/export declare function createRuntime\(/);
    const installedPkg = JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(installedPkg['exports']).toEqual({
      '.': { types: './dist/webgpu-rnn.d.ts', import: './dist/webgpu-rnn.js' },
      './package.json': './package.json',
    });
    expect(installedPkg['peerDependenciesMeta']).toEqual({ webgpu: { optional: true } });
  });

  test('tsc: the app type-checks strictly without skipLibCheck (NodeNext and Bundler resolution)', async () => {
    const node = await tsc('tsconfig.json');
    expect(node.code, node.stdout).toBe(0);
    const bundler = await tsc('tsconfig.bundler.json');
    expect(bundler.code, bundler.stdout).toBe(0);
  });

  test('tsc: internal names are out of reach (exactly the expected errors)', async () => {
    const file = 'negative/internal.ts';
    const expected = readFileSync(join(app, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => [...line.matchAll(/error (TS\d+)/g)].map((m) => `${i + 1} ${m[1]}`));
    const r = await tsc('tsconfig.negative.json');
    const got = [...r.stdout.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+)/gm)].map((m) =>
      m[1] === file ? `${m[2]} ${m[3]}` : `${m[1]}:${m[2]} ${m[3]}`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(got, r.stdout).toEqual(expected);
  });

  for (const backend of ['cpu', 'webgpu', 'wasm'] as const) {
    test(`Node runs the app on the ${backend === 'cpu' ? 'CPU backend' : backend === 'wasm' ? 'wasm backend (the kernels embedded in the bundle)' : 'Dawn (webgpu package)'}`, async () => {
      const r = await mustRun(process.execPath, ['build/node.js', backend], app);
      const lines = r.stdout.trim().split('\n');
      const report = JSON.parse(lines[lines.length - 1]!) as Report & { deepImport: string };
      console.log(`package.test: Node ${backend}: backend ${report.backend}, adapter '${report.adapterName}'`);
      checkReport(report, backend);
      expect(report.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    });
  }

  test('without the optional webgpu peer: installs, runs on the CPU, and the GPU backend says why not', async () => {
    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    const dependencies = { [pkgJson.name]: `file:${tarball}`, '@webgpu/types': link('@webgpu/types') };
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', private: true, type: 'module', dependencies }));
    writeFileSync(
      join(bare, 'main.mjs'),
      [
        `import { createRuntime, WebGPUUnavailableError } from '${pkgJson.name}';`,
        `const rt = await createRuntime({ backend: 'cpu' });`,
        `const { output } = await rt.lstm({ inputSize: 1, hiddenSize: 1 }).forward(new Float32Array([1]), { batch: 1, seqLen: 1 });`,
        `const y = await output.read();`,
        `let gpu = 'created';`,
        `try { await createRuntime(); } catch (e) { gpu = e instanceof WebGPUUnavailableError ? e.name + ': ' + e.message : 'other: ' + e; }`,
        `console.log(JSON.stringify({ backend: rt.backend, finite: Number.isFinite(y[0]), gpu }));`,
      ].join('\n'),
    );
    await mustRun('npm', ['install', '--offline', '--cache', join(tmp, 'npm-cache'), '--no-audit', '--no-fund', '--no-package-lock'], bare);
    const r = await mustRun(process.execPath, ['main.mjs'], bare);
    const out = JSON.parse(r.stdout.trim()) as { backend: string; finite: boolean; gpu: string };
    expect(out.backend).toBe('cpu');
    expect(out.finite).toBe(true);
    expect(out.gpu).toMatch(/^WebGPUUnavailableError: .*'webgpu' package \(Dawn\) could not be loaded.*npm install webgpu/);
  });

  test('Vite bundles the app; headless Chromium runs it on the page and in a Web Worker', async () => {
    await mustRun(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], app);
    const { server, origin } = await serveStatic(join(app, 'dist'));
    const browser = await launchBrowser();
    try {
      const page = await browser.browser.newPage();
      page.setDefaultTimeout(0); // SwiftShader: no wall-clock limits
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${String(err)}`));
      await page.goto(`${origin}/`, { waitUntil: 'load' });
      await page.waitForFunction('window.__done === true', { polling: 250 });
      const result = (await page.evaluate('window.__result')) as Record<'page' | 'pageWasm' | 'worker', Report | { error: string }>;
      for (const where of ['page', 'pageWasm', 'worker'] as const) {
        const r = result[where];
        if ('error' in r) throw new Error(`Chromium ${where}: ${r.error}`);
        console.log(`package.test: Chromium ${where}: backend ${r.backend}, adapter '${r.adapterName}'`);
        checkReport(r, where === 'pageWasm' ? 'wasm' : 'webgpu');
      }
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await new Promise((done) => server.close(done));
    }
  });
});

describe('the built dist/webgpu-rnn.js (as installed): typed errors survive minification', () => {
  let pkg: Pkg;
  beforeAll(async () => {
    pkg = (await import(pathToFileURL(join(installed(), 'dist/webgpu-rnn.js')).href)) as Pkg;
  });

  const names = [
    'RnnError',
    'ShapeError',
    'ValueError',
    'WeightError',
    'WebGPUUnavailableError',
    'DeviceLostError',
    'LimitError',
    'KernelError',
    'DisposedError',
  ];

  test('every exported error class: name, instanceof, String() and stack', () => {
    const exported = Object.entries(pkg).filter(
      ([, v]) => typeof v === 'function' && (v === Error || (v as { prototype?: unknown }).prototype instanceof Error),
    );
    expect(exported.map(([k]) => k).sort()).toEqual([...names].sort());
    for (const [key, value] of exported) {
      const Cls = value as new (message: string) => Error;
      const err = new Cls('boom');
      expect(err.name).toBe(key);
      expect(err).toBeInstanceOf(Cls);
      expect(err).toBeInstanceOf(pkg.RnnError);
      expect(err).toBeInstanceOf(Error);
      expect(String(err)).toBe(`${key}: boom`);
      expect(err.stack?.startsWith(`${key}: boom`)).toBe(true);
    }
  });

  async function thrown(call: () => unknown): Promise<Error> {
    try {
      await call();
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected the call to throw');
  }

  test('API calls throw the typed errors, by name and by class', async () => {
    const rt = await pkg.createRuntime({ backend: 'cpu' });
    const cases: Array<[string, () => unknown]> = [
      ['ValueError', () => pkg.createRuntime({ backend: 'tpu' as 'cpu' })],
      ['WebGPUUnavailableError', () => pkg.createRuntime({ gpu: { requestAdapter: async () => null } as unknown as GPU })],
      ['ShapeError', () => rt.tensor([1, 2, 3], [2, 2])],
      ['ValueError', () => rt.dense({ inputSize: 0, units: 1 })],
      ['ShapeError', () => rt.lstm({ inputSize: 2, hiddenSize: 3 }).forward(new Float32Array(5), { batch: 2, seqLen: 1 })],
      ['WeightError', () => rt.gru({ inputSize: 2, hiddenSize: 3 }).loadTorchStateDict({})],
      [
        'DisposedError',
        async () => {
          const t = rt.tensor([1, 2], [2]);
          t.dispose();
          await t.read();
        },
      ],
    ];
    for (const [name, call] of cases) {
      const err = await thrown(call);
      expect(err.name, String(err)).toBe(name);
      expect(err).toBeInstanceOf((pkg as unknown as Record<string, new () => Error>)[name]!);
      expect(String(err).startsWith(`${name}: `)).toBe(true);
    }
    rt.dispose();
  });
});

/** Serves `dir` on 127.0.0.1 and a free port (the page needs a secure context for WebGPU). */
async function serveStatic(dir: string): Promise<{ server: Server; origin: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.map': 'application/json',
    '.css': 'text/css',
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = resolve(dir, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    const inside = file.startsWith(dir) && statSync(file, { throwIfNoEntry: false })?.isFile();
    if (!inside) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}
