// PyTorch state_dict naming and layout for nn.RNN / nn.GRU / nn.LSTM:
//   weight_ih_l{k}[_reverse] (G, I_k) · weight_hh_l{k}[_reverse] (G, H) ·
//   bias_ih_l{k}[_reverse] (G) · bias_hh_l{k}[_reverse] (G)
// which is exactly the internal layout, so loading is validation plus a copy.
import { ValueError, WeightError, fmtShape } from '../errors';
import { FLOAT32_MAX } from '../validate';
import { directions, gateCount, layerInputSize, type CellWeights, type RecurrentConfig, type StackWeights, type StateDict, type StateDictTensor } from './types';

/** Flattens a user tensor to float32, checking its shape (if it has one) and its length. */
export function toFloat32(op: string, name: string, t: StateDictTensor | undefined, shape: readonly number[], symbols: string): Float32Array {
  if (t === undefined) throw new WeightError(`${op}: missing '${name}', expected shape ${symbols} = ${fmtShape(shape)}.`);
  if (t === null || typeof t !== 'object') {
    throw new WeightError(`${op}: '${name}' is ${t === null ? 'null' : `a ${typeof t}`}, expected a tensor of shape ${symbols} = ${fmtShape(shape)} (a Float32Array, number[] or { data, shape }).`);
  }
  const data: ArrayLike<number> = Array.isArray(t) || ArrayBuffer.isView(t) ? (t as ArrayLike<number>) : (t as { data: ArrayLike<number> }).data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new WeightError(`${op}: '${name}' is a ${data.constructor.name}; weights must be float numbers (Float32Array, Float64Array or number[]).`);
  }
  const given = !Array.isArray(t) && !ArrayBuffer.isView(t) ? (t as { shape?: readonly number[] }).shape : undefined;
  const want = shape.reduce((a, b) => a * b, 1);
  if (given && (given.length !== shape.length || given.some((d, i) => d !== shape[i]))) {
    throw new WeightError(`${op}: '${name}' has shape ${fmtShape(given)}, expected ${symbols} = ${fmtShape(shape)}.`);
  }
  if (!data || data.length !== want) {
    throw new WeightError(`${op}: '${name}' has ${data?.length ?? 0} values, expected ${symbols} = ${fmtShape(shape)} = ${want}.`);
  }
  for (let i = 0; i < want; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
      throw new WeightError(`${op}: '${name}'[${i}] is ${String(v)}; weights must be finite numbers within float32's range.`);
    }
  }
  const out = Float32Array.from(data);
  return out;
}

function suffix(l: number, d: number): string {
  return `_l${l}${d === 1 ? '_reverse' : ''}`;
}

/** The state_dict names a stack expects, in PyTorch's order. */
export function torchNames(cfg: RecurrentConfig): string[] {
  const names: string[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    for (let d = 0; d < directions(cfg); d++) {
      for (const n of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']) names.push(n + suffix(l, d));
    }
  }
  return names;
}

/** Validates and copies a state dict into StackWeights. Throws before anything is changed. */
export function fromTorchStateDict(op: string, cfg: RecurrentConfig, sd: StateDict): StackWeights {
  if (!sd || typeof sd !== 'object') throw new WeightError(`${op}: stateDict must be an object of named tensors, got ${String(sd)}.`);
  const expected = new Set(torchNames(cfg));
  const unexpected = Object.keys(sd).filter((k) => !expected.has(k));
  if (unexpected.length) {
    throw new WeightError(
      `${op}: unexpected key(s) ${unexpected.map((k) => `'${k}'`).join(', ')}; expected ${[...expected].join(', ')}. ` +
        `Hint: strip a module prefix such as 'rnn.' and check numLayers/bidirectional.`,
    );
  }
  const H = cfg.hiddenSize;
  const G = gateCount(cfg.cell) * H;
  const stack: StackWeights = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const row: CellWeights[] = [];
    const I = layerInputSize(cfg, l);
    for (let d = 0; d < directions(cfg); d++) {
      const s = suffix(l, d);
      const w: CellWeights = {
        wih: toFloat32(op, 'weight_ih' + s, sd['weight_ih' + s], [G, I], l === 0 ? '(G, I)' : '(G, D·H)'),
        whh: toFloat32(op, 'weight_hh' + s, sd['weight_hh' + s], [G, H], '(G, H)'),
        bih: toFloat32(op, 'bias_ih' + s, sd['bias_ih' + s], [G], '(G)'),
        bhh: toFloat32(op, 'bias_hh' + s, sd['bias_hh' + s], [G], '(G)'),
      };
      if (cfg.bias === 'single') {
        // One-bias layers (Keras SimpleRNN, LSTM, GRU reset_after=False) fold the
        // recurrent bias into the input bias. That is exact: in all three the two
        // biases are added to the same pre-activation (GRU v1 adds b_hn outside r ⊙ ·).
        for (let i = 0; i < G; i++) w.bih[i] += w.bhh[i];
        w.bhh.fill(0);
      }
      row.push(w);
    }
    stack.push(row);
  }
  return stack;
}

/** PyTorch state_dict of a stack, as {data, shape} entries (float32 copies). */
export function toTorchStateDict(cfg: RecurrentConfig, weights: StackWeights): Record<string, { data: Float32Array; shape: number[] }> {
  const H = cfg.hiddenSize;
  const G = gateCount(cfg.cell) * H;
  const sd: Record<string, { data: Float32Array; shape: number[] }> = {};
  weights.forEach((row, l) =>
    row.forEach((w, d) => {
      const s = suffix(l, d);
      sd['weight_ih' + s] = { data: w.wih.slice(), shape: [G, layerInputSize(cfg, l)] };
      sd['weight_hh' + s] = { data: w.whh.slice(), shape: [G, H] };
      sd['bias_ih' + s] = { data: w.bih.slice(), shape: [G] };
      sd['bias_hh' + s] = { data: w.bhh.slice(), shape: [G] };
    }),
  );
  return sd;
}

/** A prefixed load: the layer's keys are `${prefix}${name}` (e.g. prefix 'rnn.' → 'rnn.weight_ih_l0'). */
export interface TorchLoadOptions {
  prefix: string;
}

/** One layer's part of a model's state dict: its key prefix, the bare names it expects, and how messages name it. */
export interface TorchKeyPart {
  prefix: string;
  names: readonly string[];
  label: string;
}

function listKeys(keys: string[]): string {
  const shown = keys.slice(0, 12).map((k) => `'${k}'`);
  return keys.length > 12 ? `${shown.join(', ')} … and ${keys.length - 12} more` : shown.join(', ');
}

/** The prefix option of a prefixed load, checked. */
export function checkPrefix(op: string, opts: unknown): string {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || typeof (opts as { prefix?: unknown }).prefix !== 'string') {
    throw new ValueError(`${op}: options must be { prefix: string } (e.g. { prefix: 'rnn.' }), got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts === 'object' ? JSON.stringify(opts) : typeof opts}.`);
  }
  return (opts as TorchLoadOptions).prefix;
}

/**
 * Picks each part's keys out of a state dict, prefix stripped, checking them
 * first: every missing key (of every part) and every unused key — one under a
 * part's prefix, or any key at all when `unused` is 'all' — are listed in one
 * WeightError. Nothing is converted here; the parts' loaders check the values.
 */
export function selectTorchKeys(op: string, sd: StateDict, parts: readonly TorchKeyPart[], unused: 'prefixed' | 'all'): StateDict[] {
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) throw new WeightError(`${op}: stateDict must be an object of named tensors, got ${sd === null ? 'null' : Array.isArray(sd) ? 'an array' : typeof sd}.`);
  const has = (k: string) => Object.prototype.hasOwnProperty.call(sd, k);
  const expected = new Set<string>();
  const missing: string[] = [];
  const picked = parts.map((p) => {
    const sub: StateDict = {};
    for (const n of p.names) {
      const key = p.prefix + n;
      expected.add(key);
      if (has(key)) sub[n] = sd[key];
      else missing.push(`'${key}' (${p.label})`);
    }
    return sub;
  });
  const extra = Object.keys(sd).filter((k) => !expected.has(k) && (unused === 'all' || parts.some((p) => k.startsWith(p.prefix))));
  if (missing.length || extra.length) {
    const said: string[] = [];
    if (missing.length) said.push(`missing ${missing.slice(0, 12).join(', ')}${missing.length > 12 ? ` … and ${missing.length - 12} more` : ''}`);
    if (extra.length) said.push(`unused ${listKeys(extra)}`);
    const want = parts.map((p) => `${p.label}: '${p.prefix}' + ${p.names.join(', ')}`).join('; ');
    throw new WeightError(
      `${op}: the state dict does not match (${said.join('; ')}). Expected ${want}. ` +
        `Hint: check the prefixes (PyTorch names a module's weights '<attribute>.<name>', e.g. 'rnn.weight_ih_l0', 'fc.weight') and numLayers/bidirectional.`,
    );
  }
  return picked;
}
