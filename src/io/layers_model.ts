// TensorFlow.js Layers format (model.json + weight shards): reader, validation
// and writer. Pure functions, no GPU: readLayersModel() turns the JSON and the
// shard bytes into a list of validated layer specs holding float32 weights
// (every malformed input is rejected here, before anything is built), and
// writeLayersModel() turns such a list back into { modelJSON, weightData }.
// Building layers from the specs is layers_model_build.ts's job.
//
// Both topology shapes found in the wild are read:
//   tfjs-saved:       modelTopology = { class_name, config, keras_version, backend }
//   Keras converter:  modelTopology = { model_config: { class_name, config }, keras_version, backend, training_config }
// Sequential models, and functional ('Model' / 'Functional') models whose graph is a chain.
//
// Weights: weightsManifest groups; a group's shards are concatenated in path
// order; float32, float16, and quantized (uint8/uint16 with scale/min, float16)
// entries are dequantized to float32. Weights are matched to layers by name
// (a path segment equal to the layer's name, then the last segment: kernel,
// recurrent_kernel, bias, embeddings; forward_*/backward_* under Bidirectional),
// falling back to manifest order when no name carries the layer's name.
import { ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import { CELL_ACTIVATIONS, type CellActivation, type CellType, type GateActivation } from '../weights/types';

// ---------------------------------------------------------------------------
// The file format

/** One weight of a weightsManifest group, as model.json lists it. */
export interface LayersWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  /** Quantized storage: value = q · scale + min (uint8/uint16), or float16. */
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

/** model.json: topology plus the weights manifest. */
export interface LayersModelJSON {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: LayersWeightEntry[] }[];
}

/** What toLayersModel() returns: model.json's content and its one weight shard. */
export interface LayersModelArtifacts {
  modelJSON: LayersModelJSON;
  weightData: ArrayBuffer;
}

// ---------------------------------------------------------------------------
// Validated layer specs (what the reader produces and the writer consumes)

/** A weight tensor with its shape, row-major float32. */
export interface SpecTensor {
  data: Float32Array;
  shape: number[];
}

/** @internal One direction's Keras weights. bias null = use_bias false. */
export interface SpecRecurrentWeights {
  kernel: SpecTensor; // (I, G)
  recurrentKernel: SpecTensor; // (H, G)
  bias: SpecTensor | null; // (G), or (2, G) for GRU reset_after=True
}

/** @internal */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';
/** @internal Activations our layers and ops have. */
export type SpecActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

/** @internal One layer of a chain model, validated, with its weights. */
export type LayerSpec =
  | { type: 'embedding'; name: string; inputDim: number; outputDim: number; maskZero: boolean; embeddings: SpecTensor }
  /** Keras Masking (first layer only): a step whose features all equal maskValue is masked. */
  | { type: 'masking'; name: string; maskValue: number }
  | {
      type: 'recurrent';
      name: string;
      className: 'SimpleRNN' | 'GRU' | 'LSTM';
      cell: CellType;
      inputSize: number;
      units: number;
      /** The cell activation (Keras `activation`), of every cell. */
      activation: CellActivation;
      /** GRU/LSTM gate activation ('sigmoid' for SimpleRNN). */
      recurrentActivation: GateActivation;
      resetAfter: boolean;
      returnSequences: boolean;
      goBackwards: boolean;
      stateful: boolean;
      /**
       * Keras's zero_output_for_mask: a masked step outputs 0 instead of repeating the
       * previous output. Keras (Python) forces it on both directions of a Bidirectional
       * that returns sequences; TensorFlow.js has no such option.
       */
      zeroMaskedOutput: boolean;
      /** Set for a Bidirectional wrapper: its name, merge mode, and the inner layer's name. */
      bidirectional: { name: string; inner: string; merge: MergeMode } | null;
      /** [forward] or [forward, backward]. */
      weights: SpecRecurrentWeights[];
    }
  | { type: 'dense'; name: string; timeDistributed: { name: string; inner: string } | null; inputSize: number; units: number; activation: SpecActivation; kernel: SpecTensor; bias: SpecTensor | null }
  | { type: 'activation'; name: string; activation: SpecActivation }
  | { type: 'identity'; name: string; className: string };

/** @internal What readLayersModel() returns. */
export interface ParsedLayersModel {
  /** The model's name in the file. */
  name: string;
  /** Where the topology came from: 'tfjs' (modelTopology = {class_name, config}) or 'keras' (model_config). */
  topology: 'tfjs' | 'keras';
  kerasVersion: string | null;
  /** Batch size fixed by batch_input_shape (stateful models), or null. */
  batchSize: number | null;
  /** Steps fixed by batch_input_shape, or null. */
  seqLen: number | null;
  /** The model takes token ids (B, T) (first layer an Embedding) or features (B, T, I). */
  input: { kind: 'ids' } | { kind: 'features'; size: number };
  layers: LayerSpec[];
}

export const SUPPORTED_LAYERS = [
  'InputLayer',
  'Embedding',
  'Masking',
  'SimpleRNN',
  'GRU',
  'LSTM',
  'Bidirectional',
  'TimeDistributed',
  'Dense',
  'Dropout',
  'SpatialDropout1D',
  'Activation',
] as const;

const OP = 'loadLayersModel';

// ---------------------------------------------------------------------------
// Reader

/**
 * @internal Parses and validates model.json (object or JSON string) and the
 * weight shards: `buffers` holds one entry per weightsManifest path (in path
 * order across groups), or a single buffer with everything concatenated.
 * Throws ValueError (topology), ShapeError or WeightError (weights); builds nothing.
 */
export function readLayersModel(modelJSON: unknown, buffers: readonly Uint8Array[]): ParsedLayersModel {
  const json = parseJSON(modelJSON);
  const { modelConfig, topology, kerasVersion } = topologyOf(json);
  const manifest = checkManifest(json.weightsManifest);
  const weights = readWeights(manifest, buffers);
  const { name, layers: raw } = chainOf(modelConfig);
  return buildSpecs(name, topology, kerasVersion, raw, new WeightPool(weights));
}

function parseJSON(v: unknown): Record<string, unknown> {
  let obj = v;
  if (typeof v === 'string') {
    try {
      obj = JSON.parse(v);
    } catch (e) {
      throw new ValueError(`${OP}: model.json is not valid JSON (${(e as Error).message}).`);
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new ValueError(`${OP}: model.json must be a JSON object with modelTopology and weightsManifest, got ${obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj}.`);
  return obj as Record<string, unknown>;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function topologyOf(json: Record<string, unknown>): { modelConfig: Record<string, unknown>; topology: 'tfjs' | 'keras'; kerasVersion: string | null } {
  const t = json.modelTopology;
  if (!isObj(t)) throw new ValueError(`${OP}: model.json has no modelTopology object (keys: ${Object.keys(json).join(', ') || 'none'}).`);
  const version = (o: Record<string, unknown>) => (typeof o.keras_version === 'string' ? o.keras_version : null);
  if (isObj(t.model_config)) return { modelConfig: t.model_config, topology: 'keras', kerasVersion: version(t) };
  if (typeof t.class_name === 'string') return { modelConfig: t, topology: 'tfjs', kerasVersion: version(t) };
  throw new ValueError(`${OP}: modelTopology has neither class_name (tfjs-saved) nor model_config (converted from Keras).`);
}

function checkManifest(m: unknown): LayersModelJSON['weightsManifest'] {
  if (m === undefined) return [];
  if (!Array.isArray(m)) throw new ValueError(`${OP}: weightsManifest must be an array of { paths, weights } groups.`);
  m.forEach((g, i) => {
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights) || !g.paths.every((p) => typeof p === 'string')) {
      throw new ValueError(`${OP}: weightsManifest[${i}] must be { paths: string[], weights: [...] }.`);
    }
    g.weights.forEach((w, j) => {
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0) || typeof w.dtype !== 'string') {
        throw new WeightError(`${OP}: weightsManifest[${i}].weights[${j}] must be { name, shape (non-negative integers), dtype }, got ${JSON.stringify(w)?.slice(0, 200)}.`);
      }
    });
  });
  return m as LayersModelJSON['weightsManifest'];
}

/** The paths of every group, in order: the order `weights` buffers are given in. */
export function manifestPaths(modelJSON: unknown): string[] {
  const json = parseJSON(modelJSON);
  return checkManifest(json.weightsManifest).flatMap((g) => g.paths);
}

interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

function readWeights(manifest: LayersModelJSON['weightsManifest'], buffers: readonly Uint8Array[]): NamedWeight[] {
  const paths = manifest.flatMap((g) => g.paths);
  let groups: Uint8Array[];
  if (buffers.length === paths.length) {
    let k = 0;
    groups = manifest.map((g) => concat(buffers.slice(k, (k += g.paths.length))));
  } else if (buffers.length === 1 && manifest.length > 0) {
    // one buffer with every group's bytes in order (tfjs's weightData)
    const all = buffers[0];
    let off = 0;
    groups = manifest.map((g, i) => {
      const n = g.weights.reduce((s, w) => s + byteSize(w), 0);
      const bytes = all.subarray(off, Math.min(all.length, off + n));
      off += n;
      return i === manifest.length - 1 ? all.subarray(off - n) : bytes;
    });
  } else {
    throw new WeightError(`${OP}: got ${buffers.length} weight buffer${buffers.length === 1 ? '' : 's'}, the weightsManifest lists ${paths.length} shard${paths.length === 1 ? '' : 's'} (${paths.join(', ') || 'none'}). Hint: pass one buffer per path, in path order, or one buffer with all of them concatenated.`);
  }
  const out: NamedWeight[] = [];
  manifest.forEach((g, i) => {
    const bytes = groups[i];
    let off = 0;
    for (const w of g.weights) {
      const n = byteSize(w);
      if (off + n > bytes.length) {
        throw new WeightError(`${OP}: weight '${w.name}' ${fmtShape(w.shape)} needs bytes ${off}..${off + n} of weight group ${i} (${g.paths.join(', ')}), which has only ${bytes.length}: the shard is truncated.`);
      }
      out.push({ name: w.name, shape: w.shape, data: decode(w, bytes.subarray(off, off + n)) });
      off += n;
    }
    if (off !== bytes.length) throw new WeightError(`${OP}: weight group ${i} (${g.paths.join(', ')}) has ${bytes.length} bytes, its weights take ${off}: the shard does not match the manifest.`);
  });
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const STORED_BYTES: Record<string, number> = { float32: 4, float16: 2, uint8: 1, uint16: 2 };

function storedDtype(w: LayersWeightEntry): string {
  const q = w.quantization;
  const dt = q ? q.dtype : w.dtype;
  if (!(dt in STORED_BYTES)) {
    throw new WeightError(`${OP}: weight '${w.name}' is stored as '${dt}'; supported: float32, float16, and quantization uint8, uint16 (scale/min) or float16.`);
  }
  if (q && (q.dtype === 'uint8' || q.dtype === 'uint16') && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
    throw new WeightError(`${OP}: weight '${w.name}' is quantized to ${q.dtype} but its quantization has no finite scale and min.`);
  }
  if (!q && w.dtype !== 'float32' && w.dtype !== 'float16') throw new WeightError(`${OP}: weight '${w.name}' has dtype '${w.dtype}'; supported: float32, float16.`);
  return dt;
}

function byteSize(w: LayersWeightEntry): number {
  return w.shape.reduce((a, b) => a * b, 1) * STORED_BYTES[storedDtype(w)];
}

function decode(w: LayersWeightEntry, bytes: Uint8Array): Float32Array {
  const dt = storedDtype(w);
  const n = w.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const q = w.quantization;
  for (let i = 0; i < n; i++) {
    if (dt === 'float32') out[i] = view.getFloat32(4 * i, true);
    else if (dt === 'float16') out[i] = halfToFloat(view.getUint16(2 * i, true));
    else if (dt === 'uint8') out[i] = bytes[i] * q!.scale! + q!.min!;
    else out[i] = view.getUint16(2 * i, true) * q!.scale! + q!.min!;
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) throw new WeightError(`${OP}: weight '${w.name}' has a non-finite value (${out[i]}) at index ${i}.`);
  }
  return out;
}

/** IEEE 754 half (binary16) → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

// ---------------------------------------------------------------------------
// The graph: a list of layers in order

interface RawLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Functional chains: the layer's later consumers (and the model's output) take only its output 0. */
  firstOutputOnly?: boolean;
}

function rawLayer(l: unknown, where: string): RawLayer {
  if (!isObj(l) || typeof l.class_name !== 'string') throw new ValueError(`${OP}: ${where} must be { class_name, config }.`);
  const config = isObj(l.config) ? l.config : {};
  const name = typeof l.name === 'string' ? l.name : typeof config.name === 'string' ? config.name : where;
  return { className: l.class_name, name, config };
}

function chainOf(mc: Record<string, unknown>): { name: string; layers: RawLayer[] } {
  const cls = mc.class_name;
  const cfg = mc.config;
  if (cls === 'Sequential') {
    const list = Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg.layers : undefined; // Keras < 2.2 wrote the list itself
    if (!Array.isArray(list) || list.length === 0) throw new ValueError(`${OP}: the Sequential config has no layers.`);
    const name = isObj(cfg) && typeof cfg.name === 'string' ? cfg.name : 'sequential';
    return { name, layers: list.map((l, i) => rawLayer(l, `layer ${i}`)) };
  }
  if (cls === 'Model' || cls === 'Functional') {
    if (!isObj(cfg) || !Array.isArray(cfg.layers)) throw new ValueError(`${OP}: the ${cls} config has no layers.`);
    return { name: typeof cfg.name === 'string' ? cfg.name : 'model', layers: functionalChain(cfg) };
  }
  throw new ValueError(`${OP}: modelTopology class_name is '${String(cls)}'; supported: Sequential, and Model/Functional whose graph is a chain.`);
}

/** A reference to a layer's output: its name and which of its outputs (0 unless return_state). */
interface TensorRef {
  name: string;
  tensor: number;
}

/** What a functional layer's inbound_nodes refer to (Keras 2 / tfjs lists, Keras 3 keras_history), per node. */
function inboundRefs(nodes: unknown): TensorRef[][] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    const names: TensorRef[] = [];
    const ref = (a: unknown[]) => ({ name: String(a[0]), tensor: typeof a[2] === 'number' ? a[2] : 0 });
    const walk = (v: unknown) => {
      if (Array.isArray(v)) {
        if (typeof v[0] === 'string' && typeof v[1] === 'number') names.push(ref(v)); // [name, node_index, tensor_index, kwargs]
        else v.forEach(walk);
      } else if (isObj(v)) {
        if (isObj(v.config) && Array.isArray(v.config.keras_history)) names.push(ref(v.config.keras_history));
        else if ('args' in v && isObj(v.kwargs)) {
          // a Keras 3 node: the inputs are its args (and kwargs other than a mask)
          walk(v.args);
          for (const [k, a] of Object.entries(v.kwargs)) if (k !== 'mask') walk(a);
        } else Object.values(v).forEach(walk);
      }
    };
    walk(node);
    return names;
  });
}

function functionalChain(cfg: Record<string, unknown>): RawLayer[] {
  const layers = (cfg.layers as unknown[]).map((l, i) => {
    const refs = inboundRefs(isObj(l) ? l.inbound_nodes : undefined);
    return { raw: rawLayer(l, `layer ${i}`), refs, inbound: refs.map((n) => n.map((r) => r.name)) };
  });
  const byName = new Map(layers.map((l) => [l.raw.name, l]));
  const endRefs = (v: unknown) => inboundRefs([v]).flat();
  const outputRefs = endRefs(cfg.output_layers);
  const inputs = endRefs(cfg.input_layers).map((r) => r.name);
  const outputs = outputRefs.map((r) => r.name);
  if (inputs.length !== 1) throw new ValueError(`${OP}: the functional model has ${inputs.length} inputs (${inputs.join(', ')}); only chains with one input are supported.`);
  if (outputs.length !== 1) throw new ValueError(`${OP}: the functional model has ${outputs.length} outputs (${outputs.join(', ')}); only chains with one output are supported.`);
  const consumers = new Map<string, string[]>();
  // layers some consumer (or the model's output) takes a later output of (return_state's states)
  const laterOutputUsed = new Set(outputRefs.filter((r) => r.tensor > 0).map((r) => r.name));
  for (const l of layers) {
    for (const r of l.refs.flat()) if (r.tensor > 0) laterOutputUsed.add(r.name);
    if (l.inbound.length > 1) throw new ValueError(`${OP}: layer '${l.raw.name}' (${l.raw.className}) is called ${l.inbound.length} times (shared layer); only chains are supported.`);
    const ins = l.inbound[0] ?? [];
    if (ins.length > 1) throw new ValueError(`${OP}: the graph branches at layer '${l.raw.name}' (${l.raw.className}): it takes ${ins.length} inputs (${ins.join(', ')}); only chains are supported.`);
    for (const src of ins) consumers.set(src, [...(consumers.get(src) ?? []), l.raw.name]);
  }
  for (const [src, users] of consumers) {
    if (users.length > 1) throw new ValueError(`${OP}: the graph branches at layer '${src}': its output feeds ${users.length} layers (${users.join(', ')}); only chains are supported.`);
  }
  const chain: RawLayer[] = [];
  let cur: string | undefined = inputs[0];
  while (cur !== undefined) {
    const l = byName.get(cur);
    if (!l) throw new ValueError(`${OP}: the functional model refers to layer '${cur}', which its config does not define.`);
    chain.push({ ...l.raw, firstOutputOnly: !laterOutputUsed.has(cur) });
    if (cur === outputs[0]) break;
    cur = consumers.get(cur)?.[0];
  }
  if (chain[chain.length - 1].name !== outputs[0]) throw new ValueError(`${OP}: the output layer '${outputs[0]}' is not reached from the input '${inputs[0]}' along a chain.`);
  if (chain.length !== layers.length) {
    const off = layers.map((l) => l.raw.name).filter((n) => !chain.some((c) => c.name === n));
    throw new ValueError(`${OP}: layers ${off.join(', ')} are not on the chain from '${inputs[0]}' to '${outputs[0]}'; only chains are supported.`);
  }
  return chain;
}

// ---------------------------------------------------------------------------
// Weights by layer

class WeightPool {
  private readonly used = new Set<number>();
  constructor(readonly all: NamedWeight[]) {}

  /**
   * The weights `suffixes` of layer `layer` (optionally under a forward_/backward_
   * sub-layer). Matched by a name segment equal to the layer's name, else by
   * manifest order. Shapes checked against `shapes`.
   */
  take(at: string, layer: string, sub: 'forward' | 'backward' | null, want: { suffix: string; shape: number[]; names: string }[]): SpecTensor[] {
    const segs = (w: NamedWeight) => w.name.replace(/:\d+$/, '').split('/');
    const free = this.all.map((w, i) => ({ w, i })).filter(({ i }) => !this.used.has(i));
    let cands = free.filter(({ w }) => segs(w).includes(layer));
    if (sub) cands = cands.filter(({ w }) => segs(w).some((s) => s.startsWith(`${sub}_`)));
    const byName = cands.length > 0;
    if (!byName) cands = free.slice(0, want.length); // no name carries the layer's: manifest order
    return want.map(({ suffix, shape, names }, k) => {
      const hit = byName ? cands.find(({ w, i }) => !this.used.has(i) && segs(w).at(-1) === suffix) : cands[k] && segs(cands[k].w).at(-1) === suffix ? cands[k] : undefined;
      if (!hit) {
        const seen = (byName ? cands : free).map(({ w }) => w.name);
        throw new WeightError(`${OP}: ${at} has no weight '${suffix}'${sub ? ` (${sub} direction)` : ''} in the weightsManifest (looked for a name with a segment '${layer}' ending in '/${suffix}'; unused weights: ${seen.slice(0, 8).join(', ') || 'none'}).`);
      }
      if (hit.w.shape.length !== shape.length || hit.w.shape.some((d, j) => d !== shape[j])) {
        throw new WeightError(`${OP}: weight '${hit.w.name}' of ${at} has shape ${fmtShape(hit.w.shape)}, expected ${names} = ${fmtShape(shape)}.`);
      }
      this.used.add(hit.i);
      return { data: hit.w.data, shape: hit.w.shape.slice() };
    });
  }

  /** Weights nobody took (optimizer slots excepted). */
  unused(): string[] {
    return this.all.filter((w, i) => !this.used.has(i) && !/optimizer/i.test(w.name)).map((w) => w.name);
  }
}

// ---------------------------------------------------------------------------
// Layer configs → specs

function num(at: string, cfg: Record<string, unknown>, key: string): number {
  const v = cfg[key];
  if (!Number.isInteger(v) || (v as number) < 1) throw new ValueError(`${OP}: ${at} needs a positive integer '${key}', got ${JSON.stringify(v)}.`);
  return v as number;
}

function flag(cfg: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = cfg[key];
  return v === undefined || v === null ? dflt : !!v;
}

/** An activation name from a config value (a string, or Keras 3's serialized object). */
function activationName(v: unknown, dflt: string): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.class_name === 'string') return isObj(v.config) && typeof v.config.name === 'string' ? v.config.name : v.class_name;
  return String(v);
}

/**
 * A GRU/LSTM recurrent_activation as the file's writer defines it. 'hard_sigmoid'
 * is clip(0.2·x + 0.5, 0, 1) in TensorFlow.js and Keras 1–2, but relu6(x + 3) / 6 in
 * Keras 3: decided by keras_version ('tfjs-layers …', '2.x', '3.x'); an unknown
 * version is an error that says which two it could be.
 */
function gateActivationOf(at: string, name: string, kerasVersion: string | null): GateActivation {
  if (name === 'sigmoid') return 'sigmoid';
  if (name === 'hard_sigmoid' || name === 'hardSigmoid') {
    if (kerasVersion && /^3\./.test(kerasVersion)) return 'hardSigmoidKeras3';
    if (kerasVersion && (/^tfjs/.test(kerasVersion) || /^[12]\./.test(kerasVersion))) return 'hardSigmoid';
    throw new ValueError(
      `${OP}: ${at} has recurrent_activation 'hard_sigmoid' but keras_version is ${kerasVersion === null ? 'missing' : `'${kerasVersion}'`}: ` +
        `TensorFlow.js and Keras 2 define it as clip(0.2·x + 0.5, 0, 1), Keras 3 as relu6(x + 3) / 6. Hint: set keras_version in model.json.`,
    );
  }
  throw new ValueError(`${OP}: ${at} has recurrent_activation '${name}', which is not supported; supported: sigmoid, hard_sigmoid.`);
}

/**
 * Keras 3 writes a Bidirectional's backward_layer into every file (Keras 2 only
 * when the user gave one): accepted when it is the reversed copy of the forward
 * layer that Bidirectional makes by default, refused naming the first difference.
 */
function checkBackwardLayer(at: string, fwd: RawLayer, bwd: RawLayer): void {
  const differ = (what: string, a: unknown, b: unknown) => {
    throw new ValueError(`${OP}: ${at} has a backward_layer that is not the reversed copy of its layer (${what}: ${JSON.stringify(b)} vs ${JSON.stringify(a)}); only that one is supported.`);
  };
  if (bwd.className !== fwd.className) differ('class_name', fwd.className, bwd.className);
  const f = fwd.config;
  const b = bwd.config;
  const same: [string, unknown][] = [
    ['units', undefined],
    ['activation', 'tanh'],
    ['recurrent_activation', undefined],
    ['use_bias', true],
    ['return_sequences', false],
    ['return_state', false],
    ['stateful', false],
    ['reset_after', undefined],
  ];
  for (const [key, dflt] of same) {
    const norm = (v: unknown) => (v === undefined || v === null ? dflt : key.endsWith('activation') ? activationName(v, String(dflt)) : v);
    if (norm(f[key]) !== norm(b[key])) differ(key, norm(f[key]), norm(b[key]));
  }
  if (flag(b, 'go_backwards', false) === flag(f, 'go_backwards', false)) differ('go_backwards', flag(f, 'go_backwards', false), flag(b, 'go_backwards', false));
}

const DENSE_ACTIVATIONS: Record<string, SpecActivation> = { linear: 'linear', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax' };

function denseActivation(at: string, v: unknown): SpecActivation {
  const a = activationName(v, 'linear');
  const got = DENSE_ACTIVATIONS[a];
  if (!got) throw new ValueError(`${OP}: ${at} has activation '${a}', which is not supported yet; supported: ${Object.keys(DENSE_ACTIVATIONS).join(', ')}.`);
  return got;
}

function batchShape(cfg: Record<string, unknown>): (number | null)[] | null {
  const v = cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape;
  return Array.isArray(v) ? v.map((d) => (typeof d === 'number' ? d : null)) : null;
}

const CELLS: Record<string, CellType> = { SimpleRNN: 'rnn', GRU: 'gru', LSTM: 'lstm' };

function buildSpecs(modelName: string, topology: 'tfjs' | 'keras', kerasVersion: string | null, raw: RawLayer[], pool: WeightPool): ParsedLayersModel {
  const layers: LayerSpec[] = [];
  let batchSize: number | null = null;
  let seqLen: number | null = null;
  // what flows between layers: null before the first shape is known
  let width: number | null = null; // feature size (ids: no feature axis)
  let ids = false;
  let seq = true;
  let input: ParsedLayersModel['input'] | null = null;
  const noteShape = (s: (number | null)[] | null) => {
    if (!s || input) return;
    batchSize = s[0] ?? null;
    seqLen = s[1] ?? null;
    if (s.length === 2) {
      ids = true;
      input = { kind: 'ids' };
    } else if (s.length === 3 && s[2] !== null) {
      width = s[2];
      input = { kind: 'features', size: s[2] };
    } else throw new ShapeError(`${OP}: the input shape ${JSON.stringify(s)} is not (batch, steps) token ids or (batch, steps, features).`);
  };
  const needWidth = (at: string, fromKernel: number): number => {
    if (ids) throw new ValueError(`${OP}: ${at} gets token ids; it needs an Embedding before it.`);
    if (width === null) {
      width = fromKernel; // no batch_input_shape: trust the kernel
      input ??= { kind: 'features', size: fromKernel };
    }
    return width;
  };
  // written by TensorFlow.js (keras_version 'tfjs-layers …'), or by Keras in Python
  const tfjsFile = kerasVersion ? /^tfjs/.test(kerasVersion) : topology === 'tfjs';
  // Keras ≥ 2.3 defaults: recurrent_activation 'sigmoid', GRU reset_after true (older Keras and tfjs: hard_sigmoid, false)
  const kerasModern = !tfjsFile && !!kerasVersion && !/^(1\.|2\.[0-2]\.)/.test(kerasVersion);
  const kernelRows = (layer: string, sub: 'forward' | 'backward' | null) => {
    const w = pool.all.find((x) => x.name.split('/').includes(layer) && (!sub || x.name.includes(`${sub}_`)) && /(^|\/)kernel(:\d+)?$/.test(x.name));
    return w?.shape[0] ?? 0;
  };

  for (const [i, l] of raw.entries()) {
    const at = `layer ${i} '${l.name}' (${l.className})`;
    const cfg = l.config;
    noteShape(batchShape(cfg));
    if (l.className === 'InputLayer') continue;
    if (l.className === 'Dropout' || l.className === 'SpatialDropout1D') {
      layers.push({ type: 'identity', name: l.name, className: l.className });
      continue;
    }
    if (l.className === 'Masking') {
      if (layers.length > 0) throw new ValueError(`${OP}: ${at}: Masking is supported as the first layer only (it makes the mask from the model's input).`);
      const mv = cfg.mask_value ?? 0;
      if (typeof mv !== 'number' || !Number.isFinite(mv)) throw new ValueError(`${OP}: ${at} has mask_value ${JSON.stringify(mv)}, expected a finite number.`);
      layers.push({ type: 'masking', name: l.name, maskValue: mv });
      continue;
    }
    if (l.className === 'Activation') {
      const a = denseActivation(at, cfg.activation);
      layers.push(a === 'linear' ? { type: 'identity', name: l.name, className: l.className } : { type: 'activation', name: l.name, activation: a });
      continue;
    }
    if (l.className === 'Embedding') {
      if (layers.length > 0) throw new ValueError(`${OP}: ${at}: an Embedding must be the first layer.`);
      ids = true;
      input ??= { kind: 'ids' };
      const V = num(at, cfg, 'input_dim');
      const D = num(at, cfg, 'output_dim');
      const [embeddings] = pool.take(at, l.name, null, [{ suffix: 'embeddings', shape: [V, D], names: '(input_dim, output_dim)' }]);
      layers.push({ type: 'embedding', name: l.name, inputDim: V, outputDim: D, maskZero: flag(cfg, 'mask_zero', false), embeddings });
      ids = false;
      width = D;
      continue;
    }
    let inner = l;
    let bidi: { name: string; inner: string; merge: MergeMode } | null = null;
    let td: { name: string; inner: string } | null = null;
    if (l.className === 'Bidirectional' || l.className === 'TimeDistributed') {
      const wrapped = isObj(cfg.layer) ? rawLayer(cfg.layer, `${at}'s layer`) : null;
      if (!wrapped) throw new ValueError(`${OP}: ${at} has no wrapped layer config.`);
      inner = wrapped;
      if (l.className === 'Bidirectional') {
        const merge = cfg.merge_mode === undefined ? 'concat' : cfg.merge_mode;
        if (merge !== 'concat' && merge !== 'sum' && merge !== 'mul' && merge !== 'ave') throw new ValueError(`${OP}: ${at} has merge_mode ${JSON.stringify(merge)}; supported: concat, sum, mul, ave.`);
        if (!(inner.className in CELLS)) throw new ValueError(`${OP}: ${at} wraps a ${inner.className}; supported: SimpleRNN, GRU, LSTM.`);
        if (isObj(cfg.backward_layer)) checkBackwardLayer(at, inner, rawLayer(cfg.backward_layer, `${at}'s backward_layer`));
        bidi = { name: l.name, inner: inner.name, merge };
      } else {
        if (inner.className !== 'Dense') throw new ValueError(`${OP}: ${at} wraps a ${inner.className}; only TimeDistributed(Dense) is supported.`);
        td = { name: l.name, inner: inner.name };
      }
    }
    const icfg = inner.config;
    const iat = bidi || td ? `${at} (wrapping '${inner.name}', ${inner.className})` : at;
    if (inner.className in CELLS) {
      if (!seq) throw new ValueError(`${OP}: ${iat} gets no sequence: the recurrent layer before it has return_sequences false.`);
      const cell = CELLS[inner.className];
      const H = num(iat, icfg, 'units');
      const act = activationName(icfg.activation, 'tanh');
      if (!(CELL_ACTIVATIONS as readonly string[]).includes(act)) {
        throw new ValueError(`${OP}: ${iat} has activation '${act}', which is not supported yet; supported: ${CELL_ACTIVATIONS.join(', ')}.`);
      }
      const recurrentActivation = cell === 'rnn' ? 'sigmoid' : gateActivationOf(iat, activationName(icfg.recurrent_activation, kerasModern ? 'sigmoid' : 'hard_sigmoid'), kerasVersion);
      // return_state: fine in a functional chain whose next layer (or output) takes only the output, not the states
      if (flag(icfg, 'return_state', false) && !l.firstOutputOnly) {
        throw new ValueError(
          `${OP}: ${iat} has return_state: true and ${l.firstOutputOnly === false ? 'its states are used by the next layer or returned by the model' : 'is in a Sequential model'}; a chain model passes one output on, so return_state is supported only in a functional chain that uses the layer's output 0 alone.`,
        );
      }
      const goBackwards = flag(icfg, 'go_backwards', false);
      if (bidi && goBackwards) throw new ValueError(`${OP}: ${iat} is wrapped in Bidirectional with go_backwards true; not supported.`);
      const stateful = flag(icfg, 'stateful', false) || flag(cfg, 'stateful', false);
      if (flag(icfg, 'unroll', false)) {
        // unrolling changes nothing in the maths
      }
      const resetAfter = cell === 'gru' ? flag(icfg, 'reset_after', kerasModern) : false;
      const I = needWidth(iat, kernelRows(bidi ? l.name : l.name, bidi ? 'forward' : null));
      const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
      const gH = cell === 'lstm' ? '4·units' : cell === 'gru' ? '3·units' : 'units';
      const useBias = flag(icfg, 'use_bias', true);
      const dirs: ('forward' | 'backward' | null)[] = bidi ? ['forward', 'backward'] : [null];
      const weights = dirs.map((sub) => {
        const want = [
          { suffix: 'kernel', shape: [I, G], names: `(input, ${gH})` },
          { suffix: 'recurrent_kernel', shape: [H, G], names: `(units, ${gH})` },
        ];
        if (useBias) want.push(cell === 'gru' && resetAfter ? { suffix: 'bias', shape: [2, G], names: `(2, ${gH}) (reset_after)` } : { suffix: 'bias', shape: [G], names: `(${gH})` });
        const [kernel, recurrentKernel, bias] = pool.take(iat, l.name, sub, want);
        return { kernel, recurrentKernel, bias: bias ?? null };
      });
      const returnSequences = flag(icfg, 'return_sequences', false);
      const zeroMaskedOutput = bidi ? returnSequences && !tfjsFile : flag(icfg, 'zero_output_for_mask', false);
      layers.push({ type: 'recurrent', name: l.name, className: inner.className as 'SimpleRNN' | 'GRU' | 'LSTM', cell, inputSize: I, units: H, activation: act as CellActivation, recurrentActivation, resetAfter, returnSequences, goBackwards, stateful, zeroMaskedOutput, bidirectional: bidi, weights });
      width = bidi && bidi.merge === 'concat' ? 2 * H : H;
      seq = returnSequences;
      continue;
    }
    if (inner.className === 'Dense') {
      const units = num(iat, icfg, 'units');
      const activation = denseActivation(iat, icfg.activation);
      const I = needWidth(iat, kernelRows(l.name, null));
      const useBias = flag(icfg, 'use_bias', true);
      const want = [{ suffix: 'kernel', shape: [I, units], names: '(input, units)' }];
      if (useBias) want.push({ suffix: 'bias', shape: [units], names: '(units)' });
      const [kernel, bias] = pool.take(iat, l.name, null, want);
      layers.push({ type: 'dense', name: l.name, timeDistributed: td, inputSize: I, units, activation, kernel, bias: bias ?? null });
      width = units;
      continue;
    }
    throw new ValueError(`${OP}: ${at}: layer class '${inner.className}' is not supported; supported: ${SUPPORTED_LAYERS.join(', ')}.`);
  }
  if (!layers.some((s) => s.type !== 'identity' && s.type !== 'masking')) throw new ValueError(`${OP}: the model has no layer with weights or an activation.`);
  const unused = pool.unused();
  if (unused.length) throw new WeightError(`${OP}: the weightsManifest has weights no layer uses: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ', …' : ''}.`);
  if (!input) throw new ShapeError(`${OP}: the input shape is unknown (no batch_input_shape and no weights to infer it from).`);
  return { name: modelName, topology, kerasVersion, batchSize, seqLen, input, layers };
}

// ---------------------------------------------------------------------------
// Writer

/**
 * @internal The tfjs-saved model.json (class_name Sequential, one shard
 * 'weights.bin', float32 weights named as tfjs-layers names them) and its bytes.
 */
export function writeLayersModel(model: { name: string; input: ParsedLayersModel['input']; batchSize: number | null; layers: LayerSpec[] }): LayersModelArtifacts {
  const entries: { name: string; t: SpecTensor }[] = [];
  const configs: { class_name: string; config: Record<string, unknown> }[] = [];
  const first = model.input.kind === 'ids' ? [model.batchSize, null] : [model.batchSize, null, model.input.size];
  for (const s of model.layers) {
    if (s.type === 'identity') continue; // inference identities are dropped
    let c: { class_name: string; config: Record<string, unknown> };
    if (s.type === 'embedding') {
      c = { class_name: 'Embedding', config: { name: s.name, trainable: true, input_dim: s.inputDim, output_dim: s.outputDim, mask_zero: s.maskZero } };
      entries.push({ name: `${s.name}/embeddings`, t: s.embeddings });
    } else if (s.type === 'masking') {
      c = { class_name: 'Masking', config: { name: s.name, trainable: true, mask_value: s.maskValue } };
    } else if (s.type === 'activation') {
      c = { class_name: 'Activation', config: { name: s.name, trainable: true, activation: s.activation } };
    } else if (s.type === 'dense') {
      const inner = s.timeDistributed ? s.timeDistributed.inner : s.name;
      const dense = { class_name: 'Dense', config: { name: inner, trainable: true, units: s.units, activation: s.activation, use_bias: true } };
      c = s.timeDistributed ? { class_name: 'TimeDistributed', config: { name: s.name, trainable: true, layer: dense } } : dense;
      entries.push({ name: `${s.name}/kernel`, t: s.kernel });
      entries.push({ name: `${s.name}/bias`, t: s.bias ?? { data: new Float32Array(s.units), shape: [s.units] } });
    } else {
      const inner = s.bidirectional ? s.bidirectional.inner : s.name;
      const rc: Record<string, unknown> = {
        name: inner,
        trainable: true,
        units: s.units,
        activation: s.activation,
        use_bias: true,
        return_sequences: s.returnSequences,
        return_state: false,
        go_backwards: s.goBackwards,
        stateful: s.stateful,
        unroll: false,
      };
      if (s.cell !== 'rnn') {
        // the file says keras_version 'tfjs-layers …', where hard_sigmoid is clip(0.2·x + 0.5, 0, 1)
        if (s.recurrentActivation === 'hardSigmoidKeras3') throw new ValueError(`toLayersModel: ${s.name} uses Keras 3's hard sigmoid, which a TensorFlow.js model file cannot name (its 'hard_sigmoid' is clip(0.2·x + 0.5, 0, 1)).`);
        rc.recurrent_activation = s.recurrentActivation === 'hardSigmoid' ? 'hard_sigmoid' : 'sigmoid';
      }
      if (s.cell === 'gru') rc.reset_after = s.resetAfter;
      const layer = { class_name: s.className, config: rc };
      c = s.bidirectional ? { class_name: 'Bidirectional', config: { name: s.name, trainable: true, layer, merge_mode: s.bidirectional.merge } } : layer;
      const G = s.weights[0].recurrentKernel.shape[1];
      s.weights.forEach((w, d) => {
        const prefix = s.bidirectional ? `${s.name}/${d ? 'backward' : 'forward'}_${inner}` : s.name;
        entries.push({ name: `${prefix}/kernel`, t: w.kernel });
        entries.push({ name: `${prefix}/recurrent_kernel`, t: w.recurrentKernel });
        const bshape = s.cell === 'gru' && s.resetAfter ? [2, G] : [G];
        entries.push({ name: `${prefix}/bias`, t: w.bias ?? { data: new Float32Array(bshape[0] * (bshape[1] ?? 1)), shape: bshape } });
      });
    }
    if (configs.length === 0) c.config.batch_input_shape = first;
    configs.push(c);
  }
  const bytes = entries.reduce((n, e) => n + 4 * e.t.data.length, 0);
  const weightData = new ArrayBuffer(bytes);
  const f32 = new Float32Array(weightData);
  let off = 0;
  for (const e of entries) {
    f32.set(e.t.data, off);
    off += e.t.data.length;
  }
  return {
    modelJSON: {
      format: 'layers-model',
      generatedBy: 'webgpu-rnn',
      convertedBy: null,
      modelTopology: { class_name: 'Sequential', config: { name: model.name, layers: configs }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
      weightsManifest: [{ paths: ['weights.bin'], weights: entries.map((e) => ({ name: e.name, shape: e.t.shape.slice(), dtype: 'float32' })) }],
    },
    weightData,
  };
}
