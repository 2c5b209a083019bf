// What a Sequential model is made of and what it records, apart from the model
// itself, so the fit loop (src/training/fit.ts) can use them without importing
// the model (that would be an import cycle: the model's fit() calls the loop).
import type { Dense, DenseTape } from '../layers/dense';
import type { Embedding, EmbeddingTape } from '../layers/embedding';
import type { Recurrent, RecurrentTape } from '../layers/recurrent';
import type { RepeatVector, RepeatVectorTape } from '../layers/repeat_vector';
import type { Softmax } from '../layers/softmax';
import type { Tensor } from '../tensor';

export type Layer = Recurrent | Dense | Embedding | Softmax | RepeatVector;

/** The per-layer tapes of one recorded forward pass, in forward order. */
export interface SequentialTape {
  entries: (
    | { kind: 'embedding'; layer: Embedding; tape: EmbeddingTape }
    | { kind: 'recurrent'; layer: Recurrent; tape: RecurrentTape; shape: [number, number] }
    | { kind: 'dense'; layer: Dense; tape: DenseTape }
    | { kind: 'repeat'; layer: RepeatVector; tape: RepeatVectorTape }
  )[];
  used: boolean;
}

/** Frees a tape without running backward. */
export function disposeTape(tape: SequentialTape): void {
  for (const e of tape.entries) {
    if (e.kind === 'recurrent') e.tape.dispose();
    else if (e.kind === 'dense') {
      e.tape.x.dispose();
      e.tape.y?.dispose();
    }
  }
  tape.entries.length = 0;
}

export interface PredictOptions {
  batch?: number;
  seqLen?: number;
  /** Valid steps per sample (B), passed to every recurrent layer (PyTorch packed sequences). */
  lengths?: ArrayLike<number>;
  /**
   * Keras masking: (B, T), 1 = the step is present, passed to every recurrent layer
   * (see RecurrentForwardOptions.mask). An Embedding with maskZero makes it from the
   * ids when this is absent.
   */
  mask?: ArrayLike<number>;
  /**
   * Initial states per recurrent layer (e.g. the final states of the previous
   * window in truncated BPTT); zeros for layers not in the map.
   */
  initialStates?: Map<Recurrent, { h: Tensor; c: Tensor | null }>;
  /** If given, receives each recurrent layer's final states (owned by the caller). */
  finalStates?: Map<Recurrent, { h: Tensor; c: Tensor | null }>;
}
