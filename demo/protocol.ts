// Messages between the page (demo/main.ts) and the worker (demo/worker.ts).
// The page sends a Request and gets exactly one Reply with the same id; while a
// request runs the worker may also send Events (training progress, generated
// characters, streamed time-series points) tagged with that id.
import type { BackendName, LayersModelArtifacts } from '../src/index';

export type PanelId = 'char' | 'sentiment' | 'series' | 'grads';
export type CellName = 'rnn' | 'gru' | 'lstm';

/** Everything needed to rebuild a panel's model (saved with its weights). */
export interface ModelSpec {
  panel: PanelId;
  cell: CellName;
  /** Embedding front (char and sentiment): vocabulary size and width. */
  vocabSize?: number;
  embDim?: number;
  /** Input features of the recurrent layer (embDim, or 1 for the time series). */
  inputSize: number;
  hidden: number;
  layers: number;
  returnSequences: boolean;
  units: number;
  activation: 'none' | 'sigmoid';
  /** Characters (char panel) or words (sentiment panel, with <pad> and <oov> first). */
  vocab: string[];
  seqLen: number;
  seed: number;
}

export interface TrainCharArgs {
  text: string;
  cell: CellName;
  hidden: number;
  layers: number;
  seqLen: number;
  lr: number;
  epochs: number;
  batchSize?: number;
  seed?: number;
}
export interface GenerateArgs {
  prompt: string;
  length: number;
  temperature: number;
  topK: number;
  seed?: number;
}
export interface TrainSentimentArgs {
  cell: CellName;
  hidden: number;
  lr: number;
  epochs: number;
  seed?: number;
}
export interface TrainSeriesArgs {
  cell: CellName;
  hidden: number;
  lr: number;
  epochs: number;
  seqLen: number;
  noise: number;
  seed?: number;
}
/** The gradient-flow panel (issue 11): one experiment per chosen cell, on the same memory task. */
export interface GradFlowArgs {
  cells: CellName[];
  /** Sequence length T. */
  seqLen: number;
  hidden: number;
  /** Factor on the recurrent weights W_hh after the default init (1 = as initialised). */
  scale: number;
  /** The LSTM's forget-gate bias at the start (Keras's unit_forget_bias: 1; PyTorch's init leaves it near 0). */
  forgetBias: number;
  /** SGD updates after the first backward pass (0: only the profile at the start). */
  steps: number;
  lr: number;
  /** Also train a copy with clipGradNorm(params, clipNorm) before each update. */
  clip: boolean;
  clipNorm: number;
  seed?: number;
}
/** One training run of one cell: what each backward pass measured. */
export interface GradFlowRun {
  /** Per backward pass k (k = 0 before any update, …, steps after the last): ‖∂L/∂h_t‖ for t = 0 … T−1. */
  profiles: number[][];
  /** Loss of each backward pass. */
  losses: number[];
  /** Global gradient norm of each update, before clipping. */
  gradNorms: number[];
  /** Why the run ended early (the loss or a gradient stopped being finite), or null. */
  diverged: string | null;
}
export interface GradFlowCellResult {
  cell: CellName;
  noClip: GradFlowRun;
  clipped: GradFlowRun | null;
}
export interface GradFlowResult extends RanOn {
  args: GradFlowArgs;
  batch: number;
  cells: GradFlowCellResult[];
  stopped: boolean;
}
export interface StreamSeriesArgs {
  steps: number;
  /** Pause between points, so a person sees it arrive in real time (0 in tests). */
  delayMs: number;
  noise: number;
}

export type Op =
  | { op: 'probe' }
  | { op: 'trainChar'; args: TrainCharArgs }
  | { op: 'generate'; args: GenerateArgs }
  | { op: 'trainSentiment'; args: TrainSentimentArgs }
  | { op: 'classify'; args: { text: string } }
  | { op: 'trainSeries'; args: TrainSeriesArgs }
  | { op: 'streamSeries'; args: StreamSeriesArgs }
  | { op: 'gradFlow'; args: GradFlowArgs }
  | { op: 'parity' }
  | { op: 'save' }
  | { op: 'load'; args: { saved: SavedModel } }
  /**
   * A model file from <input type=file>: model.json + its .bin shards, one .safetensors (the panel's own layout), or one .onnx (run by rt.loadOnnx's session).
   * text: the character panel's training text; an .onnx model's logits stand for its distinct characters, sorted.
   */
  | { op: 'loadFiles'; args: { files: File[]; text?: string } }
  | { op: 'exportFile'; args: { format: ExportFormat } };

export type ExportFormat = 'layers' | 'safetensors';
/** Key of the demo's spec in a model file: model.json's userDefinedMetadata, a safetensors __metadata__ entry (as JSON). */
export const SPEC_KEY = 'webgpu-rnn-demo';
export type ExportedFile = { format: 'layers'; artifacts: LayersModelArtifacts } | { format: 'safetensors'; bytes: Uint8Array };
export interface FileLoadResult extends RanOn {
  spec: ModelSpec;
  summary: string;
  /** What the file was read as, and where the vocabulary came from. */
  format: ExportFormat | 'onnx';
  /**
   * An .onnx file: the session's inputs, outputs and nodes (where each runs); spec then holds only its cell and recurrent node count (hidden 0: the session does not say;
   * the character panel's: the hidden size its state inputs take, and its vocabulary). how: how the panel runs it (the character panel's: with its state or over a window).
   */
  onnx?: { inputNames: string[]; outputNames: string[]; nodes: string[]; how?: string };
  vocabFrom: 'file' | 'panel';
}

export type Request = Op & { id: number; panel: PanelId; backend: BackendName };
/** Not queued: handled as soon as it arrives, to end a running fit(), generation or stream. */
export interface StopRequest {
  op: 'stop';
  panel: PanelId;
}

export interface RanOn {
  backend: BackendName;
  adapterName: string;
}

export interface ProbeResult {
  /** fallback: the adapter is a CPU emulation of a GPU (SwiftShader and the like), with the evidence in `why`. */
  webgpu: { ok: true; adapterName: string; fallback: boolean; why: string } | { ok: false; error: string };
  cpu: { ok: true; adapterName: string };
}
export interface TrainResult extends RanOn {
  /** Loss per batch (step), in order. */
  losses: number[];
  /** Per epoch: loss, and accuracy / perplexity where the panel reports them. */
  history: Record<string, number[]>;
  steps: number;
  ms: number;
  stopped?: string;
  summary: string;
}
export interface GenerateResult extends RanOn {
  text: string;
  /** The characters the model was fed before generating: the prompt's characters that are in the training text, or a newline when none is. */
  prompt: string;
  /** The prompt's characters that are not in the training text, each once, in order of appearance. */
  dropped: string[];
  /** True when no prompt character was usable, so the model started from a newline (or, if the text has none, its first character). */
  noUsablePrompt: boolean;
}
export interface ClassifyResult extends RanOn {
  /** null when the review has no word the model was trained on: it is not classified. */
  probability: number | null;
  tokens: string[];
  /** Words not in the training vocabulary (fed as <oov>), each once. */
  unknown: string[];
  /** Characters that are not letters, apostrophes or spaces, so not part of any word (each once). */
  ignored: string;
}
export interface StreamResult extends RanOn {
  points: SeriesPoint[];
  /** Mean squared error of the one-step-ahead prediction, and of "repeat the last value". */
  mse: number;
  naiveMse: number;
}
export interface ParityResult {
  maxAbsDiff: number;
  values: number;
  webgpuAdapter: string;
  cpuAdapter: string;
}
export interface SavedModel {
  format: 'webgpu-rnn-demo/1';
  spec: ModelSpec;
  /** One PyTorch-style state dict per layer, in order. */
  weights: Record<string, { shape: number[]; data: number[] }>[];
  trainedOn: BackendName;
  savedAt: string;
}

export interface SeriesPoint {
  t: number;
  /** The signal at t. */
  value: number;
  /** The model's prediction of the signal at t + 1, made at t. */
  prediction: number;
}

export type Event =
  | { type: 'progress'; id: number; panel: PanelId; step: number; total: number; epoch: number; loss: number; stepsPerSec: number }
  /** What the worker is doing before the first progress event (building the model, running the first batch). */
  | { type: 'status'; id: number; panel: PanelId; text: string }
  /** Before the first character: what of the prompt the model is fed (GenerateResult's prompt, dropped, noUsablePrompt). */
  | { type: 'prompt'; id: number; panel: PanelId; prompt: string; dropped: string[]; noUsablePrompt: boolean }
  | { type: 'token'; id: number; panel: PanelId; text: string }
  | { type: 'point'; id: number; panel: PanelId; point: SeriesPoint };

export type Reply =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string; name: string };
