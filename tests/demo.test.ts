// The demo web app (demo/index.html) in headless Chromium: the page loads with
// no console errors and finds the WebGPU adapter (SwiftShader without a GPU);
// each panel trains a tiny model in the worker and its loss goes down; the
// character model generates text one character at a time; the sentiment model
// calls 'movie was good' positive; the time series streams; parity, save/load
// and the CPU switch work; and the page's thread stays responsive while the
// worker trains. Screenshots go to test-artifacts/demo/.
//
// Settings are tiny (SwiftShader is slow) and the test drives the page through
// window.__demo, the same actions as the buttons, awaiting each one: nothing
// here depends on timing except the responsiveness check, which measures the
// page's event loop, not how long the work takes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {} from '../demo/main'; // window.__demo's type
import { chromiumArgs, launchBrowser, repoRoot, startServer, type BrowserHandle, type ServerHandle } from './helpers/browser';

// window.__demo (typed by demo/main.ts's global declaration) is used inside
// page.evaluate: those functions are serialised into the page, so they use no
// Node-side closures; data goes in as arguments.

const shots = resolve(repoRoot, 'test-artifacts/demo');
const TINY_TEXT = 'hey how are you\ngood i am fine\nhave a nice day\n';

describe('demo app in headless Chromium', () => {
  let server: ServerHandle;
  let browser: BrowserHandle;
  let page: Page;
  const consoleErrors: string[] = [];

  async function shot(panel: string): Promise<void> {
    const el = await page.$(`#${panel}`);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // charts drawn
    await el!.screenshot({ path: resolve(shots, `${panel}.png`) });
  }

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    server = await startServer();
    browser = await launchBrowser();
    page = await browser.browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url ?? '?'})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
    await page.goto(`${server.origin}/demo/`, { waitUntil: 'load' });
    await page.evaluate(() => window.__demo!.ready);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.close();
    }
  });

  it('loads, finds the WebGPU adapter and says so', async () => {
    const { probe, status } = await page.evaluate(() => ({ probe: window.__demo!.probe, status: document.querySelector('#gpu-status')!.textContent }));
    console.log('demo probe:', JSON.stringify(probe));
    expect(probe?.webgpu.ok).toBe(true);
    const name = probe?.webgpu.ok ? probe.webgpu.adapterName : '';
    expect(name.length).toBeGreaterThan(0);
    expect(status).toContain(name);
    expect(consoleErrors).toEqual([]);
  });

  it('character panel: trains on the GPU (loss falls), generates text one character at a time, parity', async () => {
    const r = await page.evaluate((text) => window.__demo!.trainChar({ text, cell: 'lstm', hidden: 16, layers: 1, seqLen: 8, lr: 0.03, epochs: 8, batchSize: 8, seed: 1 }).then((r) => ({ backend: r.backend, adapterName: r.adapterName, losses: r.losses, steps: r.steps })), TINY_TEXT);
    console.log(`char: ${r.steps} steps on ${r.backend} (${r.adapterName}), loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}`);
    expect(r.backend).toBe('webgpu');
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0] * 0.8);
    const g = await page.evaluate(async () => {
      let tokens = 0;
      const out = document.querySelector('#char-output')!;
      const seen = new MutationObserver(() => tokens++);
      seen.observe(out, { subtree: true, characterData: true, childList: true });
      const res = await window.__demo!.generate({ prompt: 'good', length: 12, temperature: 0.5, topK: 5, seed: 3 });
      seen.disconnect();
      return { text: res.text, shown: out.textContent, tokens };
    });
    console.log(`char generated: 'good' + '${g.text}'`);
    expect(g.text.length).toBe(12);
    expect(g.shown).toBe(`good${g.text}`);
    expect(g.tokens).toBeGreaterThan(1); // it arrived piecewise, not all at once
    const p = await page.evaluate(() => window.__demo!.parity('char'));
    console.log(`char parity: max |GPU − CPU| = ${p.maxAbsDiff.toExponential(2)} over ${p.values} logits`);
    expect(p.maxAbsDiff).toBeLessThan(1e-4);
    await shot('char');
  });

  it("sentiment panel: trains, reports accuracy, classifies 'movie was good' as positive", async () => {
    const r = await page.evaluate(() => window.__demo!.trainSentiment({ cell: 'gru', hidden: 12, lr: 0.05, epochs: 60, seed: 5 }).then((r) => ({ losses: r.losses, accuracy: r.history.accuracy, backend: r.backend })));
    console.log(`sentiment: loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}, accuracy ${r.accuracy.at(-1)}`);
    expect(r.backend).toBe('webgpu');
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0] * 0.5);
    const c = await page.evaluate(() => window.__demo!.classify('movie was good'));
    console.log(`sentiment: 'movie was good' → ${c.probability.toFixed(3)} (${c.tokens.join(' ')})`);
    expect(c.probability).toBeGreaterThan(0.5);
    const bad = await page.evaluate(() => window.__demo!.classify('movie was bad'));
    expect(bad.probability).toBeLessThan(0.5);
    const oov = await page.evaluate(() => window.__demo!.classify('movie was zzzz'));
    expect(oov.tokens).toEqual(['movie', 'was', '<oov>']);
    await page.evaluate(() => window.__demo!.classify('movie was good'));
    await shot('sentiment');
  });

  it('series panel: trains on windows (loss falls), then streams one step ahead with the state on the GPU', async () => {
    const r = await page.evaluate(() => window.__demo!.trainSeries({ cell: 'gru', hidden: 8, seqLen: 10, lr: 0.03, epochs: 12, noise: 0.05, seed: 9 }).then((r) => ({ losses: r.losses, backend: r.backend })));
    console.log(`series: loss ${r.losses[0].toFixed(4)} → ${r.losses.at(-1)!.toFixed(4)}`);
    expect(r.backend).toBe('webgpu');
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0] * 0.7);
    const s = await page.evaluate(() => window.__demo!.streamSeries(60, 0).then((s) => ({ n: s.points.length, mse: s.mse, naiveMse: s.naiveMse, backend: s.backend, finite: s.points.every((p) => Number.isFinite(p.prediction)) })));
    console.log(`series stream: ${s.n} points on ${s.backend}, one-step MSE ${s.mse.toFixed(4)} (repeat-last baseline ${s.naiveMse.toFixed(4)})`);
    expect(s.n).toBe(60);
    expect(s.finite).toBe(true);
    await shot('series');
  });

  it('the CPU switch runs the same model on the CPU reference and says so', async () => {
    const r = await page.evaluate(async () => {
      window.__demo!.setBackend('sentiment', 'cpu');
      const c = await window.__demo!.classify('movie was good');
      const shown = document.querySelector('#sentiment [data-ran-on]')!.textContent;
      window.__demo!.setBackend('sentiment', 'webgpu');
      const g = await window.__demo!.classify('movie was good');
      return { cpu: c.probability, gpu: g.probability, backend: c.backend, shown };
    });
    expect(r.backend).toBe('cpu');
    expect(r.shown).toMatch(/CPU reference/);
    expect(Math.abs(r.cpu - r.gpu)).toBeLessThan(1e-4);
  });

  it('save and load: JSON weights round-trip, and localStorage', async () => {
    const r = await page.evaluate(async () => {
      const before = (await window.__demo!.classify('the film was not good')).probability;
      const saved = await window.__demo!.save('sentiment');
      const json = JSON.parse(JSON.stringify(saved));
      await window.__demo!.trainSentiment({ epochs: 2, seed: 77 }); // a different model
      await window.__demo!.load('sentiment', json);
      const after = (await window.__demo!.classify('the film was not good')).probability;
      await window.__demo!.store('sentiment');
      await window.__demo!.restore('sentiment');
      const restored = (await window.__demo!.classify('the film was not good')).probability;
      return { before, after, restored, format: saved.format, layers: saved.weights.length };
    });
    expect(r.format).toBe('webgpu-rnn-demo/1');
    expect(r.layers).toBe(3);
    expect(r.after).toBeCloseTo(r.before, 6);
    expect(r.restored).toBeCloseTo(r.before, 6);
  });

  it("the page's thread stays responsive while the worker trains", async () => {
    const r = await page.evaluate(async (text) => {
      let last = performance.now();
      let maxGap = 0;
      let ticks = 0;
      let running = true;
      const gaps: string[] = [];
      const longTasks: string[] = [];
      const t00 = performance.now();
      const observer = new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(`${(e.startTime - t00).toFixed(0)}+${e.duration.toFixed(0)}`)));
      observer.observe({ type: 'longtask' });
      const tick = () => {
        const now = performance.now();
        if (now - last > 20) gaps.push(`${(last - t00).toFixed(0)}+${(now - last).toFixed(0)}`);
        maxGap = Math.max(maxGap, now - last);
        last = now;
        ticks++;
        if (running) setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
      let frames = 0;
      const frame = () => {
        frames++;
        if (running) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      const t0 = performance.now();
      const res = await window.__demo!.trainChar({ text, cell: 'gru', hidden: 16, layers: 1, seqLen: 8, lr: 0.03, epochs: 6, batchSize: 4, seed: 2 });
      running = false;
      observer.disconnect();
      return { maxGap, ticks, frames, ms: performance.now() - t0, steps: res.steps, gaps, longTasks };
    }, TINY_TEXT);
    console.log(`responsiveness: ${r.steps} training steps in ${r.ms.toFixed(0)} ms; ${r.ticks} timer ticks, ${r.frames} frames, longest gap ${r.maxGap.toFixed(1)} ms; gaps over 20 ms (start+length): [${r.gaps.join(', ')}]; long tasks: [${r.longTasks.join(', ')}]`);
    expect(r.steps).toBeGreaterThan(5);
    expect(r.ticks).toBeGreaterThan(r.ms / 50);
    // The page's thread only renders progress (one chart draw per frame; the
    // progress bar is a compositor transform): no main-thread task reaches the
    // Long Tasks API's 50 ms, and no gap between timer ticks does either.
    expect(r.longTasks).toEqual([]);
    expect(r.maxGap).toBeLessThan(50);
  });

  it('Stop ends training after the current step', async () => {
    const r = await page.evaluate(async (text) => {
      const d = window.__demo!;
      const run = d.trainChar({ text, cell: 'rnn', hidden: 8, layers: 1, seqLen: 8, lr: 0.03, epochs: 500, batchSize: 4, seed: 3 });
      const stats = document.querySelector('#char [data-stats]')!;
      while (!stats.textContent!.startsWith('step ')) await new Promise((res) => setTimeout(res, 10)); // training has begun
      d.stop('char');
      const res = await run;
      return { steps: res.steps, stopped: res.stopped, shown: stats.textContent };
    }, TINY_TEXT);
    console.log(`stop: ${r.steps} steps of ${500 * 6}, ${r.stopped}; shows '${r.shown}'`);
    expect(r.stopped).toBe('stopTraining was set');
    expect(r.steps).toBeLessThan(500 * 6);
    expect(r.shown).toMatch(/^Stopped/);
  });

  it('fits a phone-width screen and logged no console errors', async () => {
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2 });
    const overflow = await page.evaluate(() => {
      window.scrollTo(0, 0);
      return document.documentElement.scrollWidth - window.innerWidth;
    });
    await page.screenshot({ path: resolve(shots, 'phone-top.png') });
    await page.screenshot({ path: resolve(shots, 'phone.png'), fullPage: true });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(consoleErrors).toEqual([]);
  });
});

/** Headless Chromium without --enable-unsafe-webgpu: navigator.gpu exists but finds no adapter. */
describe('demo app without WebGPU', () => {
  let server: ServerHandle;
  let browser: Browser;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    const handle = await launchBrowser(); // only for the path of the configured browser
    const executablePath = handle.executablePath;
    await handle.close();
    browser = await puppeteer.launch({ headless: true, executablePath, args: chromiumArgs.filter((a) => a !== '--enable-unsafe-webgpu'), protocolTimeout: 0 });
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await server?.close();
    }
  });

  it('says so plainly and runs every panel on the CPU reference', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on('console', (msg) => void (msg.type() === 'error' && consoleErrors.push(msg.text())));
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
    await page.goto(`${server.origin}/demo/`, { waitUntil: 'load' });
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const probe = await d.ready;
      const status = document.querySelector('#gpu-status')!;
      const gpuRadios = [...document.querySelectorAll<HTMLInputElement>('input[value="webgpu"]')];
      const t = await d.trainSentiment({ cell: 'gru', hidden: 8, lr: 0.05, epochs: 15, seed: 5 });
      return {
        probe,
        status: status.textContent,
        statusClass: status.className,
        allGpuDisabled: gpuRadios.every((el) => el.disabled && !el.checked),
        backend: t.backend,
        losses: t.losses,
        ranOn: document.querySelector('#sentiment [data-ran-on]')!.textContent,
      };
    });
    console.log(`without WebGPU: '${r.status}'`);
    expect(r.probe.webgpu.ok).toBe(false);
    expect(r.statusClass).toContain('warn');
    expect(r.status).toMatch(/WebGPU is not available/);
    expect(r.status).toMatch(/CPU reference/);
    expect(r.allGpuDisabled).toBe(true);
    expect(r.backend).toBe('cpu');
    expect(r.ranOn).toMatch(/CPU reference/);
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]);
    await page.screenshot({ path: resolve(shots, 'no-webgpu.png') });
    expect(consoleErrors).toEqual([]);
  });
});

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json' };

/** `npm run build:demo`'s output works from a plain static server, under any path (base './'). */
describe('built demo (demo/vite.config.ts)', () => {
  let out: string;
  let http: Server;
  let browser: BrowserHandle;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'webgpu-rnn-demo-'));
    await build({ configFile: resolve(repoRoot, 'demo/vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    // a plain file server that serves the build under /some/path/
    http = createHttpServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/some\/path\//, '/');
      const file = join(out, path.endsWith('/') ? `${path}index.html` : path);
      try {
        if (!file.startsWith(out) || !statSync(file).isFile()) throw new Error('not found');
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await new Promise((ok) => http?.close(ok));
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('loads from a static server, finds the adapter and trains in its worker', async () => {
    const page = await browser.browser.newPage();
    const errors: string[] = [];
    page.on('console', (msg) => void (msg.type() === 'error' && errors.push(msg.text())));
    page.on('pageerror', (err) => errors.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
    const { port } = http.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/some/path/`, { waitUntil: 'load' });
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const probe = await d.ready;
      const t = await d.trainSentiment({ cell: 'lstm', hidden: 8, lr: 0.05, epochs: 10, seed: 5 });
      return { probe, backend: t.backend, losses: t.losses };
    });
    expect(r.probe.webgpu.ok).toBe(true);
    expect(r.backend).toBe('webgpu');
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]);
    expect(errors).toEqual([]);
  });
});
