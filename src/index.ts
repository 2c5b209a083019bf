// Public API of webgpu-rnn. Everything exported here is public and kept stable;
// anything else is internal.
//
//   createRuntime({ backend: 'webgpu' | 'cpu' })  → Runtime
//   rt.simpleRNN / rt.gru / rt.lstm               → Recurrent (forward, stream, weights in/out)
//   rt.embedding / rt.dense / rt.softmax          → heads
//   rt.repeatVector(n)                            → (B, F) → (B, n, F) (one-to-many)
//   rt.sequential([...])                          → Sequential (predict, summary)
//   rt.seq2seq({...})                             → Seq2Seq (fit, translate, beamSearch)
//   rt.loadOnnx(bytes)                            → OnnxSession (inputNames, outputNames, input/outputMetadata, run(feeds) as ONNX Runtime)
//   Tensor                                        → results; read() copies to the CPU
//   Tokenizer, padSequences                       → text to padded id batches (Keras semantics, CPU)
export { createRuntime, Runtime, type RuntimeOptions } from './runtime';
export type { RuntimeHandle } from './backend';
export type { GpuTime } from './gpu/timer';
export { Tensor, type BackendName, type FloatArray, type Input } from './tensor';
export {
  Recurrent,
  RecurrentStream,
  RecurrentTape,
  type RecurrentBackwardOptions,
  type RecurrentBackwardResult,
  type RecurrentForwardOptions,
  type RecurrentOptions,
  type RecurrentOutput,
} from './layers/recurrent';
export { Dense, type DenseOptions } from './layers/dense';
export { Embedding, type EmbeddingOptions } from './layers/embedding';
export { Softmax } from './layers/softmax';
export { RepeatVector, type RepeatVectorTape } from './layers/repeat_vector';
export { Sequential } from './models/sequential';
export type { Layer, PredictOptions, SequentialTape } from './models/types';
// generation: Sequential.generate / generateStream (issue 11)
export type { GenerateOptions } from './models/generate';
// encoder–decoder: rt.seq2seq(...) with fit, translate (greedy), beamSearch (issue 11)
export {
  Seq2Seq,
  type Seq2SeqOptions,
  type Seq2SeqBatch,
  type Seq2SeqTape,
  type Seq2SeqFitData,
  type Seq2SeqFitOptions,
  type Seq2SeqSource,
  type DecodeOptions,
  type BeamOptions,
  type Hypothesis,
} from './models/seq2seq';
export { Attention, type AttentionOutput, type AttentionTape } from './layers/attention';
export {
  Optimizer,
  SGD,
  Adam,
  AdamW,
  RMSprop,
  clipGradNorm,
  clipGradValue,
  type SGDOptions,
  type AdamOptions,
  type RMSpropOptions,
  type ClipGradNormOptions,
  type BackendOptions,
} from './training/optim';
export type { Param } from './training/params';
export type { FitData, FitOptions, EvaluateOptions, History, LossName, MetricName } from './training/fit';
export {
  mseLoss,
  bceLoss,
  softmaxCrossEntropy,
  binaryAccuracy,
  categoricalAccuracy,
  perplexity,
  type LossResult,
  type BceOptions,
  type RowOptions,
} from './training/losses';
export type { RecurrentPath, RecurrentRunStats } from './scheduler';
export type { CellActivation, CellType, GateActivation, StateDict, ArrayLikeTensor } from './weights/types';
export type { KerasRecurrentWeights, KerasRecurrentArrays } from './weights/keras';

// Text preprocessing (src/text/): Keras's Tokenizer and pad_sequences; CPU only, no runtime needed.
export { Tokenizer, DEFAULT_FILTERS, type TokenizerOptions, type TextInput } from './text/tokenizer';
export { padSequences, type PadOptions, type PadDtype, type PaddedSequences } from './text/pad';

// Model files (src/io/): TensorFlow.js Layers model.json + shards in (rt.loadLayersModel) and out.
export { LayersModel, toLayersModel, type LayersPredictOptions } from './io/layers_model_build';
export { saveLayersModelFiles, downloadLayersModel, type LayersModelSource } from './io/layers_model_source';
export type { LayersModelJSON, LayersModelArtifacts, LayersWeightEntry } from './io/layers_model';
// safetensors (src/io/safetensors.ts): parse to validated tensors (CPU only), write a model's weights.
export { parseSafetensors, safetensorsMetadata, toSafetensors, type SafetensorsDtype, type SafetensorsTensor, type SafetensorsInput } from './io/safetensors';
export type { TorchLoadOptions } from './weights/torch';
// ONNX (src/io/onnx.ts): rt.loadOnnx(bytes) → OnnxSession, run(feeds) as ONNX Runtime's.
export { OnnxSession, type OnnxFeed, type OnnxFeedData, type OnnxNodeInfo, type OnnxPlacement, type OnnxSource, type OnnxValueMetadata } from './io/onnx';
export type { StateDictTensor } from './weights/types';

export {
  RnnError,
  ShapeError,
  ValueError,
  WeightError,
  WebGPUUnavailableError,
  DeviceLostError,
  LimitError,
  KernelError,
  DisposedError,
} from './errors';
