// The demo page's thread: reads the forms, sends requests to the worker
// (worker.ts, where all training and inference run), and renders what comes
// back: progress, loss charts, generated text, the streamed time series. It
// never waits on the GPU. window.__demo exposes the same actions as the buttons
// for tests (tests/demo.test.ts).
//
// Every field is checked against fields.ts before a request is sent: a bad one
// is highlighted with its message and nothing starts. While a panel has a
// request running its CPU/GPU switch is locked (the run stays on the backend it
// started on, and "ran on" says where it runs) and its one Stop button is live.
import type { BackendName } from '../src/index';
import { benchFiles, renderBench, type BenchShown } from './bench';
import { Envelope, drawChart, type ChartDraw, type Line } from './chart';
import corpus from './corpus.txt?raw';
import { InputError, MAX_PROMPT, MAX_REVIEW, RULES, checkText, checkTrainingText, checkValue, type Rule } from './fields';
import type {
  ClassifyResult,
  Event,
  ExportFormat,
  ExportedFile,
  FileLoadResult,
  GenerateArgs,
  GenerateResult,
  GradFlowArgs,
  GradFlowResult,
  GradFlowRun,
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
import { flowRatio } from './gradflow';
import { REVIEWS } from './sentiment';

// ---------------------------------------------------------------- the worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: Event) => void }>();
/** Every request sent, in order (tests check that refused input sends none). */
const sent: { panel: PanelId; op: Op['op'] }[] = [];

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
  sent.push({ panel, op: op.op });
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
const str = (id: string) => $<HTMLInputElement | HTMLSelectElement>(`#${id}`).value;
function setField(id: string, v: string | number | undefined): void {
  if (v === undefined) return;
  const el = $<HTMLInputElement | HTMLSelectElement>(`#${id}`);
  el.value = String(v);
  el.dispatchEvent(new Event('input')); // re-checks it, as typing would
}

function setStatus(text: string, kind: 'ok' | 'warn' | 'bad'): void {
  const el = $('#gpu-status');
  el.textContent = text;
  el.className = `status ${kind}`;
}

const errText = (err: unknown) => (err instanceof Error ? `${err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}` : String(err));
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** A character as a person can read it in a message. */
const charName = (c: string) => ({ '\n': 'newline', ' ': 'space', '\t': 'tab' })[c] ?? `'${c}'`;

const pct = (v: number | undefined) => (v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const backendText = (b: BackendName) => (b === 'webgpu' ? 'GPU (WebGPU)' : 'CPU reference');

let webgpuOk = false;
let probed: ProbeResult | null = null;

// ---------------------------------------------------------------- fields

/** The rule of each number field, from fields.ts (the worker checks requests against the same table). */
const FIELDS: Record<string, Rule> = {
  'char-hidden': RULES.trainChar.hidden,
  'char-layers': RULES.trainChar.layers,
  'char-seqlen': RULES.trainChar.seqLen,
  'char-lr': RULES.trainChar.lr,
  'char-epochs': RULES.trainChar.epochs,
  'char-length': RULES.generate.length,
  'char-temp': RULES.generate.temperature,
  'char-topk': RULES.generate.topK,
  'sent-hidden': RULES.trainSentiment.hidden,
  'sent-lr': RULES.trainSentiment.lr,
  'sent-epochs': RULES.trainSentiment.epochs,
  'series-hidden': RULES.trainSeries.hidden,
  'series-seqlen': RULES.trainSeries.seqLen,
  'series-lr': RULES.trainSeries.lr,
  'series-epochs': RULES.trainSeries.epochs,
  'series-noise': RULES.trainSeries.noise,
  'grads-seqlen': RULES.gradFlow.seqLen,
  'grads-hidden': RULES.gradFlow.hidden,
  'grads-scale': RULES.gradFlow.scale,
  'grads-fbias': RULES.gradFlow.forgetBias,
  'grads-steps': RULES.gradFlow.steps,
  'grads-lr': RULES.gradFlow.lr,
  'grads-clipnorm': RULES.gradFlow.clipNorm,
};

/** Shows (or, with '', clears) a field's inline message and highlight. */
function markField(id: string, message: string): void {
  const el = $<HTMLInputElement | HTMLTextAreaElement>(`#${id}`);
  let note = document.getElementById(`${id}-error`);
  if (!note) {
    note = document.createElement('small');
    note.id = `${id}-error`;
    note.className = 'field-error';
    el.closest('label')?.append(note);
    el.setAttribute('aria-describedby', note.id);
  }
  note.textContent = message;
  el.classList.toggle('invalid', message !== '');
  if (message) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
}

/** What is wrong with a number field ('' if nothing): empty, not a number, fractional where a whole number is needed, out of range. */
function fieldProblem(id: string): string {
  const el = $<HTMLInputElement>(`#${id}`);
  const rule = FIELDS[id];
  if (el.validity.badInput) return `${rule.label} must be a number.`;
  if (el.value.trim() === '') return `${rule.label} is empty; enter ${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max}.`;
  return checkValue(rule, Number(el.value));
}

for (const [id, rule] of Object.entries(FIELDS)) {
  const el = $<HTMLInputElement>(`#${id}`);
  el.min = String(rule.min);
  el.max = String(rule.max);
  if (rule.integer) el.step = '1'; // a real keeps the page's step: it only sets the spinner's increment
  el.addEventListener('input', () => markField(id, fieldProblem(id)));
}

/**
 * Reads number fields ({ arg: field id }), marking each bad one; throws an
 * InputError naming every problem when any is bad, so nothing is sent.
 */
function readNumbers<K extends string>(fields: Record<K, string>, extra: string[] = []): Record<K, number> {
  const problems = [...extra];
  const out = {} as Record<K, number>;
  for (const [k, id] of Object.entries(fields) as [K, string][]) {
    const m = fieldProblem(id);
    markField(id, m);
    if (m) problems.push(m);
    out[k] = Number($<HTMLInputElement>(`#${id}`).value);
  }
  if (problems.length) {
    const first = Object.values<string>(fields).find((id) => $(`#${id}`).classList.contains('invalid'));
    if (first) $(`#${first}`).focus();
    throw new InputError(problems);
  }
  return out;
}

/** Checks a text field; marks it and returns its problem ('' if none). */
function textProblem(id: string, label: string, min: number, max: number): string {
  const m = checkText(label, $<HTMLInputElement | HTMLTextAreaElement>(`#${id}`).value, min, max);
  markField(id, m);
  return m;
}

// ---------------------------------------------------------------- panels

interface ChartState {
  /** Losses the chart holds. */
  n: number;
  /** Values passed to the chart per line (the smoothed line is sampled, not recomputed per step). */
  lineValues: number[];
  /** Vertices the chart stroked. */
  vertices: number;
}

/** The parts every panel has: backend switch, ran-on badge, Stop, progress, loss chart, parity, save and load. */
class Panel {
  readonly el: HTMLElement;
  /** Loss per training step, their running sums (sums[i] = losses[0] + … + losses[i − 1]) and their envelope (what is drawn). */
  private losses: number[] = [];
  private sums: number[] = [0];
  private raw = new Envelope();
  private drawQueued = false;
  /** Requests of this panel in flight (a stream and a parity check can overlap). */
  private busy = 0;
  private lastRanOn = '—';
  lastDraw: ChartState = { n: 0, lineValues: [], vertices: 0 };
  /** A trained or loaded model is in the worker. */
  hasModel = false;

  /** With modelButtons false (the gradient-flow panel, which keeps no model): only its Train (labelled `trainLabel`) and Stop. */
  constructor(
    readonly id: PanelId,
    private readonly lossLabel: string,
    opts: { modelButtons?: boolean; trainLabel?: string } = {},
  ) {
    this.el = $(`#${id}`);
    const buttons = $('[data-common]', this.el);
    buttons.innerHTML = `
      <button type="button" data-train>${opts.trainLabel ?? 'Train'}</button>
      <button type="button" class="secondary" data-stop disabled title="Ends this panel's running training, generation or stream">Stop</button>`;
    $('[data-stop]', this.el).onclick = () => this.stop();
    if (opts.modelButtons === false) return;
    buttons.innerHTML += `
      <button type="button" class="secondary" data-parity title="Run the current model on the GPU and on the CPU reference with the same weights and input">Parity at a glance</button>
      <button type="button" class="secondary" data-save>Download</button>
      <label class="button secondary">Upload<input type="file" accept=".json,application/json" data-upload hidden /></label>
      <button type="button" class="secondary" data-store>Save in browser</button>
      <button type="button" class="secondary" data-restore>Load from browser</button>`;
    $('[data-stop]', this.el).onclick = () => this.stop(); // the buttons were written again
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
  /** Sets the switch, unless a request is running (false then: the switch is locked, as for a click). */
  setBackend(b: BackendName): boolean {
    const el = $<HTMLInputElement>(`input[name="${this.id}-backend"][value="${b}"]`, this.el);
    if (el.disabled) return false;
    el.checked = true;
    return true;
  }
  get running(): boolean {
    return this.busy > 0;
  }

  /** Locks the switch and arms Stop while requests run; unlocks when the last ends. */
  private sync(): void {
    for (const el of this.el.querySelectorAll<HTMLInputElement>(`input[name="${this.id}-backend"]`)) {
      el.disabled = this.busy > 0 || (el.value === 'webgpu' && probed !== null && !webgpuOk);
    }
    $('.backend', this.el).title = this.busy > 0 ? 'Locked while a request runs: it stays on the backend it started on. Stop it or wait to switch.' : '';
    $<HTMLButtonElement>('[data-stop]', this.el).disabled = this.busy === 0;
    $('[data-ran-on]', this.el).textContent = this.busy > 0 ? `running on ${backendText(this.backend())}…` : this.lastRanOn;
  }

  /** Runs one request of this panel on the backend the switch shows now. */
  async run<T>(work: (backend: BackendName) => Promise<T>): Promise<T> {
    const backend = this.backend();
    this.busy++;
    this.sync();
    try {
      return await work(backend);
    } finally {
      this.busy--;
      this.sync();
    }
  }

  ranOn(r: RanOn): void {
    this.lastRanOn = `${backendText(r.backend)} · ${r.adapterName}`;
    if (this.busy === 0) this.sync();
  }
  message(text: string, kind: 'info' | 'warn' | 'error' = 'info'): void {
    const m = $('[data-msg]', this.el);
    m.textContent = text;
    m.className = `msg ${kind}`;
  }
  error(err: unknown): void {
    if (err instanceof InputError) this.message(`Not started: ${err.message}`, 'error');
    else this.message(errText(err), 'error');
  }
  stats(text: string): void {
    $('[data-stats]', this.el).textContent = text;
  }
  progress(frac: number): void {
    $('[data-bar]', this.el).style.transform = `scaleX(${Math.max(0, Math.min(1, frac))})`; // compositor only: no layout, no repaint
  }

  get lossValues(): readonly number[] {
    return this.losses;
  }
  envelopeValues(): readonly number[] {
    return this.raw.line().values;
  }
  clearLosses(): void {
    this.losses = [];
    this.sums = [0];
    this.raw = new Envelope();
  }
  addLoss(v: number): void {
    this.losses.push(v);
    this.raw.push(v);
    this.sums.push(this.sums[this.sums.length - 1] + (Number.isFinite(v) ? v : 0));
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
    const canvas = this.el.querySelector<HTMLCanvasElement>('[data-chart]');
    if (!canvas) return; // a panel with charts of its own
    const n = this.losses.length;
    // The raw losses as their envelope (at most 2048 values), and a trailing
    // mean over a window that grows with the run (a twentieth of it), from the
    // running sums at about two points per pixel column: a draw costs the same
    // however long the run.
    const k = Math.max(1, Math.round(n / 20));
    const lines: Line[] = [{ label: this.lossLabel, color: k > 1 ? '#9db4e8' : '#1f4fbf', ...this.raw.line(), latest: this.losses[n - 1] }];
    if (k > 1) {
      const m = Math.min(n, 2 * Math.max(100, Math.ceil(canvas.clientWidth || 300)));
      const xs: number[] = [];
      const values: number[] = [];
      for (let j = 0; j < m; j++) {
        const i = Math.round((j * (n - 1)) / (m - 1));
        const lo = Math.max(0, i - k + 1);
        xs.push(i);
        values.push((this.sums[i + 1] - this.sums[lo]) / (i + 1 - lo));
      }
      lines.push({ label: `mean of ${k}`, color: '#1f4fbf', values, xs });
    }
    const d = drawChart(canvas, lines, { title: 'per training step', empty: 'Train to see the loss fall' });
    this.lastDraw = { n, lineValues: lines.map((l) => l.values.length), vertices: d.vertices };
  }

  /**
   * Runs a training request with live progress; resolves with the result (and
   * shows it), or shows the error and rethrows. The chart and bar keep the
   * previous run until the new one reports its first step, and a failed run
   * leaves the panel's model (and its chart) as they were.
   */
  async train(op: Op, describe: (r: TrainResult) => string): Promise<TrainResult> {
    const btn = $<HTMLButtonElement>('[data-train]', this.el);
    const t0 = performance.now();
    // what the stats line says, with the time since Train was pressed (ticking
    // also while a big model's batch runs, between progress events)
    let line = 'Starting…';
    const show = () => this.stats(`${line} · ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let first = true;
    btn.disabled = true;
    this.message('');
    show();
    const ticker = setInterval(show, 250);
    try {
      const r = await this.run((backend) =>
        call<TrainResult>(this.id, backend, op, (e) => {
          if (e.type === 'status' && first) {
            line = `Starting… ${e.text}`;
            show();
          }
          if (e.type !== 'progress') return;
          if (first) {
            first = false; // the new run has begun: its chart replaces the old one
            this.clearLosses();
          }
          this.addLoss(e.loss);
          this.progress(e.step / e.total);
          const ppl = this.id === 'char' ? ` · perplexity ${Math.exp(e.loss).toFixed(2)}` : '';
          line = `step ${e.step}/${e.total} · epoch ${e.epoch + 1} · loss ${e.loss.toFixed(4)}${ppl} · ${e.stepsPerSec.toFixed(1)} steps/s · ${backend === 'webgpu' ? 'GPU' : 'CPU'}`;
          show();
          this.queueDraw();
        }),
      );
      clearInterval(ticker);
      this.hasModel = true;
      this.ranOn(r);
      if (!r.stopped) this.progress(1); // a stopped run keeps the bar where it stopped
      this.stats(`${r.stopped ? 'Stopped' : 'Done'}: ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s (${((1000 * r.steps) / r.ms).toFixed(1)} steps/s) · loss ${r.losses[0]?.toFixed(4)} → ${r.losses.at(-1)?.toFixed(4)} · ${describe(r)}`);
      this.queueDraw();
      return r;
    } catch (err) {
      clearInterval(ticker);
      this.error(err);
      this.stats(this.hasModel ? 'Training failed: the panel keeps its previous model.' : 'Training failed.');
      throw err;
    } finally {
      btn.disabled = false;
    }
  }

  /** Shows why an action is refused (bad fields) and returns the error to throw: nothing is sent. */
  refuse(err: unknown): unknown {
    this.error(err);
    return err;
  }

  stop(): void {
    worker.postMessage({ op: 'stop', panel: this.id });
  }

  async parity(): Promise<ParityResult> {
    this.message('Running the model on both backends…');
    try {
      const r = await this.run((b) => call<ParityResult>(this.id, b, { op: 'parity' }));
      this.message(`Parity: max |GPU − CPU| = ${r.maxAbsDiff.toExponential(2)} over ${r.values} outputs (GPU: ${r.webgpuAdapter}; CPU: ${r.cpuAdapter}). float32 GPU vs float64 reference.`);
      return r;
    } catch (err) {
      this.error(err);
      throw err;
    }
  }

  async save(): Promise<SavedModel> {
    return this.run((b) => call<SavedModel>(this.id, b, { op: 'save' }));
  }
  async load(saved: SavedModel): Promise<void> {
    try {
      const r = await this.run((b) => call<RanOn & { summary: string }>(this.id, b, { op: 'load', args: { saved } }));
      this.hasModel = true;
      this.ranOn(r);
      this.clearLosses();
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

async function trainChar(over: Partial<TrainCharArgs> = {}): Promise<TrainResult> {
  if (over.text !== undefined) $<HTMLTextAreaElement>('#char-text').value = over.text;
  setField('char-cell', over.cell);
  setField('char-hidden', over.hidden);
  setField('char-layers', over.layers);
  setField('char-seqlen', over.seqLen);
  setField('char-lr', over.lr);
  setField('char-epochs', over.epochs);
  let args: TrainCharArgs;
  try {
    const seqLen = fieldProblem('char-seqlen') === '' ? Number(str('char-seqlen')) : NaN;
    const text = checkTrainingText($<HTMLTextAreaElement>('#char-text').value, seqLen);
    markField('char-text', text);
    const n = readNumbers({ hidden: 'char-hidden', layers: 'char-layers', seqLen: 'char-seqlen', lr: 'char-lr', epochs: 'char-epochs' }, text ? [text] : []);
    args = { text: $<HTMLTextAreaElement>('#char-text').value, cell: str('char-cell') as TrainCharArgs['cell'], ...n, batchSize: over.batchSize, seed: over.seed };
  } catch (err) {
    throw charPanel.refuse(err);
  }
  return charPanel.train({ op: 'trainChar', args }, (r) => `accuracy ${pct(r.history.accuracy?.at(-1))} · perplexity ${r.history.perplexity?.at(-1)?.toFixed(2)}`);
}

/** Tells what of the prompt the model was fed: characters outside the training text are left out. */
function promptNote(typed: string, e: { prompt: string; dropped: string[]; noUsablePrompt: boolean }): string {
  const left = e.dropped.map(charName).join(', ');
  if (e.noUsablePrompt) {
    const from = e.prompt === '\n' ? 'a new line' : `${charName(e.prompt)} (the text's first character)`;
    return typed === '' ? `Empty prompt: the model started from ${from}.` : `No character of the prompt is in the training text (${left}), so none was used: the model started from ${from}.`;
  }
  if (e.dropped.length) return `Not in the training text, so left out of the prompt: ${left}. The model was fed '${e.prompt}'.`;
  return '';
}

async function generate(over: Partial<GenerateArgs> = {}): Promise<GenerateResult> {
  setField('char-prompt', over.prompt);
  setField('char-length', over.length);
  setField('char-temp', over.temperature);
  setField('char-topk', over.topK);
  let args: GenerateArgs;
  try {
    const p = textProblem('char-prompt', 'Prompt', 0, MAX_PROMPT);
    const n = readNumbers({ length: 'char-length', temperature: 'char-temp', topK: 'char-topk' }, p ? [p] : []);
    args = { prompt: str('char-prompt'), ...n, seed: over.seed };
  } catch (err) {
    throw charPanel.refuse(err);
  }
  const out = $('#char-output');
  const btn = $<HTMLButtonElement>('#char-generate');
  btn.disabled = true;
  charPanel.message('');
  const view: { gen?: HTMLSpanElement } = {};
  try {
    const r = await charPanel.run((backend) =>
      call<GenerateResult>('char', backend, { op: 'generate', args }, (e) => {
        if (e.type === 'prompt') {
          // the model runs: replace the old output with what it was fed, then its characters
          out.innerHTML = '';
          const used = document.createElement('span');
          used.className = 'prompt';
          used.textContent = e.noUsablePrompt ? '' : e.prompt;
          view.gen = document.createElement('span');
          out.append(used, view.gen);
          const note = promptNote(args.prompt, e);
          if (note) charPanel.message(note, 'warn');
        }
        if (e.type === 'token' && view.gen) view.gen.textContent += e.text;
      }),
    );
    charPanel.ranOn(r);
    if (view.gen) view.gen.textContent = r.text;
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
$<HTMLInputElement>('#char-prompt').onkeydown = (e) => {
  if (e.key === 'Enter' && !e.isComposing && !$<HTMLButtonElement>('#char-generate').disabled) {
    e.preventDefault();
    void generate().catch(() => {});
  }
};
charPanel.onLoaded = (s) => {
  setField('char-cell', s.spec.cell);
  setField('char-hidden', s.spec.hidden);
  setField('char-layers', s.spec.layers);
  setField('char-seqlen', s.spec.seqLen);
};

/** Offers `blob` as a download named `name`. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The cell field of each panel with model files (its value names the exported files). */
const CELL_FIELD: Partial<Record<PanelId, string>> = { char: 'char-cell', sentiment: 'sent-cell', series: 'series-cell' };

/** A panel's model as model.json + weights.bin (toLayersModel, in the worker) or one .safetensors; returns the names offered. */
async function exportModel(panelId: PanelId, format: ExportFormat): Promise<string[]> {
  const panel = panels[panelId];
  try {
    const f = await panel.run((b) => call<ExportedFile>(panelId, b, { op: 'exportFile', args: { format } }));
    const base = `webgpu-rnn-${panelId}-${$<HTMLSelectElement>(`#${CELL_FIELD[panelId]}`).value}`;
    let names: string[];
    if (f.format === 'layers') {
      // as downloadLayersModel does, here without importing the library (and its kernels) into the page:
      // model.json, then the one shard under the name its weightsManifest gives
      const { modelJSON, weightData } = f.artifacts;
      names = [`${base}.json`, modelJSON.weightsManifest[0].paths[0]];
      saveBlob(new Blob([JSON.stringify(modelJSON)], { type: 'application/json' }), names[0]);
      saveBlob(new Blob([weightData], { type: 'application/octet-stream' }), names[1]);
    } else {
      names = [`${base}.safetensors`];
      saveBlob(new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), names[0]);
    }
    panel.message(`Exported ${names.join(' and ')}.`);
    return names;
  } catch (err) {
    panel.error(err);
    throw err;
  }
}

/** Loads model.json + shards or a .safetensors into a panel (in the worker); a failure shows the library's message and keeps the model. */
async function loadModelFiles(panelId: PanelId, files: File[]): Promise<FileLoadResult> {
  const panel = panels[panelId];
  const names = files.map((f) => f.name).join(', ');
  panel.message(`Loading ${names}…`);
  try {
    const text = panelId === 'char' ? { text: $<HTMLTextAreaElement>('#char-text').value } : {}; // an .onnx's vocabulary
    const r = await panel.run((b) => call<FileLoadResult>(panelId, b, { op: 'loadFiles', args: { files, ...text } }));
    panel.hasModel = true;
    panel.ranOn(r);
    panel.clearLosses();
    panel.progress(0);
    if (r.format === 'onnx') {
      // no fields to set: the session does not say its sizes
      panel.stats(`Loaded an ONNX model: ${r.summary}. Inputs ${r.onnx!.inputNames.join(', ')}, outputs ${r.onnx!.outputNames.join(', ')}.`);
      panel.queueDraw();
      if (panelId === 'series') newSeriesModel();
      const how = r.onnx!.how ? ` ${r.onnx!.how}` : panelId === 'series' ? ' Streaming runs the session on the last 64 values at each step (it keeps no state between runs).' : '';
      panel.message(`Loaded ${names} (ONNX, run by an rt.loadOnnx session on the ${backendText(r.backend)}).${how} Export and parity need the panel's own model.`);
      return r;
    }
    const words = panelId === 'char' ? `, ${r.spec.vocab.length} characters` : '';
    panel.stats(`Loaded ${r.spec.cell.toUpperCase()}, hidden ${r.spec.hidden}, ${r.spec.layers} layer(s)${words}: no training history in this session.`);
    panel.queueDraw();
    panel.onLoaded?.({ format: 'webgpu-rnn-demo/1', spec: r.spec, weights: [], trainedOn: r.backend, savedAt: '' });
    const what = r.format === 'layers' ? 'TensorFlow.js model.json' : 'safetensors';
    const vocab = panelId === 'char' ? `; the character vocabulary came from ${r.vocabFrom === 'file' ? 'the file' : "the panel's previous model"}` : '';
    panel.message(`Loaded ${names} (${what})${vocab}.`);
    return r;
  } catch (err) {
    panel.error(err);
    throw err;
  }
}

/** Per panel: file loads started from its input so far, and the latest (tests await it). */
const fileLoads: Partial<Record<PanelId, { n: number; latest: Promise<FileLoadResult | null> }>> = {};
for (const panelId of ['char', 'sentiment', 'series'] as const) {
  const state = (fileLoads[panelId] = { n: 0, latest: Promise.resolve(null) as Promise<FileLoadResult | null> });
  const input = $<HTMLInputElement>(`#${panelId}-modelfile`);
  input.onchange = () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length === 0) return;
    state.n++;
    state.latest = loadModelFiles(panelId, files);
    state.latest.catch(() => {});
  };
  $(`#${panelId}-export-layers`).onclick = () => void exportModel(panelId, 'layers').catch(() => {});
  $(`#${panelId}-export-safetensors`).onclick = () => void exportModel(panelId, 'safetensors').catch(() => {});
}
/** How many loads a panel's file input has started, and the latest one's outcome (an Error becomes { error }). */
const fileLoadCount = (panelId: PanelId) => fileLoads[panelId]?.n ?? 0;
const fileLoadOutcome = (panelId: PanelId) =>
  (fileLoads[panelId]?.latest ?? Promise.resolve(null)).then(
    (r) => ({ ok: true as const, result: r }),
    (e: unknown) => ({ ok: false as const, error: errText(e) }),
  );

// ---------------------------------------------------------------- panel 2: sentiment

const sentPanel = new Panel('sentiment', 'BCE loss');
$('#sent-rows').innerHTML = REVIEWS.map(([s, v]) => `<tr><td>${s}</td><td class="${v ? 'pos' : 'neg'}">${v ? 'positive' : 'negative'}</td></tr>`).join('');

async function trainSentiment(over: Partial<TrainSentimentArgs> = {}): Promise<TrainResult> {
  setField('sent-cell', over.cell);
  setField('sent-hidden', over.hidden);
  setField('sent-lr', over.lr);
  setField('sent-epochs', over.epochs);
  let args: TrainSentimentArgs;
  try {
    args = { cell: str('sent-cell') as TrainSentimentArgs['cell'], ...readNumbers({ hidden: 'sent-hidden', lr: 'sent-lr', epochs: 'sent-epochs' }), seed: over.seed };
  } catch (err) {
    throw sentPanel.refuse(err);
  }
  return sentPanel.train({ op: 'trainSentiment', args }, (r) => `training accuracy ${pct(r.history.accuracy?.at(-1))}`);
}

async function classify(text?: string): Promise<ClassifyResult> {
  if (text !== undefined) $<HTMLInputElement>('#sent-input').value = text;
  const out = $('#sent-result');
  try {
    const p = checkText('Review', str('sent-input'), 0, MAX_REVIEW);
    if (p) throw new InputError([p]);
  } catch (err) {
    throw sentPanel.refuse(err);
  }
  try {
    const r = await sentPanel.run((b) => call<ClassifyResult>('sentiment', b, { op: 'classify', args: { text: str('sent-input') } }));
    sentPanel.ranOn(r);
    sentPanel.message('');
    const notes = [
      r.unknown.length ? `not in the training reviews (read as <code>&lt;oov&gt;</code>): ${r.unknown.map((w) => `<code>${esc(w)}</code>`).join(' ')}` : '',
      r.ignored ? `ignored (not part of a word): <code>${esc(r.ignored)}</code>` : '',
    ].filter(Boolean);
    const details = notes.length ? `<small>${notes.join(' · ')}</small>` : '';
    if (r.probability === null) {
      out.innerHTML = `<span class="unknown">No known words</span> · not classified: the model knows only the words of its training reviews, and this review has none of them${r.tokens.length ? '' : ' (no words at all)'}.${details}`;
    } else {
      const pos = r.probability >= 0.5;
      out.innerHTML = `<span class="${pos ? 'pos' : 'neg'}">${pos ? 'positive' : 'negative'}</span> · P(positive) = ${r.probability.toFixed(3)}
        <div class="meter"><div style="width:${(r.probability * 100).toFixed(1)}%"></div></div>
        <small>tokens: ${r.tokens.map((t) => `<code>${esc(t)}</code>`).join(' ')}</small>${details}`;
    }
    return r;
  } catch (err) {
    sentPanel.error(err);
    throw err;
  }
}

$('[data-train]', sentPanel.el).onclick = () => void trainSentiment().catch(() => {});
$('#sent-classify').onclick = () => void classify().catch(() => {});
$<HTMLInputElement>('#sent-input').onkeydown = (e) => {
  if (e.key === 'Enter' && !e.isComposing) void classify().catch(() => {});
};
sentPanel.onLoaded = (s) => {
  setField('sent-cell', s.spec.cell);
  setField('sent-hidden', s.spec.hidden);
};

// ---------------------------------------------------------------- panel 3: streaming time series

const seriesPanel = new Panel('series', 'MSE loss');
/** Points of the current model's stream; a retrained or loaded model starts a fresh plot. */
let streamed: SeriesPoint[] = [];
/** Which stream request may add points (events of an older stream are ignored). */
let streamToken = 0;
let streaming = false;
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
/** A new model: the plot drops the old one's points, and its stream's late events. */
function newSeriesModel(): void {
  streamToken++;
  streamed = [];
  $('#series-stream-stats').textContent = 'Trained: start streaming.';
  queuePlot();
}

async function trainSeries(over: Partial<TrainSeriesArgs> = {}): Promise<TrainResult> {
  setField('series-cell', over.cell);
  setField('series-hidden', over.hidden);
  setField('series-seqlen', over.seqLen);
  setField('series-lr', over.lr);
  setField('series-epochs', over.epochs);
  setField('series-noise', over.noise);
  let args: TrainSeriesArgs;
  try {
    const n = readNumbers({ hidden: 'series-hidden', seqLen: 'series-seqlen', lr: 'series-lr', epochs: 'series-epochs', noise: 'series-noise' });
    args = { cell: str('series-cell') as TrainSeriesArgs['cell'], ...n, seed: over.seed };
  } catch (err) {
    throw seriesPanel.refuse(err);
  }
  // the worker ends a running stream before it trains (the new model replaces the streaming one)
  const wasStreaming = streaming;
  const r = await seriesPanel.train({ op: 'trainSeries', args }, () => 'now stream it');
  newSeriesModel();
  if (wasStreaming) seriesPanel.message('The stream was stopped to train a new model; start streaming again to see it.');
  return r;
}

async function streamSeries(steps = 1e9, delayMs = 40): Promise<StreamResult> {
  const btn = $<HTMLButtonElement>('#series-stream');
  const statsEl = $('#series-stream-stats');
  let noise: number;
  try {
    noise = readNumbers({ noise: 'series-noise' }).noise;
  } catch (err) {
    throw seriesPanel.refuse(err);
  }
  btn.disabled = true;
  streaming = true;
  const token = ++streamToken;
  let se = 0;
  let naive = 0;
  let n = 0;
  try {
    const r = await seriesPanel.run((b) =>
      call<StreamResult>('series', b, { op: 'streamSeries', args: { steps, delayMs, noise } }, (e) => {
        if (e.type !== 'point' || token !== streamToken) return;
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
      }),
    );
    seriesPanel.ranOn(r);
    return r;
  } catch (err) {
    seriesPanel.error(err);
    throw err;
  } finally {
    if (token === streamToken) streaming = false;
    btn.disabled = false;
  }
}

$('[data-train]', seriesPanel.el).onclick = () => void trainSeries().catch(() => {});
$('#series-stream').onclick = () => void streamSeries().catch(() => {});
seriesPanel.onLoaded = (s) => {
  setField('series-cell', s.spec.cell);
  setField('series-hidden', s.spec.hidden);
  setField('series-seqlen', s.spec.seqLen);
  newSeriesModel();
};
drawSeries();

// ---------------------------------------------------------------- panel 4: gradient flow through time

const gradsPanel = new Panel('grads', '', { modelButtons: false, trainLabel: 'Run' });
const CELL_NAMES: Record<GradFlowArgs['cells'][number], string> = { rnn: 'SimpleRNN', gru: 'GRU', lstm: 'LSTM' };
const CELL_COLORS: Record<GradFlowArgs['cells'][number], string> = { rnn: '#c2341b', gru: '#1a7f37', lstm: '#1f4fbf' };
const CLIPPED_DASH = [6, 4];
let gradsShown: GradFlowResult | null = null;
let gradCharts: Record<string, ChartDraw> = {};

const scaleInput = $<HTMLInputElement>('#grads-scale');
const showScale = () => ($('#grads-scale-value').textContent = `${Number(scaleInput.value).toFixed(1)}×`);
scaleInput.addEventListener('input', showScale);
showScale();

/** The last profile of a run whose every value is finite, and its pass (a diverged run's last ones are not). */
function lastFinite(run: GradFlowRun): { profile: number[]; pass: number } | null {
  for (let k = run.profiles.length - 1; k >= 0; k--) if (run.profiles[k].every(Number.isFinite)) return { profile: run.profiles[k], pass: k };
  return null;
}
const sci = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));

function drawGrads(r: GradFlowResult): void {
  const T = r.args.seqLen;
  const xLabel = `step t (the loss is at t = ${T - 1})`;
  const start: Line[] = r.cells.map((c) => ({ label: `${CELL_NAMES[c.cell]} · ‖∂L/∂h₀‖ / ‖∂L/∂h${T - 1}‖ = ${sci(flowRatio(c.noClip.profiles[0]))}`, color: CELL_COLORS[c.cell], values: c.noClip.profiles[0], latest: NaN }));
  const end: Line[] = [];
  const loss: Line[] = [];
  for (const c of r.cells) {
    for (const [run, clipped] of [[c.noClip, false], [c.clipped, true]] as const) {
      if (!run) continue;
      const last = lastFinite(run);
      const how = clipped ? `clipped at ${r.args.clipNorm}` : 'no clipping';
      const dash = clipped ? CLIPPED_DASH : undefined;
      // a saturated tanh passes back exactly 0 (in float32 too): a gap on the log axis, said in the legend
      const zeros = last ? last.profile.filter((v) => v === 0).length : 0;
      const tail = `${run.diverged ? ` (diverged: pass ${last?.pass ?? '—'})` : ''}${zeros ? ` (0 at ${zeros} of ${T} steps)` : ''}`;
      if (last) end.push({ label: `${CELL_NAMES[c.cell]}, ${how}${tail}`, color: CELL_COLORS[c.cell], values: last.profile, latest: NaN, dash });
      loss.push({ label: `${CELL_NAMES[c.cell]}, ${how}`, color: CELL_COLORS[c.cell], values: run.losses, dash });
    }
  }
  gradCharts = {
    'grads-start': drawChart($<HTMLCanvasElement>('#grads-start'), start, { logY: true, xLabel, title: '‖∂L/∂h_t‖ before training, log scale', empty: 'Run to see ‖∂L/∂h_t‖ for each cell' }),
    'grads-end': drawChart($<HTMLCanvasElement>('#grads-end'), end, { logY: true, xLabel, title: `after ${r.args.steps} SGD steps (a diverged run: its last finite pass)`, empty: 'Training steps: 0' }),
    'grads-loss': drawChart($<HTMLCanvasElement>('#grads-loss'), loss, { logY: true, xLabel: 'SGD step', title: 'loss (MSE), log scale', empty: '' }),
  };
  const row = (c: GradFlowResult['cells'][number], run: GradFlowRun | null, how: string) => {
    if (!run) return '';
    const last = lastFinite(run);
    return `<tr><th scope="row">${CELL_NAMES[c.cell]}</th><td>${how}</td><td>${sci(flowRatio(run.profiles[0]))}</td><td>${last ? sci(flowRatio(last.profile)) : '—'}</td>
      <td>${run.losses[0].toFixed(3)} → ${sci(run.losses.at(-1)!)}</td><td>${run.gradNorms.length ? sci(Math.max(...run.gradNorms)) : '—'}</td></tr>`;
  };
  $('#grads-table').innerHTML = `<thead><tr><th>cell</th><th>training</th><th title="‖∂L/∂h₀‖ / ‖∂L/∂h${T - 1}‖">h₀/h${T - 1} at start</th><th>at end</th><th>loss</th><th title="the global norm of the weight gradients, before clipping">max ‖grad‖</th></tr></thead>
    <tbody>${r.cells.map((c) => row(c, c.noClip, 'no clipping') + row(c, c.clipped, `clipped at ${r.args.clipNorm}`)).join('')}</tbody>`;
}

/** Runs the gradient-flow experiment with the panel's fields (tests pass some of them). */
async function gradFlow(over: Partial<GradFlowArgs> = {}): Promise<GradFlowResult> {
  if (over.cells) for (const c of ['rnn', 'gru', 'lstm'] as const) $<HTMLInputElement>(`#grads-${c}`).checked = over.cells.includes(c);
  if (over.clip !== undefined) $<HTMLInputElement>('#grads-clip').checked = over.clip;
  setField('grads-seqlen', over.seqLen);
  setField('grads-hidden', over.hidden);
  setField('grads-scale', over.scale);
  setField('grads-fbias', over.forgetBias);
  setField('grads-steps', over.steps);
  setField('grads-lr', over.lr);
  setField('grads-clipnorm', over.clipNorm);
  let args: GradFlowArgs;
  try {
    const cells = (['rnn', 'gru', 'lstm'] as const).filter((c) => $<HTMLInputElement>(`#grads-${c}`).checked);
    const n = readNumbers(
      { seqLen: 'grads-seqlen', hidden: 'grads-hidden', scale: 'grads-scale', forgetBias: 'grads-fbias', steps: 'grads-steps', lr: 'grads-lr', clipNorm: 'grads-clipnorm' },
      cells.length ? [] : ['Choose at least one cell.'],
    );
    args = { cells, ...n, clip: $<HTMLInputElement>('#grads-clip').checked, seed: over.seed };
  } catch (err) {
    throw gradsPanel.refuse(err);
  }
  const btn = $<HTMLButtonElement>('[data-train]', gradsPanel.el);
  btn.disabled = true;
  gradsPanel.message('');
  gradsPanel.stats('Starting…');
  try {
    const r = await gradsPanel.run((backend) =>
      call<GradFlowResult>('grads', backend, { op: 'gradFlow', args }, (e) => {
        if (e.type === 'status') gradsPanel.stats(`Starting… ${e.text}`);
        if (e.type !== 'progress') return;
        gradsPanel.progress(e.step / e.total);
        gradsPanel.stats(`backward pass ${e.step}/${e.total} · ${e.stepsPerSec.toFixed(1)} passes/s · ${backend === 'webgpu' ? 'GPU' : 'CPU'}`);
      }),
    );
    gradsPanel.ranOn(r);
    if (!r.stopped) gradsPanel.progress(1);
    const passes = r.cells.reduce((n, c) => n + c.noClip.profiles.length + (c.clipped?.profiles.length ?? 0), 0);
    gradsPanel.stats(`${r.stopped ? 'Stopped' : 'Done'}: ${passes} backward passes of ${r.batch} sequences × ${r.args.seqLen} steps, hidden ${r.args.hidden}, W_hh × ${r.args.scale}, LSTM forget bias ${r.args.forgetBias}`);
    gradsShown = r;
    drawGrads(r);
    const diverged = r.cells.flatMap((c) => [c.noClip.diverged ? `${CELL_NAMES[c.cell]} without clipping: ${c.noClip.diverged}` : '', c.clipped?.diverged ? `${CELL_NAMES[c.cell]} clipped: ${c.clipped.diverged}` : '']).filter(Boolean);
    if (diverged.length) gradsPanel.message(`Diverged — ${diverged.join('; ')}.`, 'warn');
    return r;
  } catch (err) {
    gradsPanel.error(err);
    gradsPanel.stats(gradsShown ? 'Failed: the charts show the previous run.' : 'Failed.');
    throw err;
  } finally {
    btn.disabled = false;
  }
}

$('[data-train]', gradsPanel.el).onclick = () => void gradFlow().catch(() => {});
gradCharts = {
  'grads-start': drawChart($<HTMLCanvasElement>('#grads-start'), [], { logY: true, empty: 'Run to see ‖∂L/∂h_t‖ against t for each cell' }),
};

// ---------------------------------------------------------------- benchmark results

let benchShown: Promise<BenchShown> | null = null;
/** Renders the committed results the first time the section opens. */
function showBench(): Promise<BenchShown> {
  const details = $<HTMLDetailsElement>('#bench-details');
  details.open = true;
  benchShown ??= renderBench($('#bench-body')).catch((err: unknown) => {
    $('#bench-body').textContent = `Could not show the results: ${errText(err)}`;
    benchShown = null;
    throw err;
  });
  return benchShown;
}
$<HTMLDetailsElement>('#bench-details').addEventListener('toggle', (e) => {
  if ((e.target as HTMLDetailsElement).open) void showBench().catch(() => {});
});
$('#bench-link').onclick = () => void showBench().catch(() => {}); // then the browser scrolls to #bench

// ---------------------------------------------------------------- start-up

const panels: Record<PanelId, Panel> = { char: charPanel, sentiment: sentPanel, series: seriesPanel, grads: gradsPanel };

const ready: Promise<ProbeResult> = call<ProbeResult>('char', 'cpu', { op: 'probe' }).then(
  (r) => {
    probed = r;
    webgpuOk = r.webgpu.ok;
    if (r.webgpu.ok && r.webgpu.fallback) {
      setStatus(
        `WebGPU adapter: ${r.webgpu.adapterName} — a fallback adapter that emulates a GPU on the CPU, not a real GPU (${r.webgpu.why}). It all works, slowly: GPU timings here measure the emulation, and the CPU reference is often faster.`,
        'warn',
      );
    } else if (r.webgpu.ok) {
      setStatus(`WebGPU adapter: ${r.webgpu.adapterName}`, 'ok');
    } else {
      setStatus(`WebGPU is not available here, so the panels run on the CPU reference (float64, exact but slower). Reason: ${r.webgpu.error}`, 'warn');
      for (const p of Object.values(panels)) {
        p.setBackend('cpu');
        for (const el of p.el.querySelectorAll<HTMLInputElement>('input[value="webgpu"]')) el.disabled = true;
        const parity = p.el.querySelector<HTMLButtonElement>('[data-parity]');
        if (parity) [parity.disabled, parity.title] = [true, 'Needs WebGPU'];
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
  if (gradsShown) drawGrads(gradsShown);
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
  /** Sets a panel's switch; false (unchanged) while the panel runs a request. */
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
  exportModel,
  loadModelFiles,
  fileLoads: fileLoadCount,
  fileLoad: fileLoadOutcome,
  /** The character panel's, as before. */
  exportCharModel: (format: ExportFormat) => exportModel('char', format),
  loadCharFiles: (files: File[]) => loadModelFiles('char', files),
  charFileLoads: () => fileLoadCount('char'),
  charFileLoad: () => fileLoadOutcome('char'),
  store: (panel: PanelId) => panels[panel].store(),
  restore: (panel: PanelId) => panels[panel].restore(),
  bench: showBench,
  benchFiles,
  /** Requests sent so far: how many, and the last few. */
  sent: () => ({ count: sent.length, last: sent.slice(-5) }),
  /** A request sent as is, past the page's checks (the worker checks it again). */
  request: <T>(panel: PanelId, backend: BackendName, op: Op) => call<T>(panel, backend, op),
  running: (panel: PanelId) => panels[panel].running,
  losses: (panel: PanelId) => panels[panel].lossValues.length,
  chart: (panel: PanelId) => panels[panel].lastDraw,
  streamed: () => streamed.map((p) => p.t),
  gradFlow,
  /** What the gradient-flow panel's three charts drew last (legends, y labels), by canvas id. */
  gradCharts: () => gradCharts,
  /**
   * Draws a loss chart of n synthetic steps at once (as after a run of n steps)
   * and returns what the draw did and how long it took; the panel's own losses
   * come back afterwards.
   */
  chartStress: (panel: PanelId, n: number) => {
    const p = panels[panel];
    const own = [...p.lossValues];
    p.clearLosses();
    const spike = Math.floor(n * 0.37); // one outlier each way, which the chart must still show
    const dip = Math.floor(n * 0.71);
    for (let i = 0; i < n; i++) p.addLoss(i === spike ? 5 : i === dip ? -1 : 2 * Math.exp(-i / (n / 5)) + 0.1 * Math.sin(i));
    const t0 = performance.now();
    p.draw();
    const ms = performance.now() - t0;
    const state = p.lastDraw;
    // the envelope keeps the extremes: its lowest and highest value are the data's
    const env = { lo: Infinity, hi: -Infinity };
    for (const v of p.envelopeValues()) [env.lo, env.hi] = [Math.min(env.lo, v), Math.max(env.hi, v)];
    const data = { lo: Infinity, hi: -Infinity };
    for (const v of p.lossValues) [data.lo, data.hi] = [Math.min(data.lo, v), Math.max(data.hi, v)];
    p.clearLosses();
    for (const v of own) p.addLoss(v);
    p.draw();
    return { ...state, ms, width: $<HTMLCanvasElement>('[data-chart]', p.el).clientWidth, extremesKept: env.lo === data.lo && env.hi === data.hi };
  },
};
export type DemoHooks = typeof demo;
declare global {
  interface Window {
    __demo?: DemoHooks;
  }
}
window.__demo = demo;
