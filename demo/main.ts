// The demo page's thread: reads the forms, sends requests to the worker
// (worker.ts, where all training and inference run), and renders what comes
// back: progress, loss charts, generated text, the streamed time series. It
// never waits on the GPU. window.__demo exposes the same actions as the buttons
// for tests (tests/demo.test.ts).
import type { BackendName } from '../src/index';
import { drawChart, type Line } from './chart';
import corpus from './corpus.txt?raw';
import type {
  ClassifyResult,
  Event,
  GenerateArgs,
  GenerateResult,
  Op,
  PanelId,
  ParityResult,
  ProbeResult,
  RanOn,
  Reply,
  SavedModel,
  SeriesPoint,
  StreamResult,
  TrainCharArgs,
  TrainResult,
  TrainSentimentArgs,
  TrainSeriesArgs,
} from './protocol';
import { REVIEWS } from './sentiment';

// ---------------------------------------------------------------- the worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: Event) => void }>();

worker.onmessage = (e: MessageEvent<Event | Reply>) => {
  const m = e.data;
  const p = pending.get(m.id);
  if (!p) return;
  if (m.type !== 'reply') return p.onEvent?.(m);
  pending.delete(m.id);
  if (m.ok) p.resolve(m.result);
  else p.reject(Object.assign(new Error(m.error), { name: m.name }));
};
worker.onerror = (e) => {
  const err = new Error(`The worker failed: ${e.message || 'it could not start (does this browser support module workers?)'}`);
  setStatus(err.message, 'bad');
  for (const p of pending.values()) p.reject(err);
  pending.clear();
};

function call<T>(panel: PanelId, backend: BackendName, op: Op, onEvent?: (e: Event) => void): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
    worker.postMessage({ ...op, id, panel, backend });
  });
}

// ---------------------------------------------------------------- page helpers

function $<T extends HTMLElement>(sel: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`demo: no element ${sel}`);
  return el;
}
const num = (id: string) => Number($<HTMLInputElement>(`#${id}`).value);
const str = (id: string) => $<HTMLInputElement | HTMLSelectElement>(`#${id}`).value;
function setField(id: string, v: string | number | undefined): void {
  if (v !== undefined) $<HTMLInputElement | HTMLSelectElement>(`#${id}`).value = String(v);
}

function setStatus(text: string, kind: 'ok' | 'warn' | 'bad'): void {
  const el = $('#gpu-status');
  el.textContent = text;
  el.className = `status ${kind}`;
}

const errText = (err: unknown) => (err instanceof Error ? `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}` : String(err));

const pct = (v: number | undefined) => (v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

let webgpuOk = false;
let probed: ProbeResult | null = null;

/** The parts every panel has: backend switch, ran-on badge, progress, loss chart, parity, save and load. */
class Panel {
  readonly el: HTMLElement;
  losses: number[] = [];
  private drawQueued = false;

  constructor(
    readonly id: PanelId,
    private readonly lossLabel: string,
  ) {
    this.el = $(`#${id}`);
    const buttons = $('[data-common]', this.el);
    buttons.innerHTML = `
      <button type="button" data-train>Train</button>
      <button type="button" class="secondary" data-stop>Stop</button>
      <button type="button" class="secondary" data-parity title="Run the current model on the GPU and on the CPU reference with the same weights and input">Parity at a glance</button>
      <button type="button" class="secondary" data-save>Download</button>
      <label class="button secondary">Upload<input type="file" accept=".json,application/json" data-upload hidden /></label>
      <button type="button" class="secondary" data-store>Save in browser</button>
      <button type="button" class="secondary" data-restore>Load from browser</button>`;
    $('[data-stop]', this.el).onclick = () => this.stop();
    $('[data-parity]', this.el).onclick = () => void this.parity().catch(() => {});
    $('[data-save]', this.el).onclick = () => void this.download().catch(() => {});
    $('[data-store]', this.el).onclick = () => void this.store().catch(() => {});
    $('[data-restore]', this.el).onclick = () => void this.restore().catch(() => {});
    const upload = $<HTMLInputElement>('[data-upload]', this.el);
    upload.onchange = () => {
      const f = upload.files?.[0];
      upload.value = '';
      if (f) void f.text().then((t) => this.load(JSON.parse(t) as SavedModel)).catch((e: unknown) => this.error(e));
    };
    this.draw();
  }

  backend(): BackendName {
    return ($<HTMLInputElement>(`input[name="${this.id}-backend"]:checked`, this.el).value as BackendName) ?? 'cpu';
  }
  setBackend(b: BackendName): void {
    $<HTMLInputElement>(`input[name="${this.id}-backend"][value="${b}"]`, this.el).checked = true;
  }

  ranOn(r: RanOn): void {
    $('[data-ran-on]', this.el).textContent = r.backend === 'webgpu' ? `GPU (WebGPU) · ${r.adapterName}` : `CPU reference · ${r.adapterName}`;
  }
  message(text: string, kind: 'info' | 'error' = 'info'): void {
    const m = $('[data-msg]', this.el);
    m.textContent = text;
    m.className = `msg ${kind}`;
  }
  error(err: unknown): void {
    this.message(errText(err), 'error');
  }
  stats(text: string): void {
    $('[data-stats]', this.el).textContent = text;
  }
  progress(frac: number): void {
    $('[data-bar]', this.el).style.transform = `scaleX(${Math.max(0, Math.min(1, frac))})`; // compositor only: no layout, no repaint
  }

  /** Redraws at most once a frame, however fast progress arrives. */
  queueDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }
  draw(): void {
    // trailing mean over a window that grows with the run (a twentieth of it)
    const k = Math.max(1, Math.round(this.losses.length / 20));
    const smooth = this.losses.map((_, i) => {
      const win = this.losses.slice(Math.max(0, i - k + 1), i + 1);
      return win.reduce((a, b) => a + b, 0) / win.length;
    });
    const lines: Line[] =
      k > 1
        ? [
            { label: this.lossLabel, color: '#9db4e8', values: this.losses },
            { label: `mean of ${k}`, color: '#1f4fbf', values: smooth },
          ]
        : [{ label: this.lossLabel, color: '#1f4fbf', values: this.losses }];
    drawChart($<HTMLCanvasElement>('[data-chart]', this.el), lines, { title: 'per training step', empty: 'Train to see the loss fall' });
  }

  /** Runs a training request with live progress; resolves with the result (and shows it), or shows the error and rethrows. */
  async train(op: Op, describe: (r: TrainResult) => string): Promise<TrainResult> {
    const btn = $<HTMLButtonElement>('[data-train]', this.el);
    btn.disabled = true;
    this.losses = [];
    this.progress(0);
    this.message('');
    this.stats('Starting…');
    this.queueDraw();
    const backend = this.backend();
    try {
      const r = await call<TrainResult>(this.id, backend, op, (e) => {
        if (e.type !== 'progress') return;
        this.losses.push(e.loss);
        this.progress(e.step / e.total);
        const ppl = this.id === 'char' ? ` · perplexity ${Math.exp(e.loss).toFixed(2)}` : '';
        this.stats(`step ${e.step}/${e.total} · epoch ${e.epoch + 1} · loss ${e.loss.toFixed(4)}${ppl} · ${e.stepsPerSec.toFixed(1)} steps/s · ${backend === 'webgpu' ? 'GPU' : 'CPU'}`);
        this.queueDraw();
      });
      this.ranOn(r);
      if (!r.stopped) this.progress(1); // a stopped run keeps the bar where it stopped
      this.stats(`${r.stopped ? 'Stopped' : 'Done'}: ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s (${((1000 * r.steps) / r.ms).toFixed(1)} steps/s) · loss ${r.losses[0]?.toFixed(4)} → ${r.losses.at(-1)?.toFixed(4)} · ${describe(r)}`);
      this.queueDraw();
      return r;
    } catch (err) {
      this.error(err);
      this.stats('Training failed.');
      throw err;
    } finally {
      btn.disabled = false;
    }
  }

  stop(): void {
    worker.postMessage({ op: 'stop', panel: this.id });
  }

  async parity(): Promise<ParityResult> {
    this.message('Running the model on both backends…');
    try {
      const r = await call<ParityResult>(this.id, this.backend(), { op: 'parity' });
      this.message(`Parity: max |GPU − CPU| = ${r.maxAbsDiff.toExponential(2)} over ${r.values} outputs (GPU: ${r.webgpuAdapter}; CPU: ${r.cpuAdapter}). float32 GPU vs float64 reference.`);
      return r;
    } catch (err) {
      this.error(err);
      throw err;
    }
  }

  async save(): Promise<SavedModel> {
    return call<SavedModel>(this.id, this.backend(), { op: 'save' });
  }
  async load(saved: SavedModel): Promise<void> {
    try {
      const r = await call<RanOn & { summary: string }>(this.id, this.backend(), { op: 'load', args: { saved } });
      this.ranOn(r);
      this.losses = [];
      this.progress(0);
      this.stats(`Loaded ${saved.spec.cell.toUpperCase()}, hidden ${saved.spec.hidden}, ${saved.spec.layers} layer(s): no training history in this session.`);
      this.queueDraw();
      this.onLoaded?.(saved);
      this.message(`Loaded a ${saved.spec.cell.toUpperCase()} model saved ${saved.savedAt} (trained on ${saved.trainedOn}).`);
    } catch (err) {
      this.error(err);
      throw err;
    }
  }
  onLoaded?: (saved: SavedModel) => void;

  private async download(): Promise<void> {
    try {
      const saved = await this.save();
      const url = URL.createObjectURL(new Blob([JSON.stringify(saved)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `webgpu-rnn-${this.id}-${saved.spec.cell}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.message(`Downloaded ${a.download}.`);
    } catch (err) {
      this.error(err);
      throw err;
    }
  }
  private key(): string {
    return `webgpu-rnn-demo:${this.id}`;
  }
  async store(): Promise<void> {
    try {
      const saved = await this.save();
      localStorage.setItem(this.key(), JSON.stringify(saved));
      this.message(`Saved in this browser (localStorage '${this.key()}').`);
    } catch (err) {
      this.error(err);
      throw err;
    }
  }
  async restore(): Promise<void> {
    const text = localStorage.getItem(this.key());
    if (!text) {
      this.message('Nothing saved in this browser for this panel yet.', 'error');
      return;
    }
    await this.load(JSON.parse(text) as SavedModel);
  }
}

// ---------------------------------------------------------------- panel 1: character model

const charPanel = new Panel('char', 'loss');
$<HTMLTextAreaElement>('#char-text').value = corpus;

function trainChar(over: Partial<TrainCharArgs> = {}): Promise<TrainResult> {
  if (over.text !== undefined) $<HTMLTextAreaElement>('#char-text').value = over.text;
  setField('char-cell', over.cell);
  setField('char-hidden', over.hidden);
  setField('char-layers', over.layers);
  setField('char-seqlen', over.seqLen);
  setField('char-lr', over.lr);
  setField('char-epochs', over.epochs);
  const args: TrainCharArgs = {
    text: $<HTMLTextAreaElement>('#char-text').value,
    cell: str('char-cell') as TrainCharArgs['cell'],
    hidden: num('char-hidden'),
    layers: num('char-layers'),
    seqLen: num('char-seqlen'),
    lr: num('char-lr'),
    epochs: num('char-epochs'),
    batchSize: over.batchSize,
    seed: over.seed,
  };
  return charPanel.train({ op: 'trainChar', args }, (r) => `accuracy ${pct(r.history.accuracy?.at(-1))} · perplexity ${r.history.perplexity?.at(-1)?.toFixed(2)}`);
}

async function generate(over: Partial<GenerateArgs> = {}): Promise<GenerateResult> {
  setField('char-prompt', over.prompt);
  setField('char-length', over.length);
  setField('char-temp', over.temperature);
  setField('char-topk', over.topK);
  const args: GenerateArgs = { prompt: str('char-prompt'), length: num('char-length'), temperature: num('char-temp'), topK: num('char-topk'), seed: over.seed };
  const out = $('#char-output');
  out.innerHTML = '';
  const promptSpan = document.createElement('span');
  promptSpan.className = 'prompt';
  promptSpan.textContent = args.prompt;
  const gen = document.createElement('span');
  out.append(promptSpan, gen);
  const btn = $<HTMLButtonElement>('#char-generate');
  btn.disabled = true;
  try {
    const r = await call<GenerateResult>('char', charPanel.backend(), { op: 'generate', args }, (e) => {
      if (e.type === 'token') gen.textContent += e.text;
    });
    charPanel.ranOn(r);
    gen.textContent = r.text;
    return r;
  } catch (err) {
    charPanel.error(err);
    throw err;
  } finally {
    btn.disabled = false;
  }
}

$('[data-train]', charPanel.el).onclick = () => void trainChar().catch(() => {});
$('#char-generate').onclick = () => void generate().catch(() => {});
$('#char-gen-stop').onclick = () => charPanel.stop();
charPanel.onLoaded = (s) => {
  setField('char-cell', s.spec.cell);
  setField('char-hidden', s.spec.hidden);
  setField('char-layers', s.spec.layers);
  setField('char-seqlen', s.spec.seqLen);
};

// ---------------------------------------------------------------- panel 2: sentiment

const sentPanel = new Panel('sentiment', 'BCE loss');
$('#sent-rows').innerHTML = REVIEWS.map(([s, v]) => `<tr><td>${s}</td><td class="${v ? 'pos' : 'neg'}">${v ? 'positive' : 'negative'}</td></tr>`).join('');

function trainSentiment(over: Partial<TrainSentimentArgs> = {}): Promise<TrainResult> {
  setField('sent-cell', over.cell);
  setField('sent-hidden', over.hidden);
  setField('sent-lr', over.lr);
  setField('sent-epochs', over.epochs);
  const args: TrainSentimentArgs = { cell: str('sent-cell') as TrainSentimentArgs['cell'], hidden: num('sent-hidden'), lr: num('sent-lr'), epochs: num('sent-epochs'), seed: over.seed };
  return sentPanel.train({ op: 'trainSentiment', args }, (r) => `training accuracy ${pct(r.history.accuracy?.at(-1))}`);
}

async function classify(text?: string): Promise<ClassifyResult> {
  setField('sent-input', text);
  const out = $('#sent-result');
  try {
    const r = await call<ClassifyResult>('sentiment', sentPanel.backend(), { op: 'classify', args: { text: str('sent-input') } });
    sentPanel.ranOn(r);
    const pos = r.probability >= 0.5;
    out.innerHTML = `<span class="${pos ? 'pos' : 'neg'}">${pos ? 'positive' : 'negative'}</span> · P(positive) = ${r.probability.toFixed(3)}
      <div class="meter"><div style="width:${(r.probability * 100).toFixed(1)}%"></div></div>
      <small>tokens: ${r.tokens.map((t) => `<code>${t.replace(/</g, '&lt;')}</code>`).join(' ')}</small>`;
    return r;
  } catch (err) {
    sentPanel.error(err);
    throw err;
  }
}

$('[data-train]', sentPanel.el).onclick = () => void trainSentiment().catch(() => {});
$('#sent-classify').onclick = () => void classify().catch(() => {});
$<HTMLInputElement>('#sent-input').onkeydown = (e) => {
  if (e.key === 'Enter') void classify().catch(() => {});
};
sentPanel.onLoaded = (s) => {
  setField('sent-cell', s.spec.cell);
  setField('sent-hidden', s.spec.hidden);
};

// ---------------------------------------------------------------- panel 3: streaming time series

const seriesPanel = new Panel('series', 'MSE loss');
let streamed: SeriesPoint[] = [];
let plotQueued = false;
const WINDOW = 200;

function drawSeries(): void {
  const pts = streamed.slice(-WINDOW);
  const x0 = pts[0]?.t ?? 0;
  drawChart(
    $<HTMLCanvasElement>('#series-plot'),
    [
      { label: 'signal', color: '#8a8f98', values: pts.map((p) => p.value), x0 },
      // the prediction made at t is for t + 1
      { label: 'prediction', color: '#d9480f', values: pts.map((p) => p.prediction), x0: x0 + 1 },
    ],
    { title: 'one step ahead', xMin: x0, xMax: x0 + WINDOW, empty: 'Train, then start streaming' },
  );
}
function queuePlot(): void {
  if (plotQueued) return;
  plotQueued = true;
  requestAnimationFrame(() => {
    plotQueued = false;
    drawSeries();
  });
}

function trainSeries(over: Partial<TrainSeriesArgs> = {}): Promise<TrainResult> {
  setField('series-cell', over.cell);
  setField('series-hidden', over.hidden);
  setField('series-seqlen', over.seqLen);
  setField('series-lr', over.lr);
  setField('series-epochs', over.epochs);
  setField('series-noise', over.noise);
  const args: TrainSeriesArgs = {
    cell: str('series-cell') as TrainSeriesArgs['cell'],
    hidden: num('series-hidden'),
    seqLen: num('series-seqlen'),
    lr: num('series-lr'),
    epochs: num('series-epochs'),
    noise: num('series-noise'),
    seed: over.seed,
  };
  streamed = [];
  queuePlot();
  return seriesPanel.train({ op: 'trainSeries', args }, () => 'now stream it');
}

async function streamSeries(steps = 1e9, delayMs = 40): Promise<StreamResult> {
  const btn = $<HTMLButtonElement>('#series-stream');
  btn.disabled = true;
  const statsEl = $('#series-stream-stats');
  let se = 0;
  let naive = 0;
  let n = 0;
  const args = { steps, delayMs, noise: num('series-noise') };
  try {
    const r = await call<StreamResult>('series', seriesPanel.backend(), { op: 'streamSeries', args }, (e) => {
      if (e.type !== 'point') return;
      const prev = streamed.at(-1);
      if (prev && prev.t === e.point.t - 1) {
        se += (prev.prediction - e.point.value) ** 2;
        naive += (prev.value - e.point.value) ** 2;
        n++;
      }
      streamed.push(e.point);
      if (streamed.length > 4 * WINDOW) streamed = streamed.slice(-WINDOW);
      if (n > 0) statsEl.textContent = `t = ${e.point.t} · one-step MSE ${(se / n).toFixed(4)} (repeat-last-value baseline ${(naive / n).toFixed(4)})`;
      queuePlot();
    });
    seriesPanel.ranOn(r);
    return r;
  } catch (err) {
    seriesPanel.error(err);
    throw err;
  } finally {
    btn.disabled = false;
  }
}

$('[data-train]', seriesPanel.el).onclick = () => void trainSeries().catch(() => {});
$('#series-stream').onclick = () => void streamSeries().catch(() => {});
$('#series-stream-stop').onclick = () => seriesPanel.stop();
seriesPanel.onLoaded = (s) => {
  setField('series-cell', s.spec.cell);
  setField('series-hidden', s.spec.hidden);
  setField('series-seqlen', s.spec.seqLen);
  streamed = [];
  queuePlot();
};
drawSeries();

// ---------------------------------------------------------------- start-up

const panels: Record<PanelId, Panel> = { char: charPanel, sentiment: sentPanel, series: seriesPanel };

const ready: Promise<ProbeResult> = call<ProbeResult>('char', 'cpu', { op: 'probe' }).then(
  (r) => {
    probed = r;
    webgpuOk = r.webgpu.ok;
    if (r.webgpu.ok) {
      setStatus(`WebGPU adapter: ${r.webgpu.adapterName}`, 'ok');
    } else {
      setStatus(`WebGPU is not available here, so the panels run on the CPU reference (float64, exact but slower). Reason: ${r.webgpu.error}`, 'warn');
      for (const p of Object.values(panels)) {
        p.setBackend('cpu');
        for (const el of p.el.querySelectorAll<HTMLInputElement>('input[value="webgpu"]')) el.disabled = true;
        $<HTMLButtonElement>('[data-parity]', p.el).disabled = true;
        $<HTMLButtonElement>('[data-parity]', p.el).title = 'Needs WebGPU';
      }
    }
    return r;
  },
  (err: unknown) => {
    setStatus(`The worker could not start: ${errText(err)}`, 'bad');
    throw err;
  },
);
ready.catch(() => {});

window.addEventListener('resize', () => {
  for (const p of Object.values(panels)) p.queueDraw();
  queuePlot();
});

// ---------------------------------------------------------------- test hooks

const demo = {
  ready,
  get probe() {
    return probed;
  },
  get webgpu() {
    return webgpuOk;
  },
  setBackend: (panel: PanelId, b: BackendName) => panels[panel].setBackend(b),
  trainChar,
  generate,
  trainSentiment,
  classify,
  trainSeries,
  streamSeries,
  stop: (panel: PanelId) => panels[panel].stop(),
  parity: (panel: PanelId) => panels[panel].parity(),
  save: (panel: PanelId) => panels[panel].save(),
  load: (panel: PanelId, saved: SavedModel) => panels[panel].load(saved),
  store: (panel: PanelId) => panels[panel].store(),
  restore: (panel: PanelId) => panels[panel].restore(),
};
export type DemoHooks = typeof demo;
declare global {
  interface Window {
    __demo?: DemoHooks;
  }
}
window.__demo = demo;
