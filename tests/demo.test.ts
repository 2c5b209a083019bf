// The demo web app (demo/index.html) in headless Chromium: the page loads with
// no console errors and finds the WebGPU adapter (SwiftShader without a GPU);
// each panel trains a tiny model in the worker and its loss goes down; the
// character model generates text one character at a time; the sentiment model
// calls 'movie was good' positive; the time series streams; parity, save/load
// and the CPU switch work; and the page's thread stays responsive while the
// worker trains. Then what issue 9 found by clicking through it (items 14–23):
// bad fields are refused inline with nothing sent, a failed action keeps the
// panel's model, a stream blocks nothing, unknown prompt characters and words
// are reported, the switch locks while a request runs, the loss chart stays
// bounded, the stats tick before the first step, the fallback adapter is named,
// one Stop per panel, Enter generates, and the committed benchmark results
// render in the page. Screenshots go to test-artifacts/demo/.
//
// Settings are tiny (SwiftShader is slow) and the test drives the page through
// window.__demo, the same actions as the buttons, awaiting each one: nothing
// here depends on timing except the responsiveness check, which measures the
// page's event loop, not how long the work takes.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../bench/page';
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

  async function shot(panel: string, name = panel): Promise<void> {
    const el = await page.$(`#${panel}`);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // charts drawn
    await el!.screenshot({ path: resolve(shots, `${name}.png`) });
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
    console.log(`sentiment: 'movie was good' → ${c.probability!.toFixed(3)} (${c.tokens.join(' ')})`);
    expect(c.probability!).toBeGreaterThan(0.5);
    const bad = await page.evaluate(() => window.__demo!.classify('movie was bad'));
    expect(bad.probability!).toBeLessThan(0.5);
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
    expect(Math.abs(r.cpu! - r.gpu!)).toBeLessThan(1e-4);
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
    expect(r.after!).toBeCloseTo(r.before!, 6);
    expect(r.restored!).toBeCloseTo(r.before!, 6);
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
    // Long Tasks API's 50 ms. The gap between timer ticks also counts time the OS
    // gave the page's process nothing: with other jobs on the 2 cores it reached
    // 86 ms with no long task, so its bar is 250 ms, which a synchronous chunk of
    // work on the page's thread (a training step, a chart of every point) exceeds.
    expect(r.longTasks).toEqual([]);
    expect(r.maxGap).toBeLessThan(250);
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

  // ---- issue 9, items 14–23: bad input, failures, streams, the switch, the chart, progress, the banner

  it('refuses bad fields with an inline message and a highlighted field, and sends nothing (items 14, 19)', async () => {
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const bad = (v: string) => v as unknown as number; // what a person can type: empty, text, huge
      const cases: [string, string, () => Promise<unknown>][] = [
        ['series', 'series-seqlen', () => d.trainSeries({ seqLen: 1e7 })],
        ['series', 'series-epochs', () => d.trainSeries({ epochs: bad('') })],
        ['series', 'series-noise', () => d.trainSeries({ noise: -1 })],
        ['char', 'char-hidden', () => d.trainChar({ hidden: -1 })],
        ['char', 'char-epochs', () => d.trainChar({ epochs: 2.5 })],
        ['char', 'char-layers', () => d.trainChar({ layers: bad('abc') })],
        ['char', 'char-seqlen', () => d.trainChar({ seqLen: 1e9 })],
        ['sentiment', 'sent-lr', () => d.trainSentiment({ lr: 0 })],
        ['sentiment', 'sent-hidden', () => d.trainSentiment({ hidden: 1e6 })],
        ['char', 'char-temp', () => d.generate({ temperature: -1 })],
        ['char', 'char-topk', () => d.generate({ topK: -1 })],
        ['char', 'char-length', () => d.generate({ length: 0 })],
        ['char', 'char-length', () => d.generate({ length: -1 })],
        ['char', 'char-length', () => d.generate({ length: bad('abc') })],
        ['char', 'char-length', () => d.generate({ length: 1e9 })],
      ];
      const out = [];
      for (const [panel, id, act] of cases) {
        const el = document.querySelector<HTMLInputElement>(`#${id}`)!;
        const keep = el.value;
        const before = d.sent().count;
        const error = await act().then(
          () => 'resolved',
          (e: Error) => `${e.name}: ${e.message}`,
        );
        const shown = {
          panel,
          id,
          error,
          sent: d.sent().count - before,
          invalid: el.classList.contains('invalid') && el.getAttribute('aria-invalid') === 'true',
          note: document.querySelector(`#${id}-error`)?.textContent ?? '',
          msg: document.querySelector(`#${panel} [data-msg]`)!.textContent!,
        };
        el.value = keep; // a valid value clears the mark as it is typed
        el.dispatchEvent(new Event('input'));
        out.push({ ...shown, cleared: !el.classList.contains('invalid') && document.querySelector(`#${id}-error`)!.textContent === '' });
      }
      // the text must be longer than the sequence length
      const before = d.sent().count;
      const short = await d.trainChar({ text: 'abc', seqLen: 8 }).then(
        () => 'resolved',
        (e: Error) => e.message,
      );
      const textNote = document.querySelector('#char-text-error')!.textContent;
      const many = await d.trainChar({ text: Array.from({ length: 1200 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('') }).then(
        () => 'resolved',
        (e: Error) => e.message,
      );
      const shortSent = d.sent().count - before;
      return { out, short, many, textNote, shortSent };
    });
    for (const c of r.out) console.log(`refused ${c.id}: ${c.note}`);
    for (const c of r.out) {
      expect(c.error, c.id).toMatch(/^InputError: /);
      expect(c.sent, `${c.id}: requests sent`).toBe(0);
      expect(c.invalid, `${c.id} highlighted`).toBe(true);
      expect(c.note.length, `${c.id} message`).toBeGreaterThan(0);
      expect(c.msg, c.id).toMatch(/^Not started: /);
      expect(c.cleared, `${c.id} cleared`).toBe(true);
    }
    const note = (id: string, i = 0) => r.out.filter((c) => c.id === id)[i].note;
    expect(note('series-seqlen')).toMatch(/Window must be at most 200 \(got 1e\+7/);
    expect(note('series-epochs')).toMatch(/Epochs is empty/);
    expect(note('char-epochs')).toMatch(/whole number \(got 2\.5\)/);
    expect(note('char-layers')).toMatch(/Layers is empty/); // 'abc' in a number field reads as ''
    expect(note('char-temp')).toMatch(/Temperature must be at least 0/);
    expect(note('char-topk')).toMatch(/Top-k must be at least 0/);
    expect(note('char-length', 3)).toMatch(/Characters must be at most 2000/);
    expect(r.short).toMatch(/Training text has 3 characters; it needs at least 9/);
    expect(r.textNote).toMatch(/needs at least 9/);
    expect(r.many).toMatch(/Training text has 1200 distinct characters; at most 1000 are supported/);
    expect(r.shortSent).toBe(0);
    await page.evaluate(() => window.__demo!.trainSeries({ seqLen: 1e7 }).catch(() => {}));
    await shot('series', 'series-refused');
    await page.evaluate(() => {
      const el = document.querySelector<HTMLInputElement>('#series-seqlen')!;
      el.value = el.defaultValue;
      el.dispatchEvent(new Event('input'));
    });
    const fields = await page.evaluate(() => ({ text: (document.querySelector('#char-text') as HTMLTextAreaElement).value.length }));
    expect(fields.text).toBe(1200);
    await page.evaluate((text) => {
      const el = document.querySelector<HTMLTextAreaElement>('#char-text')!;
      el.value = text;
    }, TINY_TEXT);
  });

  it('a failed Train or Load leaves the panel its model: Generate gives the same text, the chart is kept (item 15)', async () => {
    const r = await page.evaluate(async (text) => {
      const d = window.__demo!;
      await d.trainChar({ text, cell: 'gru', hidden: 12, layers: 1, seqLen: 8, lr: 0.03, epochs: 4, batchSize: 8, seed: 4 });
      const greedy = { prompt: 'good', length: 12, temperature: 0, topK: 0, seed: 1 };
      const g1 = (await d.generate(greedy)).text;
      const losses = d.losses('char');
      const stats = document.querySelector('#char [data-stats]')!.textContent;
      const fail = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}`);
      // the page refuses these (nothing sent) ...
      const page1 = await fail(d.trainChar({ hidden: -1 }));
      const el = document.querySelector<HTMLInputElement>('#char-hidden')!;
      el.value = '12';
      el.dispatchEvent(new Event('input'));
      const statsAfterRefusal = document.querySelector('#char [data-stats]')!.textContent;
      // ... and the worker refuses them too when they come past the page
      const args = { text, cell: 'gru' as const, hidden: 12, layers: 1, seqLen: 8, lr: 0.03, epochs: 2, batchSize: 8 };
      const w1 = await fail(d.request('char', 'webgpu', { op: 'trainChar', args: { ...args, hidden: -1 } }));
      const w2 = await fail(d.request('char', 'webgpu', { op: 'trainChar', args: { ...args, epochs: 2.5 } }));
      // a load whose weights do not fit fails after building its model
      const saved = await d.save('char');
      const broken = { ...saved, weights: saved.weights.slice(0, 2) };
      const l1 = await fail(d.load('char', broken));
      const g2 = (await d.generate(greedy)).text;
      return { g1, g2, page1, w1, w2, l1, losses, lossesAfter: d.losses('char'), stats, statsAfterRefusal };
    }, TINY_TEXT);
    console.log(`refusals: ${r.page1} | ${r.w1} | ${r.w2} | ${r.l1}`);
    expect(r.page1).toMatch(/^InputError: Hidden size must be at least 1/);
    expect(r.w1).toMatch(/^InputError: Hidden size must be at least 1/);
    expect(r.w2).toMatch(/^InputError: Epochs must be a whole number/);
    expect(r.l1).toMatch(/the file has weights for 2 layers/);
    expect(r.g2).toBe(r.g1); // greedy decoding: the same model gives the same text
    expect(r.lossesAfter).toBe(r.losses);
    expect(r.statsAfterRefusal).toBe(r.stats);
  });

  it('prompt characters outside the corpus are reported; a review with no known words is not scored (item 18)', async () => {
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const msg = () => document.querySelector('#char [data-msg]')!.textContent!;
      const gen = async (prompt: string) => {
        const res = await d.generate({ prompt, length: 4, temperature: 0, topK: 0, seed: 1 });
        return { prompt: res.prompt, dropped: res.dropped, none: res.noUsablePrompt, shownPrompt: document.querySelector('#char-output .prompt')!.textContent, msg: msg() };
      };
      const good = await gen('Good');
      const empty = await gen('');
      const alien = await gen('XYZ');
      const plain = await gen('good');
      const verdict = async (text: string) => {
        const c = await d.classify(text);
        return { p: c.probability, unknown: c.unknown, ignored: c.ignored, shown: document.querySelector('#sent-result')!.textContent!.replace(/\s+/g, ' ') };
      };
      return { good, empty, alien, plain, blank: await verdict(''), bang: await verdict('!!!'), zz: await verdict('zzzz qqq'), mixed: await verdict('Movie was GOOD, zzzz!') };
    });
    await shot('sentiment', 'sentiment-oov');
    console.log(`'Good' → ${JSON.stringify(r.good.msg)}; '' → ${JSON.stringify(r.empty.msg)}; '!!!' → ${JSON.stringify(r.bang.shown)}`);
    expect(r.good).toMatchObject({ prompt: 'ood', dropped: ['G'], none: false, shownPrompt: 'ood' });
    expect(r.good.msg).toMatch(/left out of the prompt: 'G'\. The model was fed 'ood'/);
    expect(r.empty).toMatchObject({ prompt: '\n', dropped: [], none: true, shownPrompt: '' });
    expect(r.empty.msg).toMatch(/Empty prompt: the model started from a new line/);
    expect(r.alien).toMatchObject({ dropped: ['X', 'Y', 'Z'], none: true });
    expect(r.alien.msg).toMatch(/No character of the prompt is in the training text \('X', 'Y', 'Z'\)/);
    expect(r.plain).toMatchObject({ prompt: 'good', dropped: [], shownPrompt: 'good', msg: '' });
    for (const v of [r.blank, r.bang, r.zz]) {
      expect(v.p).toBeNull();
      expect(v.shown).toMatch(/No known words/);
      expect(v.shown).not.toMatch(/P\(positive\)|positive ·|negative ·/);
    }
    expect(r.bang.ignored).toBe('!');
    expect(r.bang.shown).toMatch(/ignored \(not part of a word\): !/);
    expect(r.zz.unknown).toEqual(['zzzz', 'qqq']);
    expect(r.mixed.p).not.toBeNull();
    expect(r.mixed.unknown).toEqual(['zzzz']);
    expect(r.mixed.shown).toMatch(/P\(positive\) = /);
    expect(r.mixed.shown).toMatch(/not in the training reviews \(read as <oov>\): zzzz/);
    expect(r.mixed.shown).toMatch(/ignored \(not part of a word\): ,!/);
  });

  it('while the series streams: Parity and Download answer, Train stops the stream, the chart and plot follow the new model (item 17)', { timeout: 180_000 }, async () => {
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const until = async (ok: () => boolean) => {
        while (!ok()) await new Promise((res) => setTimeout(res, 10));
      };
      await d.trainSeries({ cell: 'gru', hidden: 6, seqLen: 8, lr: 0.03, epochs: 3, noise: 0.05, seed: 9 });
      const lossesOld = d.losses('series');
      const stream = d.streamSeries(1e9, 0); // endless until stopped
      await until(() => d.streamed().length >= 5);
      const parity = await d.parity('series');
      const saved = await d.save('series');
      const pointsDuring = d.streamed().length;
      const stillStreaming = d.running('series');
      const training = d.trainSeries({ epochs: 2, seed: 10 });
      const lossesAtTrain = d.losses('series'); // right after Train: the old run's chart is still up
      const t = await training;
      const old = await stream;
      const plotAfterTrain = d.streamed().length;
      const next = await d.streamSeries(6, 0);
      return {
        lossesOld,
        lossesAtTrain,
        lossesNew: d.losses('series'),
        newSteps: t.steps,
        parity: parity.maxAbsDiff,
        savedLayers: saved.weights.length,
        pointsDuring,
        stillStreaming,
        oldPoints: old.points.length,
        plotAfterTrain,
        plot: d.streamed(),
        nextT: next.points.map((p) => p.t),
        msg: document.querySelector('#series [data-msg]')!.textContent,
      };
    });
    console.log(`stream: ${r.oldPoints} points before Train stopped it; parity ${r.parity.toExponential(2)} while streaming; plot after retraining ${JSON.stringify(r.plot)}`);
    expect(r.stillStreaming).toBe(true); // parity and save ran beside the stream
    expect(r.parity).toBeLessThan(1e-4);
    expect(r.savedLayers).toBe(2);
    expect(r.lossesAtTrain).toBe(r.lossesOld);
    expect(r.lossesNew).toBe(r.newSteps);
    expect(r.oldPoints).toBeGreaterThanOrEqual(r.pointsDuring);
    expect(r.plotAfterTrain).toBe(0);
    expect(r.nextT).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    expect(r.plot).toEqual(r.nextT); // only the new model's points
    expect(r.msg).toMatch(/stream was stopped to train a new model/);
  });

  it('the CPU/GPU switch is locked while a request runs, and "ran on" says where it runs (item 20)', async () => {
    await page.evaluate((text) => {
      const w = window as unknown as { __run: Promise<unknown> };
      w.__run = window.__demo!.trainChar({ text, cell: 'rnn', hidden: 8, layers: 1, seqLen: 8, lr: 0.03, epochs: 300, batchSize: 4, seed: 3 });
    }, TINY_TEXT);
    await page.waitForFunction(() => document.querySelector('#char [data-stats]')!.textContent!.startsWith('step '), { polling: 20, timeout: 0 });
    await page.click('#char input[name="char-backend"][value="cpu"]'); // a click on a locked switch does nothing
    const during = await page.evaluate(() => ({
      disabled: [...document.querySelectorAll<HTMLInputElement>('#char input[name="char-backend"]')].map((el) => el.disabled),
      checked: document.querySelector<HTMLInputElement>('#char input[name="char-backend"]:checked')!.value,
      hook: window.__demo!.setBackend('char', 'cpu'),
      ranOn: document.querySelector('#char [data-ran-on]')!.textContent,
    }));
    const after = await page.evaluate(async () => {
      const d = window.__demo!;
      d.stop('char');
      const res = (await (window as unknown as { __run: Promise<{ backend: string }> }).__run) as { backend: string };
      const disabled = [...document.querySelectorAll<HTMLInputElement>('#char input[name="char-backend"]')].map((el) => el.disabled);
      const ranOn = document.querySelector('#char [data-ran-on]')!.textContent;
      const hook = d.setBackend('char', 'cpu');
      d.setBackend('char', 'webgpu');
      return { backend: res.backend, disabled, ranOn, hook };
    });
    expect(during.disabled).toEqual([true, true]);
    expect(during.checked).toBe('webgpu');
    expect(during.hook).toBe(false);
    expect(during.ranOn).toBe('running on GPU (WebGPU)…');
    expect(after.backend).toBe('webgpu');
    expect(after.disabled).toEqual([false, false]);
    expect(after.ranOn).toMatch(/^GPU \(WebGPU\) · /);
    expect(after.hook).toBe(true);
  });

  it('the loss chart keeps and draws a bounded number of points however long the run (item 21)', async () => {
    const r = await page.evaluate(() => [1_000, 100_000, 400_000].map((n) => window.__demo!.chartStress('char', n)));
    for (const c of r) console.log(`loss chart: ${c.n} steps → lines of ${c.lineValues.join(' and ')} values, ${c.vertices} vertices, ${c.ms.toFixed(1)} ms (canvas ${c.width} px)`);
    expect(r.map((c) => c.n)).toEqual([1_000, 100_000, 400_000]);
    expect(r[0].lineValues[0]).toBe(1_000); // a short run: every step
    for (const c of r) {
      expect(c.lineValues[0]).toBeLessThanOrEqual(2048); // the raw line: low and high of at most 1024 blocks
      expect(c.lineValues[1]).toBeLessThanOrEqual(2 * Math.max(100, c.width)); // the mean, sampled
      expect(c.vertices).toBeLessThanOrEqual(2 * 2 * (c.width + 2)); // 2 lines, ≤ 2 vertices per pixel column
      expect(c.extremesKept).toBe(true); // the outliers are still drawn
    }
    // past ~125k values Math.min(...values) throws; this draw did not, and drew about as much as a short run
    expect(r[2].vertices).toBeLessThanOrEqual(r[0].vertices * 2 + 10);
  });

  it('before the first step the stats say what runs and how long it has taken (item 22)', async () => {
    const texts = await page.evaluate(async (text) => {
      const stats = document.querySelector('#char [data-stats]')!;
      const seen: string[] = [];
      const obs = new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => seen.push(n.textContent ?? ''))));
      obs.observe(stats, { childList: true });
      const run = window.__demo!.trainChar({ text, cell: 'lstm', hidden: 8, layers: 1, seqLen: 8, lr: 0.03, epochs: 2, batchSize: 8, seed: 2 });
      seen.push(`sync: ${stats.textContent}`); // set before the request goes out
      await run;
      await new Promise((res) => setTimeout(res, 0));
      obs.disconnect();
      return seen;
    }, TINY_TEXT);
    console.log(`stats while starting: ${JSON.stringify(texts.slice(0, 3))}`);
    expect(texts[0]).toMatch(/^sync: Starting… · 0\.\d s$/);
    const firstStep = texts.findIndex((t) => t.startsWith('step '));
    const status = texts.findIndex((t) => /^Starting… [\d,]+ parameters · first of \d+ batches \(8 sequences × 8 steps\) running on the GPU; the first batch also compiles its kernels · \d+\.\d s$/.test(t));
    expect(status).toBeGreaterThan(0);
    expect(firstStep).toBeGreaterThan(status);
    for (const t of texts.filter((t) => t.startsWith('step '))) expect(t).toMatch(/ · \d+\.\d s$/);
  });

  it('says when the adapter emulates a GPU; one Stop per panel ends what runs; Enter in the prompt generates (item 23)', async () => {
    const banner = await page.evaluate(() => ({ probe: window.__demo!.probe, text: document.querySelector('#gpu-status')!.textContent!, cls: document.querySelector('#gpu-status')!.className }));
    const name = banner.probe?.webgpu.ok ? banner.probe.webgpu.adapterName : '';
    if (/swiftshader/i.test(name)) {
      expect(banner.cls).toContain('warn');
      expect(banner.text).toMatch(/fallback adapter that emulates a GPU on the CPU, not a real GPU/);
    }
    const stops = await page.evaluate(() =>
      ['char', 'sentiment', 'series'].map((id) => {
        const b = [...document.querySelectorAll<HTMLButtonElement>(`#${id} button`)].filter((el) => el.textContent!.trim() === 'Stop');
        return { id, n: b.length, idleDisabled: b.every((el) => el.disabled) };
      }),
    );
    expect(stops).toEqual([
      { id: 'char', n: 1, idleDisabled: true },
      { id: 'sentiment', n: 1, idleDisabled: true },
      { id: 'series', n: 1, idleDisabled: true },
    ]);
    // Stop ends a long generation: the panel's one Stop button, clicked
    await page.evaluate(() => {
      (window as unknown as { __gen: Promise<unknown> }).__gen = window.__demo!.generate({ prompt: 'good', length: 2000, temperature: 0.5, topK: 5, seed: 1 });
    });
    await page.waitForFunction(() => (document.querySelector('#char-output')!.textContent ?? '').length > 8, { polling: 20, timeout: 0 });
    await page.click('#char [data-stop]');
    const stopped = await page.evaluate(async () => ((await (window as unknown as { __gen: Promise<{ text: string }> }).__gen) as { text: string }).text.length);
    expect(stopped).toBeLessThan(2000);
    // Enter in the prompt field
    await page.evaluate(() => {
      const len = document.querySelector<HTMLInputElement>('#char-length')!;
      len.value = '5';
      document.querySelector<HTMLInputElement>('#char-prompt')!.value = '';
    });
    const before = await page.evaluate(() => window.__demo!.sent().count);
    await page.type('#char-prompt', 'hey');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !window.__demo!.running('char') && document.querySelector('#char-output .prompt')?.textContent === 'hey', { polling: 20, timeout: 0 });
    const after = await page.evaluate(() => ({ sent: window.__demo!.sent(), out: document.querySelector('#char-output')!.textContent }));
    expect(after.sent.count).toBe(before + 1);
    expect(after.sent.last.at(-1)).toEqual({ panel: 'char', op: 'generate' });
    expect(after.out!.length).toBe(3 + 5);
  });

  it('shows the committed benchmark results in the page, and links to nothing that is missing (item 16)', async () => {
    const dir = resolve(repoRoot, 'bench/results');
    const newest = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().at(-1)!;
    const result = JSON.parse(readFileSync(resolve(dir, newest), 'utf8')) as BenchResult;
    const shown = await page.evaluate(async () => {
      const s = await window.__demo!.bench();
      const cells: Record<string, string> = {};
      for (const table of document.querySelectorAll<HTMLTableElement>('#bench table.bench')) {
        for (const tr of table.querySelectorAll('tbody tr')) {
          for (const td of tr.querySelectorAll<HTMLElement>('td[data-path]')) cells[`${table.dataset.kind}|${tr.getAttribute('data-case')}|${td.dataset.path}`] = td.textContent!;
        }
      }
      const links = [...document.querySelectorAll<HTMLAnchorElement>('a[href]')].map((a) => ({ href: a.getAttribute('href')!, target: a.getAttribute('href')!.startsWith('#') && !!document.querySelector(a.getAttribute('href')!) }));
      return { s, cells, links, open: document.querySelector<HTMLDetailsElement>('#bench-details')!.open };
    });
    await shot('bench');
    const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3)); // bench/report.mjs's
    let checked = 0;
    for (const c of result.cases) {
      for (const p of c.paths) {
        for (const kind of ['infer', 'train'] as const) {
          const key = `${kind}|${c.cell} ${c.shape.join(',')}|${p.path}`;
          const v = p.ok ? p[kind]?.medianMs : undefined;
          if (kind === 'train' && !(key in shown.cells)) continue; // a case without training runs
          expect(shown.cells[key], key).toBe(v === undefined ? '' : ms(v));
          if (v !== undefined) checked++;
        }
      }
    }
    console.log(`benchmark: ${shown.s.file}, ${shown.s.rows} cases, ${checked} timings match the file`);
    expect(shown.s.file).toBe(newest);
    expect(shown.open).toBe(true);
    expect(checked).toBe(shown.s.timed);
    expect(checked).toBeGreaterThan(0);
    expect(shown.links.length).toBeGreaterThan(0);
    for (const l of shown.links) expect(l, `link ${l.href}`).toEqual({ href: l.href, target: true });
  });

  it('character panel: exports model.json and .safetensors, loads each back through the file input with the same greedy text; a malformed file shows the library error inline and keeps the model (issue 10, D)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-files-'));
    try {
      await page.evaluate((text) => window.__demo!.trainChar({ text, cell: 'gru', hidden: 12, layers: 2, seqLen: 8, lr: 0.03, epochs: 4, batchSize: 8, seed: 4 }), TINY_TEXT);
      const greedy = () => page.evaluate(() => window.__demo!.generate({ prompt: 'good', length: 24, temperature: 0, topK: 0, seed: 1 }).then((r) => r.text));
      const before = await greedy();
      // the downloads, captured: URL.createObjectURL and anchor clicks wrapped in the page (nothing is written by the browser)
      const exported = await page.evaluate(async () => {
        const blobs = new Map<string, Blob>();
        const reads: Promise<{ name: string; bytes: number[] }>[] = [];
        const create = URL.createObjectURL;
        const click = HTMLAnchorElement.prototype.click;
        URL.createObjectURL = (b: Blob | MediaSource) => {
          const u = create.call(URL, b);
          blobs.set(u, b as Blob);
          return u;
        };
        HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
          const b = blobs.get(this.href);
          const name = this.download;
          if (b) reads.push(b.arrayBuffer().then((buf) => ({ name, bytes: Array.from(new Uint8Array(buf)) })));
        };
        try {
          const layers = await window.__demo!.exportCharModel('layers');
          const st = await window.__demo!.exportCharModel('safetensors');
          return { layers, st, files: await Promise.all(reads), msg: document.querySelector('#char [data-msg]')!.textContent };
        } finally {
          URL.createObjectURL = create;
          HTMLAnchorElement.prototype.click = click;
        }
      });
      expect(exported.layers).toEqual(['webgpu-rnn-char-gru.json', 'weights.bin']);
      expect(exported.st).toEqual(['webgpu-rnn-char-gru.safetensors']);
      expect(exported.files.map((f) => f.name)).toEqual([...exported.layers, ...exported.st]);
      expect(exported.msg).toBe('Exported webgpu-rnn-char-gru.safetensors.');
      const path: Record<string, string> = {};
      for (const f of exported.files) {
        path[f.name] = join(dir, f.name);
        writeFileSync(path[f.name], Uint8Array.from(f.bytes));
      }
      const json = JSON.parse(readFileSync(path['webgpu-rnn-char-gru.json'], 'utf8')) as { weightsManifest: { paths: string[] }[] };
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
      const stBytes = readFileSync(path['webgpu-rnn-char-gru.safetensors']);
      const headerLen = Number(stBytes.readBigUInt64LE(0));
      const header = JSON.parse(stBytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
      expect(Object.keys(header).sort()).toEqual(['0.weight', '1.bias_hh_l0', '1.bias_hh_l1', '1.bias_ih_l0', '1.bias_ih_l1', '1.weight_hh_l0', '1.weight_hh_l1', '1.weight_ih_l0', '1.weight_ih_l1', '2.bias', '2.weight', '__metadata__']);

      const input = (await page.$('input#char-modelfile'))!;
      const upload = async (...paths: string[]) => {
        const n = await page.evaluate(() => window.__demo!.charFileLoads());
        await input.uploadFile(...paths);
        await page.waitForFunction((k: number) => window.__demo!.charFileLoads() > k, {}, n);
        const r = await page.evaluate(() => window.__demo!.charFileLoad());
        const msg = await page.evaluate(() => {
          const m = document.querySelector('#char [data-msg]')!;
          return { text: m.textContent, error: m.classList.contains('error') };
        });
        return { r, msg };
      };
      const other = () => page.evaluate((text) => window.__demo!.trainChar({ text, cell: 'rnn', hidden: 6, layers: 1, seqLen: 8, lr: 0.03, epochs: 1, batchSize: 8, seed: 8 }), TINY_TEXT);

      for (const files of [[path['webgpu-rnn-char-gru.json'], path['weights.bin']], [path['webgpu-rnn-char-gru.safetensors']]]) {
        await other(); // a different model in the panel, replaced by the file's
        const { r, msg } = await upload(...files);
        console.log(`demo file load: ${files.map((f) => f.split('/').pop()).join(' + ')} → ${JSON.stringify(r.ok ? { format: r.result!.format, cell: r.result!.spec.cell, hidden: r.result!.spec.hidden, layers: r.result!.spec.layers } : r)}`);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        expect(r.result!.spec).toMatchObject({ cell: 'gru', hidden: 12, layers: 2, seqLen: 8 });
        expect(r.result!.vocabFrom).toBe('file');
        expect(msg.error).toBe(false);
        expect(await greedy()).toBe(before);
      }

      // malformed: a truncated .safetensors, and a model.json without its shard: the library's typed error, inline; the model stays
      const bad = join(dir, 'truncated.safetensors');
      writeFileSync(bad, stBytes.subarray(0, stBytes.length - 4));
      for (const files of [[bad], [path['webgpu-rnn-char-gru.json']]]) {
        const { r, msg } = await upload(...files);
        console.log(`demo malformed file: ${files.map((f) => f.split('/').pop()).join(' + ')} → ${msg.text}`);
        expect(r.ok).toBe(false);
        if (r.ok) continue;
        expect(r.error).toMatch(/^(WeightError|ValueError): /); // thrown by the library, not the demo
        expect(msg.text).toBe(r.error);
        expect(msg.error).toBe(true);
        expect(await greedy()).toBe(before);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gradient-flow panel (issue 11): a ‖∂L/∂h_t‖ series per cell on a log axis; at the defaults the SimpleRNN's fades faster than the LSTM's; scaled-up weights explode it, and clipping keeps its training bounded", async () => {
    const ratio = (p: number[]) => p[0] / p[p.length - 1];
    // the panel's defaults (T = 30, hidden 16, scale 1, LSTM forget bias 1), one backward pass per cell
    const d = await page.evaluate(async () => {
      const r = await window.__demo!.gradFlow({ cells: ['rnn', 'gru', 'lstm'], seqLen: 30, hidden: 16, scale: 1, forgetBias: 1, steps: 0, clip: false, seed: 1 });
      return { r, charts: window.__demo!.gradCharts(), ranOn: document.querySelector('#grads [data-ran-on]')!.textContent };
    });
    const start = Object.fromEntries(d.r.cells.map((c) => [c.cell, c.noClip.profiles[0]]));
    console.log(`grad flow at the defaults on ${d.r.backend}: ‖∂L/∂h_0‖/‖∂L/∂h_29‖ SimpleRNN ${ratio(start.rnn).toExponential(2)}, GRU ${ratio(start.gru).toExponential(2)}, LSTM ${ratio(start.lstm).toExponential(2)}; legend ${JSON.stringify(d.charts['grads-start'].legend)}, y ticks ${d.charts['grads-start'].yTicks.join(' ')}`);
    expect(d.r.backend).toBe('webgpu');
    expect(d.ranOn).toMatch(/^GPU \(WebGPU\) · /);
    expect(d.r.cells.map((c) => c.cell)).toEqual(['rnn', 'gru', 'lstm']);
    for (const c of d.r.cells) expect(c.noClip.profiles[0].length).toBe(30);
    // one series per cell, in the legend of the first chart, on a log axis labelled in powers of ten
    expect(d.charts['grads-start'].legend.map((l) => l.split(' ')[0])).toEqual(['SimpleRNN', 'GRU', 'LSTM']);
    expect(d.charts['grads-start'].yTicks.length).toBeGreaterThan(2);
    for (const t of d.charts['grads-start'].yTicks) expect(t).toMatch(/^10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+$/);
    // the SimpleRNN's signal vanishes going back in time, faster than the LSTM's (measured: about 1000× apart on the CPU reference)
    expect(ratio(start.rnn)).toBeLessThan(1e-3);
    expect(ratio(start.rnn)).toBeLessThan(ratio(start.lstm) / 10);
    await shot('grads', 'grads-defaults');

    // the same on the CPU reference (the switch), and the forget gate's part: bias 0 (PyTorch's init) fades faster than bias 1
    const cpu = await page.evaluate(async () => {
      window.__demo!.setBackend('grads', 'cpu');
      try {
        const a = await window.__demo!.gradFlow({ cells: ['rnn', 'gru', 'lstm'], seqLen: 30, hidden: 16, scale: 1, forgetBias: 1, steps: 0, clip: false, seed: 1 });
        const b = await window.__demo!.gradFlow({ cells: ['lstm'], forgetBias: 0 });
        return { a, b };
      } finally {
        window.__demo!.setBackend('grads', 'webgpu');
      }
    });
    expect(cpu.a.backend).toBe('cpu');
    let worst = 0;
    cpu.a.cells.forEach((c, i) => c.noClip.profiles[0].forEach((v, t) => (worst = Math.max(worst, Math.abs(v - start[d.r.cells[i].cell][t]) / v))));
    const lstm0 = ratio(cpu.b.cells[0].noClip.profiles[0]);
    console.log(`grad flow GPU vs CPU: largest relative difference of ‖∂L/∂h_t‖ ${worst.toExponential(2)}; LSTM with forget bias 0: ${lstm0.toExponential(2)} (bias 1: ${ratio(cpu.a.cells[2].noClip.profiles[0]).toExponential(2)})`);
    expect(worst).toBeLessThan(1e-3); // float32 on the GPU against the float64 reference, through 30 steps
    expect(lstm0).toBeLessThan(ratio(cpu.a.cells[2].noClip.profiles[0]) / 10);

    // explosion: W_hh × 3, then 6 SGD steps without and with clipping from the same weights
    const x = await page.evaluate(async () => {
      const r = await window.__demo!.gradFlow({ cells: ['rnn', 'lstm'], seqLen: 12, hidden: 16, scale: 3, forgetBias: 1, steps: 6, lr: 0.3, clip: true, clipNorm: 1, seed: 1 });
      return { r, charts: window.__demo!.gradCharts(), table: document.querySelectorAll('#grads-table tbody tr').length };
    });
    const rnn = x.r.cells[0];
    const maxLoss = (run: { losses: number[] }) => Math.max(...run.losses.map((v) => (Number.isFinite(v) ? v : Infinity)));
    console.log(`grad flow at scale 3 (T = 12): SimpleRNN ratio ${ratio(rnn.noClip.profiles[0]).toExponential(2)}, LSTM ${ratio(x.r.cells[1].noClip.profiles[0]).toExponential(2)}; SimpleRNN losses without clipping ${rnn.noClip.losses.map((v) => v.toExponential(1)).join(' ')}${rnn.noClip.diverged ? ` (${rnn.noClip.diverged})` : ''}, clipped ${rnn.clipped!.losses.map((v) => v.toExponential(1)).join(' ')}; gradient norms ${rnn.noClip.gradNorms.map((v) => v.toExponential(1)).join(' ')}`);
    expect(ratio(rnn.noClip.profiles[0])).toBeGreaterThan(1); // it grows going back in time
    expect(ratio(x.r.cells[1].noClip.profiles[0])).toBeLessThan(1); // the LSTM's does not
    expect(rnn.clipped!.profiles[0]).toEqual(rnn.noClip.profiles[0]); // clipping acts after backward: the first pass is the same
    expect(rnn.clipped!.diverged).toBeNull();
    expect(maxLoss(rnn.clipped!)).toBeLessThanOrEqual(rnn.clipped!.losses[0] * 1.5);
    expect(maxLoss(rnn.noClip)).toBeGreaterThan(100 * rnn.noClip.losses[0]); // unclipped updates throw the weights off
    expect(x.charts['grads-end'].legend.length).toBeGreaterThanOrEqual(3); // solid and dashed lines per cell (a diverged run may have no finite profile)
    expect(x.charts['grads-loss'].legend).toHaveLength(4);
    expect(x.table).toBe(4);
    await shot('grads', 'grads-explode');
  });

  it('gradient-flow panel: bad fields and no cell are refused at the field, with nothing sent', async () => {
    const r = await page.evaluate(async () => {
      const d = window.__demo!;
      const before = d.sent().count;
      const fail = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}`);
      const t = await fail(d.gradFlow({ seqLen: 1 }));
      const tNote = document.querySelector('#grads-seqlen-error')!.textContent;
      const el = document.querySelector<HTMLInputElement>('#grads-seqlen')!;
      el.value = '30';
      el.dispatchEvent(new Event('input'));
      const none = await fail(d.gradFlow({ cells: [] }));
      for (const c of ['rnn', 'gru', 'lstm']) document.querySelector<HTMLInputElement>(`#grads-${c}`)!.checked = true;
      // past the page: the worker refuses it with the same words
      const w = await fail(d.request('grads', 'cpu', { op: 'gradFlow', args: { cells: ['lstm', 'lstm'], seqLen: 30, hidden: 0, scale: 1, forgetBias: 1, steps: 0, lr: 0.3, clip: false, clipNorm: 1 } }));
      return { t, tNote, none, w, sent: d.sent().count - before, msg: document.querySelector('#grads [data-msg]')!.textContent };
    });
    console.log(`grad flow refusals: ${r.t} | ${r.none} | ${r.w}`);
    expect(r.t).toMatch(/^InputError: Steps T must be at least 2/);
    expect(r.tNote).toMatch(/Steps T must be at least 2/);
    expect(r.none).toMatch(/^InputError: Choose at least one cell/);
    expect(r.w).toMatch(/^InputError: Hidden size must be at least 1 .*Cells must be one or more of SimpleRNN, GRU and LSTM, each once/);
    expect(r.sent).toBe(1); // only the request sent past the page
    expect(r.msg).toMatch(/^Not started: Choose at least one cell/);
  });

  /** The panel's exports, as the page offers them: URL.createObjectURL and anchor clicks wrapped in the page (nothing is written by the browser). */
  async function captureExports(panel: 'sentiment' | 'series'): Promise<{ names: string[][]; files: { name: string; bytes: number[] }[]; msg: string }> {
    return page.evaluate(async (panel) => {
      const blobs = new Map<string, Blob>();
      const reads: Promise<{ name: string; bytes: number[] }>[] = [];
      const create = URL.createObjectURL;
      const click = HTMLAnchorElement.prototype.click;
      URL.createObjectURL = (b: Blob | MediaSource) => {
        const u = create.call(URL, b);
        blobs.set(u, b as Blob);
        return u;
      };
      HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
        const b = blobs.get(this.href);
        const name = this.download;
        if (b) reads.push(b.arrayBuffer().then((buf) => ({ name, bytes: Array.from(new Uint8Array(buf)) })));
      };
      try {
        const layers = await window.__demo!.exportModel(panel, 'layers');
        const st = await window.__demo!.exportModel(panel, 'safetensors');
        return { names: [layers, st], files: await Promise.all(reads), msg: document.querySelector(`#${panel} [data-msg]`)!.textContent! };
      } finally {
        URL.createObjectURL = create;
        HTMLAnchorElement.prototype.click = click;
      }
    }, panel);
  }

  /** Uploads files through the panel's file input and waits for the load it starts. */
  async function uploadTo(panel: 'char' | 'sentiment' | 'series', ...paths: string[]) {
    const n = await page.evaluate((p) => window.__demo!.fileLoads(p), panel);
    const input = (await page.$(`input#${panel}-modelfile`))!;
    await input.uploadFile(...paths);
    await page.waitForFunction((p: 'char' | 'sentiment' | 'series', k: number) => window.__demo!.fileLoads(p) > k, {}, panel, n);
    const r = await page.evaluate((p) => window.__demo!.fileLoad(p), panel);
    const msg = await page.evaluate((p) => {
      const m = document.querySelector(`#${p} [data-msg]`)!;
      return { text: m.textContent, error: m.classList.contains('error') };
    }, panel);
    return { r, msg };
  }

  for (const panel of ['sentiment', 'series'] as const) {
    it(`${panel} panel: exports model.json and .safetensors, loads each back through its file input with the same predictions; a malformed file shows the library error inline and keeps the model (issue 10, D)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `demo-${panel}-`));
      const REVIEW_TEXTS = ['movie was good', 'the film was not good', 'boring story'];
      // what the panel's model predicts: P(positive) of three reviews, or six one-step-ahead predictions of a fresh stream from t = 1000
      const predict = (): Promise<number[]> =>
        panel === 'sentiment'
          ? page.evaluate(async (texts) => {
              const out: number[] = [];
              for (const t of texts) out.push((await window.__demo!.classify(t)).probability!);
              return out;
            }, REVIEW_TEXTS)
          : page.evaluate(() => window.__demo!.streamSeries(6, 0).then((r) => r.points.map((p) => p.prediction)));
      const train = (seed: number, cell: 'gru' | 'lstm' | 'rnn', hidden: number) =>
        panel === 'sentiment'
          ? page.evaluate((a) => window.__demo!.trainSentiment({ cell: a.cell, hidden: a.hidden, lr: 0.05, epochs: 3, seed: a.seed }).then(() => undefined), { seed, cell, hidden })
          : page.evaluate((a) => window.__demo!.trainSeries({ cell: a.cell, hidden: a.hidden, seqLen: 8, lr: 0.03, epochs: 2, noise: 0.05, seed: a.seed }).then(() => undefined), { seed, cell, hidden });
      try {
        await train(4, 'lstm', 6);
        const before = await predict(); // the series stream starts at t = 1000 after training, and again after a load
        if (panel === 'series') await train(4, 'lstm', 6); // the same model again, its stream back at t = 1000
        const ex = await captureExports(panel);
        const base = `webgpu-rnn-${panel}-lstm`;
        expect(ex.names).toEqual([[`${base}.json`, 'weights.bin'], [`${base}.safetensors`]]);
        expect(ex.files.map((f) => f.name)).toEqual([`${base}.json`, 'weights.bin', `${base}.safetensors`]);
        expect(ex.msg).toBe(`Exported ${base}.safetensors.`);
        const path: Record<string, string> = {};
        for (const f of ex.files) {
          path[f.name] = join(dir, f.name);
          writeFileSync(path[f.name], Uint8Array.from(f.bytes));
        }
        const stBytes = readFileSync(path[`${base}.safetensors`]);
        const header = JSON.parse(stBytes.subarray(8, 8 + Number(stBytes.readBigUInt64LE(0))).toString('utf8')) as Record<string, unknown>;
        const want = panel === 'sentiment' ? ['0.weight', '1.bias_hh_l0', '1.bias_ih_l0', '1.weight_hh_l0', '1.weight_ih_l0', '2.bias', '2.weight'] : ['0.bias_hh_l0', '0.bias_ih_l0', '0.weight_hh_l0', '0.weight_ih_l0', '1.bias', '1.weight'];
        expect(Object.keys(header).sort()).toEqual([...want, '__metadata__']);

        for (const files of [[path[`${base}.json`], path['weights.bin']], [path[`${base}.safetensors`]]]) {
          await train(8, 'rnn', 5); // a different model in the panel, replaced by the file's
          const { r, msg } = await uploadTo(panel, ...files);
          console.log(`demo ${panel} file load: ${files.map((f) => f.split('/').pop()).join(' + ')} → ${JSON.stringify(r.ok ? { format: r.result!.format, cell: r.result!.spec.cell, hidden: r.result!.spec.hidden } : r)}; ${msg.text}`);
          expect(r.ok).toBe(true);
          if (!r.ok) continue;
          expect(r.result!.spec).toMatchObject({ panel, cell: 'lstm', hidden: 6, layers: 1 });
          expect(msg.error).toBe(false);
          expect(await page.evaluate((p) => (document.querySelector<HTMLSelectElement>(`#${p === 'sentiment' ? 'sent' : 'series'}-cell`)!.value), panel)).toBe('lstm');
          const after = await predict();
          expect(after.length).toBe(before.length);
          after.forEach((v, i) => expect(v, `prediction ${i}`).toBeCloseTo(before[i], 6));
        }

        // malformed: a truncated .safetensors, and a model.json without its shard: the library's typed error, inline; the model stays
        const kept = await predict();
        const bad = join(dir, 'truncated.safetensors');
        writeFileSync(bad, stBytes.subarray(0, stBytes.length - 4));
        for (const files of [[bad], [path[`${base}.json`]]]) {
          const { r, msg } = await uploadTo(panel, ...files);
          console.log(`demo ${panel} malformed file: ${files.map((f) => f.split('/').pop()).join(' + ')} → ${msg.text}`);
          expect(r.ok).toBe(false);
          if (r.ok) continue;
          expect(r.error).toMatch(/^(WeightError|ValueError): /); // thrown by the library, not the demo
          expect(msg.text).toBe(r.error);
          expect(msg.error).toBe(true);
        }
        if (panel === 'sentiment') expect(await predict()).toEqual(kept);
        else {
          // the stream went on from where it was (t = 1006): the same model keeps predicting the same way
          const next = await predict();
          expect(next.every(Number.isFinite)).toBe(true);
        }
        await shot(panel, `${panel}-files`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('sentiment and series panels run an .onnx file through rt.loadOnnx: the same outputs as torch and as the same weights in .safetensors; a malformed or misfit file shows the library error (issue 10, D)', async () => {
    const fx = (f: string) => resolve(repoRoot, 'tests/fixtures/demo', f);
    // made by tests/fixtures/make_demo_onnx.py: torch.onnx.export of the panels' architectures, the same weights as .safetensors, torch's probabilities (float64)
    const expected = JSON.parse(readFileSync(fx('expected.json'), 'utf8')) as { vocabSize: number; sentiment: { text: string; ids: number[]; probability: number }[] };
    const texts = expected.sentiment.map((e) => e.text);
    const classifyAll = (backend: 'webgpu' | 'cpu') =>
      page.evaluate(
        async (texts, backend) => {
          window.__demo!.setBackend('sentiment', backend);
          const out: { p: number; backend: string }[] = [];
          for (const t of texts) {
            const c = await window.__demo!.classify(t);
            out.push({ p: c.probability!, backend: c.backend });
          }
          window.__demo!.setBackend('sentiment', 'webgpu');
          return out;
        },
        texts,
        backend,
      );
    const onnx = await uploadTo('sentiment', fx('sentiment_gru.onnx'));
    console.log(`demo onnx: sentiment_gru.onnx → ${JSON.stringify(onnx.r.ok ? onnx.r.result!.onnx : onnx.r)}; ${onnx.msg.text}`);
    expect(onnx.r.ok).toBe(true);
    if (!onnx.r.ok) return;
    expect(onnx.r.result!.format).toBe('onnx');
    expect(onnx.msg.error).toBe(false);
    let worst = 0;
    for (const backend of ['webgpu', 'cpu'] as const) {
      const got = await classifyAll(backend);
      got.forEach((g, i) => {
        expect(g.backend).toBe(backend);
        worst = Math.max(worst, Math.abs(g.p - expected.sentiment[i].probability));
      });
    }
    const exportRefused = await page.evaluate(() => window.__demo!.exportModel('sentiment', 'safetensors').then(() => 'resolved', (e: Error) => e.message));
    expect(exportRefused).toMatch(/runs the ONNX model sentiment_gru\.onnx .*export needs the panel's own model/);
    // the same weights as .safetensors in the panel's own model: its vocabulary has the fixture's size, and it predicts the same
    const st = await uploadTo('sentiment', fx('sentiment_gru.safetensors'));
    expect(st.r.ok).toBe(true);
    if (!st.r.ok) return;
    expect(st.r.result!.spec.vocabSize).toBe(expected.vocabSize);
    const own = await classifyAll('webgpu');
    own.forEach((g, i) => (worst = Math.max(worst, Math.abs(g.p - expected.sentiment[i].probability))));
    console.log(`demo onnx: sentiment max |ours − torch| over ${texts.length} reviews, ONNX on GPU and CPU and safetensors on GPU: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);

    // series: the ONNX session over the values so far equals the stateful stream of the same weights while the window holds the whole stream
    const stream = () => page.evaluate(() => window.__demo!.streamSeries(6, 0).then((r) => r.points.map((p) => [p.t, p.prediction])));
    const so = await uploadTo('series', fx('series_lstm.onnx'));
    expect(so.r.ok).toBe(true);
    const viaOnnx = await stream();
    const ss = await uploadTo('series', fx('series_lstm.safetensors'));
    expect(ss.r.ok).toBe(true);
    const viaOwn = await stream();
    let sworst = 0;
    viaOnnx.forEach(([t, p], i) => {
      expect(t).toBe(viaOwn[i][0]);
      sworst = Math.max(sworst, Math.abs(p - viaOwn[i][1]));
    });
    console.log(`demo onnx: series ONNX window vs the stateful stream of the same weights, ${viaOnnx.length} steps from t = ${viaOnnx[0][0]}: max diff ${sworst.toExponential(2)}`);
    expect(viaOnnx.map(([t]) => t)).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    expect(sworst).toBeLessThan(1e-5);

    // malformed and misfit: a truncated .onnx; the series model in the sentiment panel (float input, fed ids); the panel keeps its model
    const dir = mkdtempSync(join(tmpdir(), 'demo-onnx-'));
    try {
      const cut = join(dir, 'truncated.onnx');
      const bytes = readFileSync(fx('sentiment_gru.onnx'));
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const kept = await classifyAll('webgpu');
      for (const f of [cut, fx('series_lstm.onnx')]) {
        const { r, msg } = await uploadTo('sentiment', f);
        console.log(`demo onnx misfit: ${f.split('/').pop()} in the sentiment panel → ${msg.text}`);
        expect(r.ok).toBe(false);
        if (r.ok) continue;
        expect(r.error).toMatch(/^(WeightError|ValueError|ShapeError): /); // the library's, not the demo's
        expect(msg.text).toBe(r.error);
        expect(msg.error).toBe(true);
      }
      expect(await classifyAll('webgpu')).toEqual(kept);
      // the character panel takes an .onnx that gives logits per step; the sentiment model gives one probability
      const c = await uploadTo('char', fx('sentiment_gru.onnx'));
      console.log(`demo onnx misfit: sentiment_gru.onnx in the character panel → ${c.msg.text}`);
      expect(c.r.ok).toBe(false);
      if (!c.r.ok) expect(c.r.error).toMatch(/the character panel needs ids \(1, T\) → logits \(1, T, V = \d+\).*; for ids \(1, 2\) sentiment_gru\.onnx gives 'probability' \(1, 1\)\.$/);
      expect(c.msg.error).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await shot('sentiment', 'sentiment-onnx');
  });

  it("character panel runs an .onnx file: with its state as inputs and outputs, or over a window without; greedy text equals torch's; a vocabulary that does not fit is refused (issue 10, D)", async () => {
    const fx = (f: string) => resolve(repoRoot, 'tests/fixtures/demo', f);
    // made by tests/fixtures/make_demo_onnx.py: the panel's architecture trained briefly in torch on demo/corpus.txt,
    // torch.onnx.export with h0/c0 → hN/cN (and once without state), torch's greedy continuations in float64
    const expected = JSON.parse(readFileSync(fx('expected.json'), 'utf8')) as {
      char: { vocab: string; cases: { file: string; prompt: string; length: number; window: number | null; greedy: string; minLogitGap: number }[] };
    };
    const corpus = readFileSync(resolve(repoRoot, 'demo/corpus.txt'), 'utf8');
    expect([...new Set(corpus)].sort().join('')).toBe(expected.char.vocab); // the panel's vocabulary is the fixtures'
    const setText = (t: string) => page.evaluate((t) => void ((document.querySelector('#char-text') as HTMLTextAreaElement).value = t), t);
    await setText(corpus);
    const generate = (backend: 'webgpu' | 'cpu', args: { prompt: string; length: number; temperature: number; topK: number; seed: number }) =>
      page.evaluate(
        async (backend, args) => {
          window.__demo!.setBackend('char', backend);
          try {
            const r = await window.__demo!.generate(args);
            return { text: r.text, backend: r.backend, shown: document.querySelector('#char-output')!.textContent };
          } finally {
            window.__demo!.setBackend('char', 'webgpu');
          }
        },
        backend,
        args,
      );
    const byFile = Object.fromEntries(expected.char.cases.map((c) => [c.file, c]));
    const greedyOf = async (file: string, backend: 'webgpu' | 'cpu') => {
      const c = byFile[file];
      const g = await generate(backend, { prompt: c.prompt, length: c.length, temperature: 0, topK: 0, seed: 1 });
      console.log(`demo onnx char: ${file} on ${g.backend}: '${c.prompt}' + ${JSON.stringify(g.text)} (torch ${g.text === c.greedy ? 'the same' : JSON.stringify(c.greedy)}; smallest top-2 logit gap in torch ${c.minLogitGap.toExponential(2)})`);
      expect(g.backend).toBe(backend);
      expect(g.shown).toBe(c.prompt + g.text);
      return g.text;
    };

    // with state: the prompt once, then one character per run with hN/cN fed back as h0/c0
    const lstm = await uploadTo('char', fx('char_lstm.onnx'));
    console.log(`demo onnx char: char_lstm.onnx → ${JSON.stringify(lstm.r.ok ? { hidden: lstm.r.result!.spec.hidden, layers: lstm.r.result!.spec.layers, ...lstm.r.result!.onnx, nodes: undefined } : lstm.r)}; ${lstm.msg.text}`);
    expect(lstm.r.ok).toBe(true);
    if (!lstm.r.ok) return;
    expect(lstm.r.result!.format).toBe('onnx');
    expect(lstm.r.result!.spec).toMatchObject({ cell: 'lstm', hidden: 16, layers: 2, vocabSize: expected.char.vocab.length });
    expect(lstm.msg.error).toBe(false);
    expect(lstm.msg.text).toContain("one character per run with the previous run's hN, cN as h0, c0 (state (2, 1, 16), its sizes found by trial runs)");
    for (const backend of ['webgpu', 'cpu'] as const) expect(await greedyOf('char_lstm.onnx', backend)).toBe(byFile['char_lstm.onnx'].greedy);
    // sampling as the panel does: the seed decides, every character is the vocabulary's
    const sampled = [await generate('webgpu', { prompt: 'good', length: 16, temperature: 0.8, topK: 5, seed: 3 }), await generate('webgpu', { prompt: 'good', length: 16, temperature: 0.8, topK: 5, seed: 3 })];
    console.log(`demo onnx char: sampled (T 0.8, top-5, seed 3) 'good' + ${JSON.stringify(sampled[0].text)}`);
    expect(sampled[0].text).toBe(sampled[1].text);
    expect(sampled[0].text.length).toBe(16);
    expect([...sampled[0].text].every((ch) => expected.char.vocab.includes(ch))).toBe(true);
    const refused = await page.evaluate(async () => ({
      export: await window.__demo!.exportModel('char', 'safetensors').then(() => 'resolved', (e: Error) => e.message),
      parity: await window.__demo!.parity('char').then(() => 'resolved', (e: Error) => e.message),
    }));
    expect(refused.export).toMatch(/runs the ONNX model char_lstm\.onnx .*export needs the panel's own model/);
    expect(refused.parity).toMatch(/runs the ONNX model char_lstm\.onnx .*Parity at a glance needs the panel's own model/);

    // without state: each character re-runs the session over the last 64; 4 + 70 characters, so the window slides
    const win = await uploadTo('char', fx('char_lstm_window.onnx'));
    expect(win.r.ok).toBe(true);
    expect(win.msg.text).toContain('char_lstm_window.onnx has no state inputs, so each generated character re-runs the session over the last 64 characters');
    expect(await greedyOf('char_lstm_window.onnx', 'webgpu')).toBe(byFile['char_lstm_window.onnx'].greedy);

    // a GRU: one state input
    const gru = await uploadTo('char', fx('char_gru.onnx'));
    expect(gru.r.ok).toBe(true);
    if (gru.r.ok) expect(gru.r.result!.spec).toMatchObject({ cell: 'gru', hidden: 8, layers: 1 });
    expect(await greedyOf('char_gru.onnx', 'webgpu')).toBe(byFile['char_gru.onnx'].greedy);
    await shot('char', 'char-onnx');

    // a training text with other characters: the model's 29 logits do not fit; the panel keeps the GRU
    await setText(TINY_TEXT);
    const bad = await uploadTo('char', fx('char_lstm.onnx'));
    console.log(`demo onnx char misfit: char_lstm.onnx with the text ${JSON.stringify(TINY_TEXT)} → ${bad.msg.text}`);
    expect(bad.r.ok).toBe(false);
    if (!bad.r.ok) expect(bad.r.error).toMatch(new RegExp(`char_lstm\\.onnx gives ${expected.char.vocab.length} logits per step \\('logits' \\(1, 2, ${expected.char.vocab.length}\\)\\), but the character panel's vocabulary has ${new Set(TINY_TEXT).size} characters`));
    expect(bad.msg.error).toBe(true);
    expect(bad.msg.text).toBe(bad.r.ok ? '' : bad.r.error);
    expect(await greedyOf('char_gru.onnx', 'webgpu')).toBe(byFile['char_gru.onnx'].greedy);
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
      const bench = await d.bench(); // the results are in the build: nothing to fetch from bench/
      return { probe, backend: t.backend, losses: t.losses, bench, benchFiles: d.benchFiles };
    });
    expect(r.bench.rows).toBeGreaterThan(0);
    expect(r.bench.timed).toBeGreaterThan(0);
    expect(r.bench.file).toBe(r.benchFiles.at(-1));
    expect(r.probe.webgpu.ok).toBe(true);
    expect(r.backend).toBe('webgpu');
    expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]);
    expect(errors).toEqual([]);
  });
});
