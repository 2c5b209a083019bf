// Headless-Chromium harness for tests that must run in a real browser.
//
//   runInBrowser('/tests/browser/smoke.ts')
//     1. starts a Vite dev server on 127.0.0.1 (a secure context: navigator.gpu
//        does not exist on file:// or about:blank);
//     2. launches Chromium through puppeteer with WebGPU enabled (SwiftShader
//        when the machine has no GPU);
//     3. opens tests/browser/index.html?module=<modulePath>; the page imports that
//        module, awaits its `run()` and sets window.__result / window.__done;
//     4. returns the result, the console errors and page errors, and the adapter;
//     5. always closes the browser and the server.
//
// startServer() and launchBrowser() are exported on their own for tests that
// drive other pages (the demo). No wall-clock limits by default: SwiftShader is
// slow, and vitest's per-test timeout reports a real hang.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Chromium flags. --enable-unsafe-webgpu exposes WebGPU on Linux; with no GPU
 * Chromium then falls back to its bundled SwiftShader (Vulkan on the CPU) and
 * requestAdapter() returns it (architecture "swiftshader", isFallbackAdapter).
 * The rest keep a headless run quiet and offline. Puppeteer adds a fresh
 * temporary --user-data-dir per launch and deletes it on close.
 */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface ServerHandle {
  server: ViteDevServer;
  /** Origin without a trailing slash, e.g. http://127.0.0.1:41234 */
  origin: string;
  close(): Promise<void>;
}

export interface BrowserHandle {
  browser: Browser;
  /** The browser binary that was launched. */
  executablePath: string;
  close(): Promise<void>;
}

export interface BrowserRun {
  /** window.__result: run()'s value after a JSON round trip, or { error, stack }. */
  result: unknown;
  /** console.error messages and uncaught page errors, in order of arrival. */
  consoleErrors: string[];
  /** "vendor / architecture / description" of navigator.gpu's adapter, or why there is none. */
  adapterInfo: string;
}

/** Starts the repo's Vite dev server (vite.config.ts) on 127.0.0.1 and a free port. */
export async function startServer(): Promise<ServerHandle> {
  const server = await createServer({
    configFile: resolve(repoRoot, 'vite.config.ts'),
    root: repoRoot,
    logLevel: 'warn',
    clearScreen: false,
    server: {
      host: '127.0.0.1',
      port: 0, // the OS picks a free port; read back below
      strictPort: true,
      // No reloads, no file watching. The WebSocket stays on: Vite injects its
      // client into every page anyway, and with `ws: false` that client logs
      // console errors when it fails to connect.
      hmr: false,
      watch: null,
    },
    // Test pages import only repo sources: no dependency pre-bundling, so Vite
    // never reloads the page halfway through a run to add an optimized dep.
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  try {
    await server.listen();
    const address = server.httpServer?.address() as AddressInfo | string | null | undefined;
    if (!address || typeof address === 'string') {
      throw new Error(`startServer: expected a TCP address from the Vite server, got ${String(address)}.`);
    }
    return {
      server,
      origin: `http://127.0.0.1:${address.port}`,
      close: () => server.close(),
    };
  } catch (err) {
    await server.close();
    throw err;
  }
}

/**
 * The browser to launch. .puppeteerrc.cjs names the system Chromium when there
 * is one, but puppeteer only finds that file when the process's cwd is the repo
 * root, so we load it from the repo ourselves and pass executablePath
 * explicitly. Without a system browser it returns undefined and puppeteer uses
 * the Chrome it downloaded at install time.
 */
function configuredExecutablePath(): string | undefined {
  const require = createRequire(import.meta.url);
  const config = require(resolve(repoRoot, '.puppeteerrc.cjs')) as { executablePath?: string };
  return config.executablePath;
}

/** Launches headless Chromium with WebGPU enabled. */
export async function launchBrowser(): Promise<BrowserHandle> {
  const executablePath = configuredExecutablePath();
  const browser = await puppeteer.launch({
    headless: true,
    executablePath,
    args: [...chromiumArgs],
    protocolTimeout: 0, // no limit: a SwiftShader dispatch can keep the page busy for minutes
  });
  return {
    browser,
    executablePath: executablePath ?? puppeteer.executablePath(),
    close: () => browser.close(),
  };
}

/** Rejects when the page crashes or the browser goes away, so a waiting test fails instead of hanging. */
function whenPageDies(page: Page, browser: Browser): Promise<never> {
  return new Promise((_, reject) => {
    page.once('error', (err) => reject(new Error(`runInBrowser: the page crashed: ${err.message}`)));
    browser.once('disconnected', () => reject(new Error('runInBrowser: the browser disconnected.')));
  });
}

/**
 * Runs `modulePath` (served by Vite, e.g. '/tests/browser/smoke.ts') in headless
 * Chromium and returns what its exported `run()` resolved to.
 * opts.timeoutMs bounds the page load and the wait for window.__done; the
 * default 0 means no limit.
 */
export async function runInBrowser(
  modulePath: string,
  opts: { timeoutMs?: number } = {},
): Promise<BrowserRun> {
  if (!modulePath.startsWith('/')) {
    throw new Error(
      `runInBrowser: modulePath is '${modulePath}', expected a path from the repo root starting with '/'. ` +
        `Hint: '/tests/browser/smoke.ts'.`,
    );
  }
  const timeout = opts.timeoutMs ?? 0;
  const consoleErrors: string[] = [];
  let server: ServerHandle | undefined;
  let browser: BrowserHandle | undefined;
  try {
    server = await startServer();
    browser = await launchBrowser();
    const page = await browser.browser.newPage();
    page.setDefaultTimeout(timeout);
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        consoleErrors.push(loc.url ? `${msg.text()} (${loc.url}:${loc.lineNumber ?? '?'})` : msg.text());
      }
    });
    page.on('pageerror', (err) => {
      consoleErrors.push(`pageerror: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    });
    const dies = whenPageDies(page, browser.browser);
    dies.catch(() => {}); // only observed through the race below

    const url = `${server.origin}/tests/browser/index.html?module=${encodeURIComponent(modulePath)}`;
    await Promise.race([page.goto(url, { waitUntil: 'load', timeout }), dies]);
    await Promise.race([
      page.waitForFunction('window.__done === true', { polling: 250, timeout }),
      dies,
    ]);
    const { result, adapterInfo } = await page.evaluate(() => ({
      result: window.__result,
      adapterInfo: window.__adapterInfo ?? '(window.__adapterInfo was not set)',
    }));
    return { result, consoleErrors, adapterInfo };
  } finally {
    // Browser first: it holds connections to the server.
    try {
      await browser?.close();
    } finally {
      await server?.close();
    }
  }
}
