// Sequential: a stack of layers run in order (Embedding → recurrent layers →
// Dense → Softmax), with Keras's summary() table and parameter counts.
import type { Backend } from './backend';
import { ShapeError, ValueError } from './errors';
import { Dense } from './layers/dense';
import { Embedding } from './layers/embedding';
import { Recurrent, type Input } from './layers/recurrent';
import { Softmax } from './layers/softmax';
import { Tensor } from './tensor';
import { directions } from './weights/types';

export type Layer = Recurrent | Dense | Embedding | Softmax;

export interface PredictOptions {
  batch?: number;
  seqLen?: number;
  /** Valid steps per sample (B), passed to every recurrent layer. */
  lengths?: ArrayLike<number>;
}

const SNAKE: Record<string, string> = { Embedding: 'embedding', SimpleRNN: 'simple_rnn', GRU: 'gru', LSTM: 'lstm', Dense: 'dense', Softmax: 'softmax' };

export class Sequential {
  readonly layers: readonly Layer[];
  private readonly backend: Backend;

  constructor(backend: Backend, layers: Layer[]) {
    if (!Array.isArray(layers) || layers.length === 0) throw new ValueError('sequential: pass a non-empty array of layers.');
    let width: number | null = null; // feature size flowing between layers
    let seq = true; // whether a time axis is still present
    layers.forEach((layer, i) => {
      const at = `sequential: layer ${i} (${layer.kind})`;
      if (layer.backendRef !== backend) throw new ValueError(`${at} was created by another runtime.`);
      if (layer instanceof Embedding) {
        if (i !== 0) throw new ValueError(`${at}: an Embedding must be the first layer.`);
        width = layer.dim;
      } else if (layer instanceof Recurrent) {
        if (!seq) throw new ValueError(`${at}: the previous recurrent layer has returnSequences: false, so there is no sequence left. Hint: set returnSequences: true on it.`);
        if (width !== null && layer.config.inputSize !== width) throw new ShapeError(`${at}: inputSize is ${layer.config.inputSize}, but the previous layer outputs ${width} features.`);
        width = layer.outputSize;
        seq = layer.returnSequences;
      } else if (layer instanceof Dense) {
        if (width !== null && layer.inputSize !== width) throw new ShapeError(`${at}: inputSize is ${layer.inputSize}, but the previous layer outputs ${width} features.`);
        width = layer.units;
      }
    });
    this.layers = layers;
    this.backend = backend;
  }

  get paramCount(): number {
    return this.layers.reduce((n, l) => n + l.paramCount, 0);
  }

  /** A Keras-style table: layer (type), output shape, parameter count, and totals. */
  summary(): string {
    const seen: Record<string, number> = {};
    const rows: [string, string, string][] = [];
    let shape: (number | null)[] = [null, null, null];
    for (const l of this.layers) {
      const base = SNAKE[l.kind];
      const name = seen[base] === undefined ? base : `${base}_${seen[base]}`;
      seen[base] = (seen[base] ?? 0) + 1;
      if (l instanceof Embedding) shape = [null, null, l.dim];
      else if (l instanceof Recurrent) shape = l.returnSequences ? [null, null, l.outputSize] : [null, l.outputSize];
      else if (l instanceof Dense) shape = [...shape.slice(0, -1), l.units];
      rows.push([`${name} (${l.kind})`, `(${shape.map((d) => (d === null ? 'None' : d)).join(', ')})`, l.paramCount.toLocaleString('en-US')]);
    }
    const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = [0, 1, 2].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)) + 2);
    const line = (r: [string, string, string]) => r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2].padStart(w[2]);
    const rule = '─'.repeat(w[0] + w[1] + w[2]);
    const total = this.paramCount.toLocaleString('en-US');
    return [rule, line(head), rule, ...rows.map(line), rule, `Total params: ${total}`, `Trainable params: ${total}`, 'Non-trainable params: 0', rule].join('\n');
  }

  /**
   * Runs every layer. x is token ids (B, T) when the first layer is an Embedding,
   * else features (B, T, I). Returns the last layer's output (caller owns it).
   */
  async predict(x: Input | ArrayLike<number>, opts: PredictOptions = {}): Promise<Tensor> {
    let cur: Input | null = null;
    let owned: Tensor | null = null; // intermediate result to free once consumed
    const take = (t: Tensor) => {
      owned?.dispose();
      owned = t;
      cur = t;
    };
    let B = opts.batch;
    let T = opts.seqLen;
    try {
      for (const layer of this.layers) {
        if (layer instanceof Embedding) {
          const ids = x as ArrayLike<number>;
          if (B === undefined && T === undefined) throw new ShapeError('Sequential.predict: token ids are flat; pass batch and/or seqLen.');
          B ??= ids.length / T!;
          T ??= ids.length / B;
          take(await layer.forward(ids, [B, T]));
        } else if (layer instanceof Recurrent) {
          const res = await layer.forward(cur ?? (x as Input), { batch: B, seqLen: T, lengths: opts.lengths });
          B = res.output.shape[0];
          T = res.output.shape[1];
          if (layer.returnSequences) {
            res.h.dispose();
            res.c?.dispose();
            take(res.output);
          } else {
            res.output.dispose();
            res.c?.dispose();
            take(await lastStep(this.backend, res.h, layer.config.numLayers, directions(layer.config)));
          }
        } else {
          take(await layer.forward(cur ?? (x as Input)));
        }
      }
    } catch (e) {
      (owned as Tensor | null)?.dispose();
      throw e;
    }
    return owned!;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

/**
 * The last step's features (B, D·H) of a recurrent stack from its final states
 * h (L·D, B, H): the forward direction's state at each sample's last valid step,
 * and the reverse direction's state after it has read back to t = 0 (as Keras's
 * return_sequences=False). Takes ownership of h.
 */
async function lastStep(backend: Backend, h: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, H] = h.shape;
  const first = (L - 1) * D; // the top layer's rows
  if (backend.kind === 'cpu') {
    const src = h.cpuData('lastStep');
    const out = new Float64Array(B * D * H);
    for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) out.set(src.subarray(((first + d) * B + b) * H, ((first + d) * B + b + 1) * H), (b * D + d) * H);
    h.dispose();
    return Tensor.fromCpu(out, [B, D * H]);
  }
  const ctx = backend.ctx;
  const out = ctx.createStorage('last_step', B * D * H);
  try {
    await ctx.submit('lastStep', (enc) => {
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) enc.copyBufferToBuffer(h.gpuBuffer('lastStep'), ((first + d) * B + b) * H * 4, out, (b * D + d) * H * 4, H * 4);
      }
    });
  } catch (e) {
    ctx.destroyBuffer(out);
    throw e;
  } finally {
    h.dispose();
  }
  return Tensor.fromGpu(ctx, out, [B, D * H]);
}
