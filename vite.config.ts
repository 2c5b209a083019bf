// One config for three jobs:
//  - `vite` (npm run demo): serves demo/ and tests/browser/ on 127.0.0.1;
//  - `vite build` (npm run build): the library, src/index.ts as an ES module
//    with every WGSL file inlined as a string (imported with `?raw`);
//  - vitest: Node tests that run the kernels through Dawn (the `webgpu` package)
//    and drive headless Chromium through puppeteer.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

// Dawn (Node) finds a Vulkan driver through VK_ICD_FILENAMES; on machines without
// a GPU we point it at Chromium's SwiftShader unless the caller chose one.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
const vkEnv: Record<string, string> =
  !process.env.VK_ICD_FILENAMES && existsSync(swiftshader) ? { VK_ICD_FILENAMES: swiftshader } : {};

// RNN_TEST_DIST=1: the tests' imports of src/index resolve to the built
// dist/webgpu-rnn.js instead (tests/dist.test.ts runs the error and hardening
// suites that way, where minification could change behaviour).
const distEntry = fileURLToPath(new URL('./dist/webgpu-rnn.js', import.meta.url));
const testDist = process.env.RNN_TEST_DIST === '1';

export default defineConfig({
  resolve: testDist ? { alias: [{ find: /^(\.\.\/)+src\/index$/, replacement: distEntry }] } : {},
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  build: {
    lib: {
      entry: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      formats: ['es'],
      fileName: () => 'webgpu-rnn.js',
    },
    outDir: 'dist',
    sourcemap: true,
    target: 'es2022',
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // SwiftShader is slow and every test file creates its own device; no
    // wall-clock limits on assertions, only generous per-test timeouts so a hang
    // is reported instead of stalling CI.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    // Compiles the wasm backend's kernels when missing or stale (scripts/build-wasm.mjs).
    globalSetup: ['./tests/helpers/wasm_global_setup.ts'],
    pool: 'forks',
    env: vkEnv,
  },
});
