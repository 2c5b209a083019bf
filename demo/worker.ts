// The demo's worker: every training and inference call runs here, through the
// public API only, so the page's thread never waits on the GPU (or on the CPU
// reference's loops). See protocol.ts for the messages.
//
// Each panel owns one model on one runtime. A request names the backend to run
// on; if the panel's model lives on the other one, its weights are moved over
// first (syncWeights → torchStateDict → loadTorchStateDict). Every request is
// checked against fields.ts's limits before it touches anything, and training
// builds a new model that replaces the panel's only when it succeeds: a failed
// request leaves the panel's model as it was.
//
// Requests of one panel run in order; 'stop' is handled at once. A stream runs
// in the background once started: requests that only read the model (parity,
// save) run beside it, and any other request of that panel first stops it and
// waits for it to end, so nothing waits behind an endless stream.
import {
  Adam,
  createRuntime,
  parseSafetensors,
  safetensorsMetadata,
  toLayersModel,
  toSafetensors,
  type BackendName,
  ShapeError,
  type LayersModelJSON,
  type OnnxFeed,
  type OnnxSession,
  type Dense,
  type Embedding,
  type Recurrent,
  type RecurrentStream,
  type Runtime,
  type Sequential,
} from '../src/index';
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
  ModelSpec,
  PanelId,
  ParityResult,
  ProbeResult,
  Reply,
  Request,
  SavedModel,
  SeriesPoint,
  StopRequest,
  StreamResult,
  StreamSeriesArgs,
  TrainCharArgs,
  TrainResult,
  TrainSentimentArgs,
  TrainSeriesArgs,
} from './protocol';
import { SPEC_KEY } from './protocol';
import { InputError, MAX_PROMPT, MAX_REVIEW, RULES, checkArgs, checkText, checkTrainingText } from './fields';
import { GRAD_BATCH, gradFlow } from './gradflow';
import { OOV, REVIEWS, buildVocab, encode, ignoredChars, tokenize, words } from './sentiment';

// ---------------------------------------------------------------- runtimes

const runtimes: Partial<Record<BackendName, Promise<Runtime>>> = {};

function runtime(backend: BackendName): Promise<Runtime> {
  const p = (runtimes[backend] ??= createRuntime({ backend }));
  p.catch(() => delete runtimes[backend]); // try again next time (e.g. a lost device)
  return p;
}

/** Names of adapters that emulate a GPU on the CPU (Chromium's SwiftShader, Mesa's llvmpipe/lavapipe, Windows' WARP). */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b|software/i;

/** Whether the adapter the runtime reports is a CPU emulation: the browser's isFallbackAdapter flag, or its name. */
async function fallbackAdapter(adapterName: string): Promise<{ fallback: boolean; why: string }> {
  let flagged = false;
  try {
    flagged = !!(await navigator.gpu?.requestAdapter())?.info?.isFallbackAdapter; // the same default adapter the runtime took
  } catch {
    // no second adapter: the name decides
  }
  const m = SOFTWARE_ADAPTER.exec(adapterName);
  const why = [flagged ? 'the browser flags it isFallbackAdapter' : '', m ? `'${m[0]}' in its name` : ''].filter(Boolean).join('; ');
  return { fallback: why !== '', why };
}

async function probe(): Promise<ProbeResult> {
  const cpu = await runtime('cpu');
  try {
    const gpu = await runtime('webgpu');
    return { webgpu: { ok: true, adapterName: gpu.adapterName, ...(await fallbackAdapter(gpu.adapterName)) }, cpu: { ok: true, adapterName: cpu.adapterName } };
  } catch (err) {
    return { webgpu: { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, cpu: { ok: true, adapterName: cpu.adapterName } };
  }
}

// ---------------------------------------------------------------- models

interface PanelModel {
  spec: ModelSpec;
  rt: Runtime;
  model: Sequential;
  emb: Embedding | null;
  rnn: Recurrent;
  head: Dense;
  /** Series panel: the stream kept between streamSeries calls, and where the signal is. */
  stream?: RecurrentStream;
  t?: number;
}

const panels: Partial<Record<PanelId, PanelModel>> = {};

/**
 * A panel whose model came from an .onnx file: the session (on one runtime; a
 * request for the other backend loads the bytes there), for the series panel
 * the values streamed so far (the session keeps no state: each step runs it
 * over the last ONNX_WINDOW values), and for the character panel how its
 * inputs and outputs were matched (CharOnnxPlan) and the vocabulary its logits
 * stand for. Such a panel has no PanelModel.
 */
interface OnnxModel {
  session: OnnxSession;
  bytes: Uint8Array;
  name: string;
  t: number;
  window: number[];
  char?: { plan: CharOnnxPlan; vocab: string[] };
}

/**
 * How the character panel runs an ONNX model: the ids input (1, T) and the
 * logits output (1, T, V), and the recurrent state it carries from one run to
 * the next: each state input (h first, then c for an LSTM), all of dims
 * (L, 1, H), fed with the output that continues it. No state inputs: every
 * generated character re-runs the session over the last ONNX_WINDOW characters.
 */
interface CharOnnxPlan {
  ids: string;
  logits: string;
  state: { input: string; output: string }[];
  /** (L, 1, H) of every state input; [] without state. */
  dims: number[];
}
const onnxModels: Partial<Record<PanelId, OnnxModel>> = {};
const ONNX_WINDOW = 64;

function dropOnnx(panel: PanelId): void {
  onnxModels[panel]?.session.dispose();
  delete onnxModels[panel];
}

/** The panel's ONNX model with its session on `backend` (loaded there from the file's bytes if needed). */
async function onnxOn(o: OnnxModel, backend: BackendName): Promise<OnnxModel> {
  if (o.session.backend !== backend) {
    const s = await (await runtime(backend)).loadOnnx(o.bytes);
    o.session.dispose();
    o.session = s;
  }
  return o;
}

/** The panel's own model (trained or loaded from model.json/.safetensors), for what an ONNX session cannot do. */
function own(panel: PanelId, what: string): PanelModel {
  const p = panels[panel];
  if (p) return p;
  const o = onnxModels[panel];
  if (o) throw new Error(`${panel}: the panel runs the ONNX model ${o.name} (an rt.loadOnnx session, whose weights the demo cannot read); ${what} needs the panel's own model: train one, or load a model.json or .safetensors.`);
  throw new Error(`${panel}: train a model first (or load one).`);
}
const stopFlags: Record<PanelId, boolean> = { char: false, sentiment: false, series: false, grads: false };

function build(rt: Runtime, spec: ModelSpec): PanelModel {
  const emb = spec.vocabSize ? rt.embedding({ vocabSize: spec.vocabSize, dim: spec.embDim ?? 8, seed: spec.seed }) : null;
  const opts = { inputSize: spec.inputSize, hiddenSize: spec.hidden, numLayers: spec.layers, returnSequences: spec.returnSequences, seed: spec.seed + 1 };
  const rnn = spec.cell === 'lstm' ? rt.lstm(opts) : spec.cell === 'gru' ? rt.gru(opts) : rt.simpleRNN(opts);
  const head = rt.dense({ inputSize: spec.hidden, units: spec.units, activation: spec.activation, seed: spec.seed + 2 });
  const model = rt.sequential(emb ? [emb, rnn, head] : [rnn, head]);
  return { spec, rt, model, emb, rnn, head };
}

function dispose(p: PanelModel | undefined): void {
  p?.stream?.dispose();
  p?.model.dispose();
}

/**
 * Builds a new model for the panel and runs `work` on it (training); the new
 * model replaces the panel's only if `work` succeeds (a stopped run counts: it
 * keeps what it learnt). On failure the new model is freed and the panel keeps
 * the model it had.
 */
async function replaceWith<T>(panel: PanelId, backend: BackendName, spec: ModelSpec, work: (q: PanelModel) => Promise<T>): Promise<T> {
  const q = build(await runtime(backend), spec);
  let r: T;
  try {
    r = await work(q);
  } catch (err) {
    dispose(q);
    throw err;
  }
  dispose(panels[panel]);
  dropOnnx(panel);
  panels[panel] = q;
  return r;
}

async function exportWeights(p: PanelModel): Promise<SavedModel['weights']> {
  await p.model.syncWeights();
  return p.model.layers.map((l) => {
    const sd = (l as Embedding | Recurrent | Dense).torchStateDict() as Record<string, { data: Float32Array; shape: number[] }>;
    return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, { shape: [...v.shape], data: Array.from(v.data) }]));
  });
}

function importWeights(p: PanelModel, weights: SavedModel['weights']): void {
  if (weights.length !== p.model.layers.length) throw new Error(`load: the file has weights for ${weights.length} layers, the model has ${p.model.layers.length}.`);
  p.model.layers.forEach((l, i) => {
    const sd = Object.fromEntries(Object.entries(weights[i]).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
    if (l.kind === 'Embedding') (l as Embedding).loadTorchStateDict(sd as { weight: { data: Float32Array; shape: number[] } });
    else if (l.kind === 'Dense') (l as Dense).loadTorchStateDict(sd as { weight: { data: Float32Array; shape: number[] }; bias: { data: Float32Array; shape: number[] } });
    else (l as Recurrent).loadTorchStateDict(sd);
  });
}

/** The panel's trained model on `backend`, moving its weights there if needed. */
async function on(panel: PanelId, backend: BackendName): Promise<PanelModel> {
  const p = panels[panel];
  if (!p) throw new Error(`${panel}: train a model first (or load one).`);
  if (p.rt.backend === backend) return p;
  const q = build(await runtime(backend), p.spec);
  importWeights(q, await exportWeights(p));
  q.t = p.t;
  dispose(p);
  panels[panel] = q;
  return q;
}

const ranOn = (rt: Runtime) => ({ backend: rt.backend, adapterName: rt.adapterName });
const post = (m: Event | Reply) => self.postMessage(m);
/** Lets queued messages (a Stop) in, also on the CPU backend whose awaits never leave the microtask queue. */
const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0));

// ---------------------------------------------------------------- training

async function train(
  id: number,
  panel: PanelId,
  p: PanelModel,
  data: { x: number[]; y: number[]; seqLen: number; lengths?: number[] },
  o: { loss: 'softmaxCrossEntropy' | 'bce' | 'mse'; lr: number; epochs: number; batchSize: number; metrics: ('accuracy' | 'perplexity')[] },
): Promise<TrainResult> {
  const n = data.lengths?.length ?? (data.x.length / data.seqLen) / (p.emb ? 1 : p.spec.inputSize);
  const perEpoch = Math.ceil(n / o.batchSize);
  const total = perEpoch * o.epochs;
  const opt = new Adam(p.model.parameters(), { lr: o.lr });
  const losses: number[] = [];
  const t0 = performance.now();
  stopFlags[panel] = false;
  const params = p.model.parameters().reduce((a, q) => a + q.size, 0);
  const where = p.rt.backend === 'webgpu' ? 'on the GPU; the first batch also compiles its kernels' : 'on the CPU reference';
  post({ type: 'status', id, panel, text: `${params.toLocaleString('en-US')} parameters · first of ${total} batches (${Math.min(n, o.batchSize)} sequences × ${data.seqLen} steps) running ${where}` });
  try {
    const hist = await p.model.fit(data, {
      loss: o.loss,
      optimizer: opt,
      epochs: o.epochs,
      batchSize: o.batchSize,
      metrics: o.metrics,
      clipNorm: 5,
      seed: p.spec.seed,
      onBatchEnd: async ({ epoch, batch, loss }) => {
        losses.push(loss);
        const step = epoch * perEpoch + batch + 1;
        post({ type: 'progress', id, panel, step, total, epoch, loss, stepsPerSec: (1000 * losses.length) / (performance.now() - t0) });
        await yieldToEvents();
        if (stopFlags[panel]) p.model.stopTraining = true;
      },
    });
    return { ...ranOn(p.rt), losses, history: hist.history, steps: losses.length, ms: performance.now() - t0, stopped: hist.stopped, summary: p.model.summary() };
  } finally {
    opt.dispose();
  }
}

async function trainChar(id: number, backend: BackendName, a: TrainCharArgs): Promise<TrainResult> {
  const text = a.text;
  const vocab = [...new Set(text)].sort();
  const T = a.seqLen;
  if (text.length < T + 1) throw new Error(`The text has ${text.length} characters; it needs at least sequence length + 1 = ${T + 1}.`);
  const ids = [...text].map((c) => vocab.indexOf(c));
  const x: number[] = [];
  const y: number[] = [];
  // windows of T characters, half-overlapping, each labelled with the next characters
  for (let s = 0; s + T < ids.length; s += Math.max(1, Math.floor(T / 2))) {
    x.push(...ids.slice(s, s + T));
    y.push(...ids.slice(s + 1, s + T + 1));
  }
  const embDim = Math.min(16, Math.max(4, Math.ceil(vocab.length / 2)));
  const spec: ModelSpec = { panel: 'char', cell: a.cell, vocabSize: vocab.length, embDim, inputSize: embDim, hidden: a.hidden, layers: a.layers, returnSequences: true, units: vocab.length, activation: 'none', vocab, seqLen: T, seed: a.seed ?? 1 };
  return replaceWith('char', backend, spec, (p) =>
    train(id, 'char', p, { x, y, seqLen: T }, { loss: 'softmaxCrossEntropy', lr: a.lr, epochs: a.epochs, batchSize: a.batchSize ?? 16, metrics: ['accuracy', 'perplexity'] }),
  );
}

async function trainSentiment(id: number, backend: BackendName, a: TrainSentimentArgs): Promise<TrainResult> {
  const vocab = buildVocab(REVIEWS);
  const d = encode(vocab, REVIEWS);
  const spec: ModelSpec = { panel: 'sentiment', cell: a.cell, vocabSize: vocab.length, embDim: 8, inputSize: 8, hidden: a.hidden, layers: 1, returnSequences: false, units: 1, activation: 'sigmoid', vocab, seqLen: d.seqLen, seed: a.seed ?? 5 };
  return replaceWith('sentiment', backend, spec, (p) => train(id, 'sentiment', p, d, { loss: 'bce', lr: a.lr, epochs: a.epochs, batchSize: REVIEWS.length, metrics: ['accuracy'] }));
}

// ---------------------------------------------------------------- time series

/** The signal: a sine of period 20 steps plus Gaussian noise (seeded by t, so it is the same on both backends). */
function signal(t: number, noise: number): number {
  const r = mulberry32(t * 7919 + 17);
  const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.sin((2 * Math.PI * t) / 20) + noise * g;
}

function seriesWindows(T: number, count: number, noise: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let w = 0; w < count; w++) {
    const s = w * 7; // windows start at different phases
    for (let t = 0; t < T; t++) {
      x.push(signal(s + t, noise));
      y.push(signal(s + t + 1, noise));
    }
  }
  return { x, y };
}

async function trainSeries(id: number, backend: BackendName, a: TrainSeriesArgs): Promise<TrainResult> {
  const spec: ModelSpec = { panel: 'series', cell: a.cell, inputSize: 1, hidden: a.hidden, layers: 1, returnSequences: true, units: 1, activation: 'none', vocab: [], seqLen: a.seqLen, seed: a.seed ?? 9 };
  const d = seriesWindows(a.seqLen, 16, a.noise);
  return replaceWith('series', backend, spec, async (p) => {
    const r = await train(id, 'series', p, { ...d, seqLen: a.seqLen }, { loss: 'mse', lr: a.lr, epochs: a.epochs, batchSize: 8, metrics: [] });
    p.t = 1000; // streaming starts past the training windows
    return r;
  });
}

/** Starts streaming (moving the model to `backend` first); `done` resolves when the stream has stopped or run its steps. */
async function startStream(id: number, backend: BackendName, a: StreamSeriesArgs): Promise<{ done: Promise<StreamResult> }> {
  const o = onnxModels.series;
  if (o) {
    stopFlags.series = false;
    return { done: streamOnnx(id, await onnxOn(o, backend), a) };
  }
  const p = await on('series', backend);
  p.stream ??= p.rnn.stream(1);
  stopFlags.series = false;
  return { done: streamSeries(id, p as PanelModel & { stream: RecurrentStream }, a) };
}

async function streamSeries(id: number, p: PanelModel & { stream: RecurrentStream }, a: StreamSeriesArgs): Promise<StreamResult> {
  const points: SeriesPoint[] = [];
  for (let i = 0; i < a.steps && !stopFlags.series; i++) {
    const t = p.t ?? 0;
    const value = signal(t, a.noise);
    const h = await p.stream.step([value]); // (1, H), the state stays on the backend
    const yhat = await p.head.forward(h);
    const prediction = (await yhat.read())[0];
    h.dispose();
    yhat.dispose();
    const point = { t, value, prediction };
    points.push(point);
    post({ type: 'point', id, panel: 'series', point });
    p.t = t + 1;
    if (a.delayMs > 0) await new Promise((r) => setTimeout(r, a.delayMs));
    else await yieldToEvents();
  }
  let se = 0;
  let naive = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    se += (points[i].prediction - points[i + 1].value) ** 2;
    naive += (points[i].value - points[i + 1].value) ** 2;
  }
  const m = Math.max(1, points.length - 1);
  return { ...ranOn(p.rt), points, mse: se / m, naiveMse: naive / m };
}

/** The series stream of an ONNX model: each step runs the session on the last ONNX_WINDOW values and takes its last step's prediction. */
async function streamOnnx(id: number, o: OnnxModel, a: StreamSeriesArgs): Promise<StreamResult> {
  const points: SeriesPoint[] = [];
  for (let i = 0; i < a.steps && !stopFlags.series; i++) {
    const t = o.t;
    const value = signal(t, a.noise);
    o.window.push(value);
    if (o.window.length > ONNX_WINDOW) o.window.shift();
    const point = { t, value, prediction: await onnxSeriesStep(o, o.window) };
    points.push(point);
    post({ type: 'point', id, panel: 'series', point });
    o.t = t + 1;
    if (a.delayMs > 0) await new Promise((r) => setTimeout(r, a.delayMs));
    else await yieldToEvents();
  }
  let se = 0;
  let naive = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    se += (points[i].prediction - points[i + 1].value) ** 2;
    naive += (points[i].value - points[i + 1].value) ** 2;
  }
  const m = Math.max(1, points.length - 1);
  return { backend: o.session.backend, adapterName: (await runtime(o.session.backend)).adapterName, points, mse: se / m, naiveMse: naive / m };
}

/** Runs a session's one input → first output, reading it back; the session's outputs are freed. */
async function runOnnx(s: OnnxSession, data: Float32Array | Int32Array, dims: number[]): Promise<{ values: Float32Array | Float64Array; shape: readonly number[] }> {
  const outs = await s.run({ [s.inputNames[0]]: { data, dims } });
  try {
    const y = outs[s.outputNames[0]];
    return { values: Float64Array.from(await y.read()), shape: y.shape };
  } finally {
    for (const t of Object.values(outs)) t.dispose();
  }
}

/** P(positive) of one review's ids from the sentiment panel's ONNX model: one value in [0, 1]. */
async function onnxProbability(o: OnnxModel, ids: number[]): Promise<number> {
  const { values, shape } = await runOnnx(o.session, Int32Array.from(ids), [1, ids.length]);
  if (values.length !== 1 || !(values[0] >= 0 && values[0] <= 1)) {
    throw new Error(`load: the sentiment panel needs an ONNX model that maps ids (1, T) to one probability; ${o.name}'s output '${o.session.outputNames[0]}' has shape (${shape.join(', ')})${values.length === 1 ? ` and value ${values[0]}, not in [0, 1] (end it with a Sigmoid)` : ''}.`);
  }
  return values[0];
}

/** The series panel's ONNX model on a window (1, T, 1): the prediction of its last step. */
async function onnxSeriesStep(o: OnnxModel, window: number[]): Promise<number> {
  const T = window.length;
  const { values, shape } = await runOnnx(o.session, Float32Array.from(window), [1, T, 1]);
  if (values.length !== T) throw new Error(`load: the series panel needs an ONNX model that maps x (1, T, 1) to one prediction per step (1, T, 1); ${o.name}'s output '${o.session.outputNames[0]}' has shape (${shape.join(', ')}) for T = ${T}.`);
  return values[T - 1];
}

/**
 * Loads an .onnx file into the character, sentiment or series panel: rt.loadOnnx,
 * then trial runs on the panel's input to check the model fits it (ids → logits
 * over the panel's characters, with or without state inputs, see charOnnxPlan;
 * ids → one probability; x (1, T, 1) → one prediction per step); only then does
 * it replace the panel's model. `text`: the character panel's training text,
 * whose distinct characters (sorted, as trainChar orders them) the logits stand for.
 */
async function loadOnnxFile(panel: PanelId, backend: BackendName, file: File, text?: string): Promise<FileLoadResult> {
  if (panel !== 'char' && panel !== 'sentiment' && panel !== 'series') throw new Error(`load: .onnx files load into the character, sentiment and series panels, not ${panel}.`);
  const vocab = panel === 'char' ? charVocab(text) : [];
  const rt = await runtime(backend);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const session = await rt.loadOnnx(bytes); // the library's errors (malformed protobuf, unsupported ops) as they are
  const o: OnnxModel = { session, bytes, name: file.name, t: 1000, window: [] };
  try {
    if (panel === 'char') o.char = { plan: await charOnnxPlan(session, file.name, vocab.length), vocab };
    else if (session.inputNames.length !== 1) throw new Error(`load: the ${panel} panel feeds one input (${panel === 'sentiment' ? 'ids (1, T)' : 'x (1, T, 1)'}); ${file.name} has ${session.inputNames.length}: ${session.inputNames.join(', ')}.`);
    else if (panel === 'sentiment') await onnxProbability(o, tokenize(buildVocab(REVIEWS), REVIEWS[0][0]));
    else await onnxSeriesStep(o, [0, 0.5, 1]);
  } catch (err) {
    session.dispose();
    throw err;
  }
  dispose(panels[panel]);
  delete panels[panel];
  dropOnnx(panel);
  onnxModels[panel] = o;
  const rec = session.nodes.filter((n) => n.opType === 'LSTM' || n.opType === 'GRU' || n.opType === 'RNN');
  const cell = rec[0]?.opType === 'LSTM' ? 'lstm' : rec[0]?.opType === 'GRU' ? 'gru' : 'rnn';
  const nodes = session.nodes.map((n) => `${n.opType}${n.runsOn === 'kernel' ? ` (${n.layer ?? 'kernel'})` : ''}`);
  const info = { inputNames: [...session.inputNames], outputNames: [...session.outputNames], nodes };
  if (o.char) {
    const { plan } = o.char;
    const V = vocab.length;
    const spec: ModelSpec = { panel, cell, vocabSize: V, inputSize: 0, hidden: plan.dims[2] ?? 0, layers: rec.length, returnSequences: true, units: V, activation: 'none', vocab, seqLen: 0, seed: 0 };
    const ins = plan.state.map((s) => s.input).join(', ');
    const outs = plan.state.map((s) => s.output).join(', ');
    const how = plan.state.length
      ? `Generation feeds the prompt once, then one character per run with the previous run's ${outs} as ${ins} (state ${fmtDims(plan.dims)}, its sizes found by trial runs).`
      : `${file.name} has no state inputs, so each generated character re-runs the session over the last ${ONNX_WINDOW} characters (prompt included).`;
    return { spec, summary: nodes.join(' → '), format: 'onnx', vocabFrom: 'panel', onnx: { ...info, how: `${how} Its ${V} logits are the training text's ${V} distinct characters, sorted.` }, ...ranOn(rt) };
  }
  const spec: ModelSpec = { panel, cell, inputSize: panel === 'series' ? 1 : 0, hidden: 0, layers: rec.length, returnSequences: panel === 'series', units: 1, activation: panel === 'series' ? 'none' : 'sigmoid', vocab: panel === 'sentiment' ? buildVocab(REVIEWS) : [], seqLen: 0, seed: 0 };
  return { spec, summary: nodes.join(' → '), format: 'onnx', vocabFrom: 'panel', onnx: info, ...ranOn(rt) };
}

const fmtDims = (d: readonly number[]) => `(${d.join(', ')})`;

/** The character panel's vocabulary for an .onnx file: the training text's distinct characters, sorted (as trainChar builds it). */
function charVocab(text: unknown): string[] {
  if (typeof text !== 'string') throw new Error(`load: an .onnx file in the character panel needs the panel's training text (its characters are the model's vocabulary); got ${text === undefined ? 'none' : typeof text}.`);
  const vocab = [...new Set(text)].sort();
  if (vocab.length < 2) throw new Error(`load: the training text has ${vocab.length} distinct character(s); an .onnx model's logits are read as the training text's distinct characters, sorted. Hint: put the text the model was trained on in the training text field, then load it.`);
  return vocab;
}

/** Every output of one run, read back (the session's tensors are freed). */
async function runAll(s: OnnxSession, feeds: Record<string, OnnxFeed>): Promise<Record<string, { values: Float32Array | Float64Array; shape: readonly number[] }>> {
  const outs = await s.run(feeds);
  try {
    const r: Record<string, { values: Float32Array | Float64Array; shape: readonly number[] }> = {};
    for (const [k, t] of Object.entries(outs)) r[k] = { values: await t.read(), shape: t.shape };
    return r;
  } finally {
    for (const t of Object.values(outs)) t.dispose();
  }
}

/** The feeds of one character-model run: ids (1, T) and each state input at plan.dims. */
function charFeeds(plan: CharOnnxPlan, ids: readonly number[], state: readonly (Float32Array | Float64Array)[]): Record<string, OnnxFeed> {
  const feeds: Record<string, OnnxFeed> = { [plan.ids]: { data: Int32Array.from(ids), dims: [1, ids.length] } };
  plan.state.forEach((s, k) => (feeds[s.input] = { data: state[k], dims: plan.dims }));
  return feeds;
}

/** What a name says a state input or output is: h (hidden: h0, hN, hx, hidden, state, initial_h, …), c (cell: c0, cN, cx, cell_state, …), or neither. */
function stateRole(name: string): 'h' | 'c' | null {
  const m = /^(?:initial|init|input|output|in|out|last|final|next|new|prev)?(h|hx|hidden|c|cx|cell|state)(?:state)?(?:0|n|in|out|new|next|prev)?$/.exec(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
  return m ? (m[1].startsWith('c') ? 'c' : 'h') : null;
}

/** The largest hidden size the trial runs try for a state input. */
const MAX_ONNX_HIDDEN = 4096;

/**
 * Matches a character model's inputs and outputs, by name conventions and trial
 * runs (an OnnxSession says its names, not its shapes):
 *  - the inputs named as a state (stateRole) are the state, the one other input the ids;
 *  - the state's dims (L, 1, H): L = the model's recurrent nodes, H the hidden
 *    size the feeds' check accepts (a run with the wrong H is refused with a
 *    ShapeError before any node runs);
 *  - a run over 2 ids: the logits are the output of shape (1, 2, V), V must be
 *    the panel's vocabulary size; the state outputs are those of shape (L, 1, H),
 *    matched to the inputs by name (else in order);
 *  - the state carries: 2 ids at once and the same ids one run at a time, the
 *    state fed back, give the same logits (else the other pairing of an LSTM's
 *    h and c is tried, then the model is refused).
 */
async function charOnnxPlan(s: OnnxSession, file: string, V: number): Promise<CharOnnxPlan> {
  const wants = `ids (1, T) → logits (1, T, V = ${V}), and to carry the state between characters h0 (L, 1, H) → hN (and c0 → cN for an LSTM), named h0/c0, hN/cN, hidden, cell or the like`;
  const list = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');
  const stateIn = s.inputNames.filter((n) => stateRole(n) !== null).sort((a, b) => (stateRole(a) === 'h' ? 0 : 1) - (stateRole(b) === 'h' ? 0 : 1));
  const idsIn = s.inputNames.filter((n) => stateRole(n) === null);
  if (idsIn.length !== 1) throw new Error(`load: the character panel feeds ${wants}; ${file} has input(s) ${list(s.inputNames)}, ${idsIn.length} of them not named as a state.`);
  if (stateIn.length > 2 || (stateIn.length === 2 && stateRole(stateIn[0]) === stateRole(stateIn[1]))) {
    throw new Error(`load: the character panel carries one hidden state (h) and, for an LSTM, one cell state (c); ${file}'s state inputs are ${list(stateIn)}.`);
  }
  const plan: CharOnnxPlan = { ids: idsIn[0], logits: '', state: [], dims: [] };
  let zeros: Float32Array[] = [];
  if (stateIn.length) {
    const L = s.nodes.filter((n) => n.opType === 'LSTM' || n.opType === 'GRU' || n.opType === 'RNN').length;
    if (L === 0) throw new Error(`load: ${file} has state inputs ${list(stateIn)} but no LSTM, GRU or RNN node.`);
    plan.state = stateIn.map((input) => ({ input, output: '' }));
    for (let H = 1; H <= MAX_ONNX_HIDDEN && plan.dims.length === 0; H++) {
      const z = stateIn.map(() => new Float32Array(L * H));
      try {
        await runAll(s, charFeeds({ ...plan, dims: [L, 1, H] }, [0], z));
      } catch (err) {
        if (err instanceof ShapeError) continue; // not this hidden size
        throw err;
      }
      plan.dims = [L, 1, H];
      zeros = z;
    }
    if (plan.dims.length === 0) throw new Error(`load: ${file}'s state inputs ${list(stateIn)} take no shape (${L}, 1, H) for H up to ${MAX_ONNX_HIDDEN} (L = its ${L} recurrent node(s)); the character panel feeds ${wants}.`);
  }
  const first = await runAll(s, charFeeds(plan, [0, 1], zeros));
  const shapes = Object.entries(first).map(([k, v]) => `'${k}' ${fmtDims(v.shape)}`).join(', ');
  const logits = Object.keys(first).find((k) => first[k].shape.length === 3 && first[k].shape[0] === 1 && first[k].shape[1] === 2);
  if (!logits) throw new Error(`load: the character panel needs ${wants}; for ids (1, 2) ${file} gives ${shapes}.`);
  const got = first[logits].shape[2];
  if (got !== V) throw new Error(`load: ${file} gives ${got} logits per step ('${logits}' ${fmtDims(first[logits].shape)}), but the character panel's vocabulary has ${V} characters (the training text's distinct characters). Hint: put the text the model was trained on in the training text field, then load it.`);
  plan.logits = logits;
  if (!plan.state.length) return plan;
  const same = (d: readonly number[]) => d.length === plan.dims.length && d.every((x, i) => x === plan.dims[i]);
  const stateOut = Object.keys(first).filter((k) => k !== logits && same(first[k].shape));
  if (stateOut.length !== stateIn.length) throw new Error(`load: ${file} takes state ${list(stateIn)} ${fmtDims(plan.dims)} but gives ${stateOut.length} output(s) of that shape (${shapes}); the character panel feeds each run's final state to the next.`);
  const byName = stateIn.map((n) => stateOut.filter((o) => stateRole(o) === stateRole(n)));
  const pairing = byName.every((m) => m.length === 1) ? byName.map((m) => m[0]) : stateOut;
  const tries = pairing.length === 2 ? [pairing, [pairing[1], pairing[0]]] : [pairing];
  let worst = 0;
  for (const outs of tries) {
    plan.state = stateIn.map((input, k) => ({ input, output: outs[k] }));
    const a = await runAll(s, charFeeds(plan, [0], zeros));
    const b = await runAll(s, charFeeds(plan, [1], plan.state.map((st) => a[st.output].values)));
    const want = first[logits].values.subarray(V, 2 * V); // the second step of the run over both
    const row = b[logits].values;
    worst = 0;
    let ok = true;
    for (let j = 0; j < V; j++) {
      const d = Math.abs(row[j] - want[j]);
      worst = Math.max(worst, d);
      if (!(d <= 1e-3 + 1e-3 * Math.abs(want[j]))) ok = false;
    }
    if (ok) return plan;
  }
  throw new Error(`load: ${file}'s state outputs ${list(pairing)} do not continue its state inputs ${list(stateIn)}: 2 ids in one run and the same ids in two runs, the state fed back, give logits that differ by up to ${worst.toExponential(2)}.`);
}

// ---------------------------------------------------------------- inference

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate(id: number, backend: BackendName, a: GenerateArgs): Promise<GenerateResult> {
  const o = onnxModels.char;
  if (o) await onnxOn(o, backend);
  const p = o ? null : await on('char', backend);
  const vocab = o ? o.char!.vocab : p!.spec.vocab;
  const index = new Map(vocab.map((c, i) => [c, i]));
  const chars = [...a.prompt];
  const dropped = [...new Set(chars.filter((c) => !index.has(c)))];
  const usable = chars.filter((c) => index.has(c));
  const noUsablePrompt = usable.length === 0;
  const prompt = noUsablePrompt ? [index.has('\n') ? '\n' : vocab[0]] : usable; // a newline: as if starting a line of the text
  post({ type: 'prompt', id, panel: 'char', prompt: prompt.join(''), dropped, noUsablePrompt });
  stopFlags.char = false;
  let text = '';
  const onToken = async (c: number) => {
    text += vocab[c];
    post({ type: 'token', id, panel: 'char', text: vocab[c] });
    await yieldToEvents(); // lets a Stop in, also on the CPU backend
    return !stopFlags.char;
  };
  if (o) {
    await generateOnnx(o as OnnxModel & Required<Pick<OnnxModel, 'char'>>, prompt.map((c) => index.get(c)!), a, onToken);
    return { backend: o.session.backend, adapterName: (await runtime(o.session.backend)).adapterName, text, prompt: prompt.join(''), dropped, noUsablePrompt };
  }
  // the library's generation: the prompt in one forward pass, then one character per
  // step from the state kept on the backend; each one is posted as it comes
  await p!.model.generate(
    prompt.map((c) => index.get(c)!),
    {
      maxNewTokens: a.length,
      temperature: a.temperature,
      topK: a.topK, // 0: every character
      seed: a.seed ?? Date.now(),
      onToken,
    },
  );
  return { ...ranOn(p!.rt), text, prompt: prompt.join(''), dropped, noUsablePrompt };
}

/**
 * Generation from the character panel's ONNX model, one session run per
 * character: with state, the prompt once from zeros, then each chosen character
 * with the previous run's final state; without, each run over the last
 * ONNX_WINDOW characters. Each character is chosen from the last step's logits
 * as the library's generate does (greedy at temperature 0, else sampled).
 */
async function generateOnnx(o: OnnxModel & Required<Pick<OnnxModel, 'char'>>, prompt: number[], a: GenerateArgs, onToken: (c: number) => Promise<boolean>): Promise<void> {
  const { plan, vocab } = o.char;
  const V = vocab.length;
  const rand = mulberry32(a.seed ?? Date.now());
  const all = [...prompt];
  const size = plan.dims.reduce((x, y) => x * y, 1);
  let state: (Float32Array | Float64Array)[] = plan.state.map(() => new Float32Array(size));
  let feed = plan.state.length ? all : all.slice(-ONNX_WINDOW);
  for (let i = 0; i < a.length; i++) {
    const outs = await runAll(o.session, charFeeds(plan, feed, state));
    const row = outs[plan.logits].values.subarray((feed.length - 1) * V, feed.length * V);
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`generate: ${o.name}'s logit ${bad} (${JSON.stringify(vocab[bad])}) is ${row[bad]} at character ${i}; its outputs are not finite.`);
    const c = pickChar(row, a.temperature, a.topK, rand);
    all.push(c);
    if (!(await onToken(c))) return;
    if (plan.state.length) {
      state = plan.state.map((s) => outs[s.output].values);
      feed = [c];
    } else feed = all.slice(-ONNX_WINDOW);
  }
}

/**
 * One character from a row of logits, by the rule of the library's generate:
 * temperature 0: the first of the largest; else the topK likeliest (0: all;
 * ordered by logit, ties by lower id) drawn in proportion to exp(logit / temperature).
 */
function pickChar(logits: ArrayLike<number>, temperature: number, topK: number, rand: () => number): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((x, y) => logits[y] - logits[x] || x - y);
  const k = topK > 0 ? Math.min(topK, V) : V;
  const p = order.slice(0, k).map((i) => Math.exp((logits[i] - logits[order[0]]) / temperature));
  let r = rand() * p.reduce((x, y) => x + y, 0);
  for (let j = 0; j < k; j++) {
    r -= p[j];
    if (r < 0) return order[j];
  }
  return order[k - 1];
}

async function classify(backend: BackendName, text: string): Promise<ClassifyResult> {
  const o = onnxModels.sentiment;
  const p = o ? null : await on('sentiment', backend);
  const vocab = p ? p.spec.vocab : buildVocab(REVIEWS);
  const ws = words(text);
  const unknown = [...new Set(ws.filter((w) => !vocab.includes(w)))];
  const tokens = ws.map((w) => (vocab.includes(w) ? w : OOV));
  const ignored = ignoredChars(text);
  // No known word: the model would only see <oov> tokens, and its score would mean nothing.
  const rt = p ? p.rt : await runtime(backend);
  if (unknown.length === ws.length) return { ...ranOn(rt), probability: null, tokens, unknown, ignored };
  const ids = tokenize(vocab, text);
  let probability: number;
  if (o) probability = await onnxProbability(await onnxOn(o, backend), ids);
  else {
    const out = await p!.model.predict(ids, { batch: 1, seqLen: ids.length });
    probability = (await out.read())[0];
    out.dispose();
  }
  return { ...ranOn(rt), probability, tokens, unknown, ignored };
}

/** The panel's model on both backends with the same weights and input: max |GPU − CPU| of the outputs. */
async function parity(panel: PanelId): Promise<ParityResult> {
  const p = own(panel, 'Parity at a glance');
  const weights = await exportWeights(p);
  const s = p.spec;
  let x: number[];
  let opts: { batch: number; seqLen: number; lengths?: number[] };
  if (panel === 'sentiment') {
    const d = encode(s.vocab, REVIEWS);
    x = d.x;
    opts = { batch: REVIEWS.length, seqLen: d.seqLen, lengths: d.lengths };
  } else if (panel === 'char') {
    const T = Math.min(s.seqLen, 32);
    x = Array.from({ length: 2 * T }, (_, i) => (i * 7) % s.vocab.length);
    opts = { batch: 2, seqLen: T };
  } else {
    x = seriesWindows(s.seqLen, 2, 0.1).x;
    opts = { batch: 2, seqLen: s.seqLen };
  }
  const outs: Float32Array[] = [];
  const names: string[] = [];
  for (const backend of ['webgpu', 'cpu'] as const) {
    const rt = await runtime(backend);
    const q = build(rt, s);
    try {
      importWeights(q, weights);
      const y = await q.model.predict(x, opts);
      outs.push(Float32Array.from(await y.read()));
      y.dispose();
      names.push(rt.adapterName);
    } finally {
      q.model.dispose();
    }
  }
  let maxAbsDiff = 0;
  for (let i = 0; i < outs[0].length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(outs[0][i] - outs[1][i]));
  return { maxAbsDiff, values: outs[0].length, webgpuAdapter: names[0], cpuAdapter: names[1] };
}

async function save(panel: PanelId): Promise<SavedModel> {
  const p = own(panel, 'saving');
  return { format: 'webgpu-rnn-demo/1', spec: p.spec, weights: await exportWeights(p), trainedOn: p.rt.backend, savedAt: new Date().toISOString() };
}

async function load(panel: PanelId, backend: BackendName, saved: SavedModel): Promise<{ spec: ModelSpec; summary: string; backend: BackendName; adapterName: string }> {
  if (saved?.format !== 'webgpu-rnn-demo/1') throw new Error(`load: not a webgpu-rnn demo model (format is '${String(saved?.format)}', expected 'webgpu-rnn-demo/1').`);
  if (saved.spec.panel !== panel) throw new Error(`load: this file is a ${saved.spec.panel} model, not a ${panel} model.`);
  const rt = await runtime(backend);
  const q = build(rt, saved.spec);
  try {
    importWeights(q, saved.weights);
  } catch (err) {
    q.model.dispose();
    throw err;
  }
  dispose(panels[panel]);
  dropOnnx(panel);
  q.t = 1000;
  panels[panel] = q;
  return { spec: q.spec, summary: q.model.summary(), ...ranOn(rt) };
}

// ---------------------------------------------------------------- gradient flow

/** The gradient-flow panel's experiment (gradflow.ts) on `backend`, with a progress event per backward pass; Stop ends it between passes. */
async function runGradFlow(id: number, backend: BackendName, a: GradFlowArgs): Promise<GradFlowResult> {
  const rt = await runtime(backend);
  stopFlags.grads = false;
  const total = a.cells.length * (a.clip ? 2 : 1) * (a.steps + 1);
  let step = 0;
  const t0 = performance.now();
  const where = rt.backend === 'webgpu' ? 'on the GPU' : 'on the CPU reference';
  post({ type: 'status', id, panel: 'grads', text: `${a.cells.length} cell(s) × ${a.clip ? 'with and without clipping' : 'without clipping'} × ${a.steps + 1} backward passes (${GRAD_BATCH} sequences × ${a.seqLen} steps) ${where}` });
  const cells = await gradFlow(rt, a, {
    stopped: () => stopFlags.grads,
    onPass: async () => {
      step++;
      post({ type: 'progress', id, panel: 'grads', step, total, epoch: 0, loss: NaN, stepsPerSec: (1000 * step) / (performance.now() - t0) });
      await yieldToEvents(); // lets a Stop in, also on the CPU backend
    },
  });
  return { ...ranOn(rt), args: a, batch: GRAD_BATCH, cells, stopped: stopFlags.grads };
}

// ---------------------------------------------------------------- model files

type TorchDict = Record<string, { data: Float32Array; shape: number[] }>;

/** The panel's model as a file: model.json + one shard (toLayersModel), or .safetensors (PyTorch names, nn.Sequential's '0.', '1.', …). The spec rides along as metadata. */
async function exportFile(panel: PanelId, format: ExportFormat): Promise<ExportedFile> {
  const p = own(panel, 'export');
  if (format === 'layers') {
    const a = await toLayersModel(p.model);
    const modelJSON = { ...a.modelJSON, userDefinedMetadata: { [SPEC_KEY]: p.spec } } as LayersModelJSON;
    return { format, artifacts: { modelJSON, weightData: a.weightData } };
  }
  return { format, bytes: toSafetensors(await p.model.exportWeights('torch'), { format: 'pt', [SPEC_KEY]: JSON.stringify(p.spec) }) };
}

const shape = (d: TorchDict, k: string): number[] | undefined => d[k]?.shape;

/** Each panel's layers, as the files name them: 0: Embedding (char, sentiment), then the recurrent layer, then the Dense head. */
const LAYOUT: Record<Exclude<PanelId, 'grads'>, { embedding: boolean; describe: string }> = {
  char: { embedding: true, describe: "the character panel's layout: 0.weight (Embedding), 1.weight_ih_l0, 1.weight_hh_l0, … (recurrent), 2.weight, 2.bias (Dense)" },
  sentiment: { embedding: true, describe: "the sentiment panel's layout: 0.weight (Embedding), 1.weight_ih_l0, 1.weight_hh_l0, … (recurrent, last step), 2.weight, 2.bias (Dense, 1 unit, sigmoid)" },
  series: { embedding: false, describe: "the series panel's layout: 0.weight_ih_l0, 0.weight_hh_l0, … (recurrent, 1 input feature), 1.weight, 1.bias (Dense, 1 unit)" },
};
type FilePanel = keyof typeof LAYOUT;

/**
 * The panel's spec from a state dict in its own layout (what exportFile
 * writes): sizes from the shapes, the vocabulary (char) from the file's
 * metadata or else the panel's current model; the sentiment panel's words are
 * fixed (its training reviews), so its Embedding must have that many rows.
 */
function specFrom(panel: FilePanel, d: TorchDict, meta: Partial<ModelSpec> | null): { spec: ModelSpec; vocabFrom: 'file' | 'panel' } {
  const L = LAYOUT[panel];
  const [ri, di] = L.embedding ? [1, 2] : [0, 1]; // the recurrent and the Dense layer's index
  const emb = L.embedding ? shape(d, '0.weight') : [0, 1];
  const wih = shape(d, `${ri}.weight_ih_l0`);
  const whh = shape(d, `${ri}.weight_hh_l0`);
  const out = shape(d, `${di}.weight`);
  if (emb?.length !== 2 || wih?.length !== 2 || whh?.length !== 2 || out?.length !== 2) {
    throw new Error(`load: expected ${L.describe}; the file has ${Object.keys(d).slice(0, 8).join(', ') || 'no tensors'}.`);
  }
  const H = whh[1];
  const gates = whh[0] / H;
  const cell = gates === 4 ? 'lstm' : gates === 3 ? 'gru' : gates === 1 ? 'rnn' : null;
  if (!cell) throw new Error(`load: ${ri}.weight_hh_l0 has shape (${whh.join(', ')}), expected (4H, H) for an LSTM, (3H, H) for a GRU or (H, H) for a SimpleRNN.`);
  const layers = Object.keys(d).filter((k) => new RegExp(`^${ri}\\.weight_ih_l\\d+$`).test(k)).length;
  const current = panels[panel]?.spec;
  if (panel === 'series') {
    if (wih[1] !== 1 || out[0] !== 1) throw new Error(`load: the series panel's model reads 1 feature per step and predicts 1 value; the file's ${ri}.weight_ih_l0 is (${wih.join(', ')}) and ${di}.weight is (${out.join(', ')}).`);
    const spec: ModelSpec = { panel, cell, inputSize: 1, hidden: H, layers, returnSequences: true, units: 1, activation: 'none', vocab: [], seqLen: meta?.seqLen ?? current?.seqLen ?? 20, seed: meta?.seed ?? 9 };
    return { spec, vocabFrom: 'panel' };
  }
  const [V, E] = emb;
  if (panel === 'sentiment') {
    const vocab = buildVocab(REVIEWS);
    if (V !== vocab.length || out[0] !== 1) throw new Error(`load: the sentiment panel's model reads ids of its ${vocab.length} words (<pad>, <oov> and the training reviews' words) and gives 1 probability; the file's 0.weight is (${emb.join(', ')}) and 2.weight is (${out.join(', ')}).`);
    const spec: ModelSpec = { panel, cell, vocabSize: V, embDim: E, inputSize: E, hidden: H, layers, returnSequences: false, units: 1, activation: 'sigmoid', vocab, seqLen: encode(vocab, REVIEWS).seqLen, seed: meta?.seed ?? 5 };
    return { spec, vocabFrom: 'panel' };
  }
  let vocab: string[];
  let vocabFrom: 'file' | 'panel';
  if (Array.isArray(meta?.vocab) && meta.vocab.length === V) [vocab, vocabFrom] = [meta.vocab, 'file'];
  else if (current?.vocab.length === V) [vocab, vocabFrom] = [current.vocab, 'panel'];
  else throw new Error(`load: the file has no character vocabulary (${SPEC_KEY} metadata) and its ${V} characters do not match the panel's model (${current ? current.vocab.length : 'none trained'}). Hint: train on the text it was trained on first, then load it.`);
  const spec: ModelSpec = { panel: 'char', cell, vocabSize: V, embDim: E, inputSize: E, hidden: H, layers, returnSequences: true, units: out[0], activation: 'none', vocab, seqLen: meta?.seqLen ?? current?.seqLen ?? 24, seed: meta?.seed ?? 1 };
  return { spec, vocabFrom };
}

/**
 * A loaded Layers chain's state dict ('0.', '1.', … per Keras layer) in the
 * panel's layout: Keras stacks recurrent layers one per layer, the panel has one
 * multi-layer recurrent (so '1.weight_ih_l0', '2.weight_ih_l0' → '1.weight_ih_l0', '1.weight_ih_l1').
 * It also checks what the weights cannot say: the head's activation and which
 * steps the recurrent layers return.
 */
function toPanelLayout(panel: FilePanel, seq: Sequential, d: TorchDict): TorchDict {
  const kinds = seq.layers.map((l) => l.kind);
  const emb = LAYOUT[panel].embedding ? 1 : 0;
  const rec = kinds.slice(emb, -1);
  const chain = `${emb ? 'Embedding → ' : ''}one or more recurrent layers of one kind → Dense`;
  if (rec.length === 0 || (emb && kinds[0] !== 'Embedding') || kinds.at(-1) !== 'Dense' || rec.some((k) => k === 'Embedding' || k === 'Dense' || k !== rec[0])) {
    throw new Error(`load: expected the ${panel} panel's layers, ${chain}; the model.json has ${kinds.join(' → ')}.`);
  }
  const head = seq.layers.at(-1) as Dense;
  const want = panel === 'sentiment' ? 'sigmoid' : 'none';
  if (head.activation !== want) throw new Error(`load: the ${panel} panel's Dense head has activation '${want === 'none' ? 'linear' : want}'; the model.json's has '${head.activation}'.`);
  const last = seq.layers.at(-2) as Recurrent;
  if (last.returnSequences !== (panel !== 'sentiment')) throw new Error(`load: the ${panel} panel's last recurrent layer returns ${panel === 'sentiment' ? 'its last step only (return_sequences false)' : 'every step (return_sequences true)'}; the model.json's does not.`);
  const out: TorchDict = {};
  let depth = 0; // recurrent layers renamed so far
  kinds.forEach((_, i) => {
    const names = Object.keys(d).filter((k) => k.startsWith(`${i}.`)).map((k) => k.slice(`${i}.`.length));
    for (const n of names) {
      const to = emb && i === 0 ? `0.${n}` : i === kinds.length - 1 ? `${emb + 1}.${n}` : `${emb}.${n.replace(/_l(\d+)$/, (_, l: string) => `_l${depth + Number(l)}`)}`;
      out[to] = d[`${i}.${n}`];
    }
    if (i >= emb && i < kinds.length - 1) depth += names.filter((n) => /^weight_ih_l\d+$/.test(n)).length;
  });
  return out;
}

/** model.json's userDefinedMetadata spec, if the JSON parses (else the library reports the file). */
async function layersMeta(files: File[]): Promise<Partial<ModelSpec> | null> {
  const json = files.find((f) => /\.json$/i.test(f.name));
  try {
    return json ? (((JSON.parse(await json.text()) as { userDefinedMetadata?: Record<string, unknown> }).userDefinedMetadata?.[SPEC_KEY] as Partial<ModelSpec>) ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Loads a model file into the panel: a .safetensors through parseSafetensors, or
 * model.json + shards through rt.loadLayersModel; either way its weights then go
 * into a model of the panel's architecture by loadTorchStateDict (strict). Any
 * failure leaves the panel's model as it was.
 */
async function loadFiles(panel: PanelId, backend: BackendName, files: File[], text?: string): Promise<FileLoadResult> {
  if (!(panel in LAYOUT)) throw new Error(`load: model files load into the character, sentiment and series panels, not ${panel}.`);
  if (!Array.isArray(files) || files.length === 0) throw new Error('load: choose a model.json with its .bin shards, one .safetensors or one .onnx file.');
  const onnx = files.filter((f) => /\.onnx$/i.test(f.name));
  if (onnx.length > 0) {
    if (files.length !== 1) throw new Error(`load: choose one .onnx file on its own (got ${files.map((f) => f.name).join(', ')}).`);
    return loadOnnxFile(panel, backend, onnx[0], text);
  }
  const rt = await runtime(backend);
  const st = files.filter((f) => /\.safetensors$/i.test(f.name));
  let dict: TorchDict;
  let meta: Partial<ModelSpec> | null;
  let format: ExportFormat;
  if (st.length > 0) {
    if (files.length !== 1) throw new Error(`load: choose one .safetensors file on its own (got ${files.map((f) => f.name).join(', ')}).`);
    const bytes = new Uint8Array(await st[0].arrayBuffer());
    dict = parseSafetensors(bytes) as TorchDict; // validated before anything is built
    const m = safetensorsMetadata(bytes)?.[SPEC_KEY];
    meta = m ? (JSON.parse(m) as Partial<ModelSpec>) : null;
    format = 'safetensors';
  } else {
    meta = await layersMeta(files);
    const lm = await rt.loadLayersModel(files);
    try {
      const seq = lm.sequential;
      if (!seq) throw new Error(`load: this model.json has layers that run outside one Sequential (go_backwards, Bidirectional sum/mul/ave or a standalone activation); the ${panel} panel's model is ${LAYOUT[panel as FilePanel].embedding ? 'Embedding → ' : ''}recurrent → Dense.`);
      dict = toPanelLayout(panel as FilePanel, seq, await seq.exportWeights('torch'));
    } finally {
      lm.dispose();
    }
    format = 'layers';
  }
  for (const [k, v] of Object.entries(dict)) if (!(v.data instanceof Float32Array)) throw new Error(`load: tensor ${k} is not floating point.`);
  const { spec, vocabFrom } = specFrom(panel as FilePanel, dict, meta);
  const q = build(rt, spec);
  try {
    q.model.loadTorchStateDict(dict); // strict: missing and unused names are one WeightError
  } catch (err) {
    q.model.dispose();
    throw err;
  }
  dispose(panels[panel]);
  dropOnnx(panel);
  q.t = 1000; // a series model streams from past its training windows, as after load()
  panels[panel] = q;
  return { spec, summary: q.model.summary(), format, vocabFrom, ...ranOn(rt) };
}

// ---------------------------------------------------------------- dispatch

/** Refuses a request whose arguments break fields.ts's limits, before anything runs. */
function validate(r: Request): void {
  const problems: string[] = [];
  const text = (label: string, v: unknown, min: number, max: number) => {
    const m = checkText(label, v, min, max);
    if (m) problems.push(m);
  };
  switch (r.op) {
    case 'trainChar': {
      problems.push(...checkArgs(RULES.trainChar, r.args));
      const m = checkTrainingText(r.args.text, r.args.seqLen);
      if (m) problems.push(m);
      break;
    }
    case 'generate':
      problems.push(...checkArgs(RULES.generate, r.args));
      text('Prompt', r.args.prompt, 0, MAX_PROMPT);
      break;
    case 'trainSentiment':
      problems.push(...checkArgs(RULES.trainSentiment, r.args));
      break;
    case 'classify':
      text('Review', r.args.text, 0, MAX_REVIEW);
      break;
    case 'trainSeries':
      problems.push(...checkArgs(RULES.trainSeries, r.args));
      break;
    case 'streamSeries':
      problems.push(...checkArgs(RULES.streamSeries, r.args));
      break;
    case 'gradFlow': {
      problems.push(...checkArgs(RULES.gradFlow, r.args));
      const cells: unknown = r.args.cells;
      if (!Array.isArray(cells) || cells.length === 0 || cells.some((c) => c !== 'rnn' && c !== 'gru' && c !== 'lstm') || new Set(cells).size !== cells.length) {
        problems.push(`Cells must be one or more of SimpleRNN, GRU and LSTM, each once (got ${JSON.stringify(cells)}).`);
      }
      if (typeof r.args.clip !== 'boolean') problems.push(`Clipping must be on or off (got ${JSON.stringify(r.args.clip)}).`);
      break;
    }
  }
  if (problems.length) throw new InputError(problems);
}

function run(r: Exclude<Request, { op: 'streamSeries' }>): Promise<unknown> {
  switch (r.op) {
    case 'probe':
      return probe();
    case 'trainChar':
      return trainChar(r.id, r.backend, r.args);
    case 'generate':
      return generate(r.id, r.backend, r.args);
    case 'trainSentiment':
      return trainSentiment(r.id, r.backend, r.args);
    case 'classify':
      return classify(r.backend, r.args.text);
    case 'trainSeries':
      return trainSeries(r.id, r.backend, r.args);
    case 'gradFlow':
      return runGradFlow(r.id, r.backend, r.args);
    case 'parity':
      return parity(r.panel);
    case 'save':
      return save(r.panel);
    case 'load':
      return load(r.panel, r.backend, r.args.saved);
    case 'loadFiles':
      return loadFiles(r.panel, r.backend, r.args.files, r.args.text);
    case 'exportFile':
      return exportFile(r.panel, r.args.format);
  }
}

const reply = (id: number, result: unknown) => post({ type: 'reply', id, ok: true, result });
const replyError = (id: number, err: unknown) =>
  post({ type: 'reply', id, ok: false, error: err instanceof Error ? err.message : String(err), name: err instanceof Error ? err.name : 'Error' });

/** Requests that only read a panel's model: they run beside its stream. */
const READ_ONLY: ReadonlySet<Request['op']> = new Set(['probe', 'parity', 'save', 'exportFile']);
const queues: Record<PanelId, Promise<unknown>> = { char: Promise.resolve(), sentiment: Promise.resolve(), series: Promise.resolve(), grads: Promise.resolve() };
/** A panel's stream running in the background (its reply not yet sent). */
const background: Partial<Record<PanelId, Promise<void>>> = {};

async function handle(r: Request): Promise<void> {
  validate(r); // a refused request changes nothing, not even a running stream
  const bg = background[r.panel];
  if (bg && !READ_ONLY.has(r.op)) {
    stopFlags[r.panel] = true; // ends the stream after its current step
    await bg;
  }
  if (r.op !== 'streamSeries') return reply(r.id, await run(r));
  const { done } = await startStream(r.id, r.backend, r.args);
  const tracked: Promise<void> = done
    .then(
      (result) => reply(r.id, result),
      (err: unknown) => replyError(r.id, err),
    )
    .finally(() => {
      if (background[r.panel] === tracked) delete background[r.panel];
    });
  background[r.panel] = tracked;
}

self.onmessage = (e: MessageEvent<Request | StopRequest>) => {
  const r = e.data;
  if (r.op === 'stop') {
    stopFlags[r.panel] = true; // fit (at its next batch), generation and streams check it
    return;
  }
  queues[r.panel] = queues[r.panel].then(() => handle(r)).catch((err: unknown) => replyError(r.id, err));
};
