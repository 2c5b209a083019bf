// Weight containers shared by the layers, the loaders (PyTorch, Keras) and the
// initialisers. Internally every recurrent weight is stored in PyTorch's layout
// and PyTorch's gate order:
//   LSTM: (i, f, g, o)   GRU: (r, z, n)   SimpleRNN: one gate.
// Dimension vocabulary: B batch, T steps, I input size, H hidden size,
// G gate rows = gates(cell)·H (4H LSTM, 3H GRU, H SimpleRNN), D directions (1 or 2).

export type CellType = 'rnn' | 'gru' | 'lstm';

/** Number of gate blocks of H rows for a cell. */
export function gateCount(cell: CellType): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Weights of one layer in one direction, PyTorch layout and gate order. */
export interface CellWeights {
  wih: Float32Array; // (G, I_l)   I_l = I for layer 0, D·H above
  whh: Float32Array; // (G, H)
  bih: Float32Array; // (G)
  bhh: Float32Array; // (G)        all zero and not trainable when the layer has a single bias
}

/**
 * The gate activation of LSTM and GRU: 'sigmoid' (PyTorch; Keras 3's default),
 * 'hardSigmoid' = clip(0.2·x + 0.5, 0, 1) (Keras 2's and TensorFlow.js's default
 * recurrent_activation), 'hardSigmoidKeras3' = relu6(x + 3) / 6 (Keras 3's
 * hard_sigmoid).
 */
export type GateActivation = 'sigmoid' | 'hardSigmoid' | 'hardSigmoidKeras3';

/**
 * The cell activation, Keras's `activation` (default tanh): SimpleRNN's
 * nonlinearity, GRU's candidate n, LSTM's candidate g and the act(c) in
 * h = o·act(c). PyTorch has tanh for all three and relu for nn.RNN.
 */
export type CellActivation = 'tanh' | 'relu' | 'sigmoid' | 'linear';

/** Every CellActivation, for validation and messages. */
export const CELL_ACTIVATIONS: readonly CellActivation[] = ['tanh', 'relu', 'sigmoid', 'linear'];

export interface RecurrentConfig {
  cell: CellType;
  /** LSTM/GRU gate activation; 'sigmoid' when absent (and for SimpleRNN, which has no gates). */
  recurrentActivation?: GateActivation;
  inputSize: number; // I
  hiddenSize: number; // H
  numLayers: number; // L
  bidirectional: boolean;
  /** The cell activation of every cell (Keras `activation`; SimpleRNN's `nonlinearity`). */
  nonlinearity: CellActivation;
  /** GRU: true = PyTorch / Keras reset_after=True; false = Keras reset_after=False. */
  resetAfter: boolean;
  /**
   * 'double': separate input and recurrent biases (PyTorch; Keras GRU reset_after=True).
   * 'single': one bias (Keras SimpleRNN, LSTM, GRU reset_after=False); bhh is held at zero.
   */
  bias: 'double' | 'single';
}

/** Weights of a whole stack, indexed [layer][direction]. */
export type StackWeights = CellWeights[][];

/** Input size of layer `l` of a stack. */
export function layerInputSize(cfg: RecurrentConfig, l: number): number {
  return l === 0 ? cfg.inputSize : cfg.hiddenSize * (cfg.bidirectional ? 2 : 1);
}

export function directions(cfg: RecurrentConfig): number {
  return cfg.bidirectional ? 2 : 1;
}

/** Trainable parameter count, as PyTorch/Keras report it. */
export function recurrentParamCount(cfg: RecurrentConfig): number {
  const G = gateCount(cfg.cell) * cfg.hiddenSize;
  let n = 0;
  for (let l = 0; l < cfg.numLayers; l++) {
    const perDir = G * layerInputSize(cfg, l) + G * cfg.hiddenSize + G * (cfg.bias === 'double' ? 2 : 1);
    n += perDir * directions(cfg);
  }
  return n;
}

/** A plain tensor as users hand it over: data plus an optional shape. */
export type ArrayLikeTensor = Float32Array | Float64Array | number[] | { data: ArrayLike<number>; shape?: readonly number[] };

/**
 * A state dict entry: a plain tensor, or one holding 64-bit integers (as
 * parseSafetensors() returns for I64/U64), which loading refuses with a message.
 */
export type StateDictTensor = ArrayLikeTensor | { data: BigInt64Array | BigUint64Array; shape?: readonly number[] };

/** A PyTorch-style state dict: name -> tensor. */
export type StateDict = Record<string, StateDictTensor>;

/** Dense (nn.Linear) weights, PyTorch layout. */
export interface DenseWeights {
  weight: Float32Array; // (out, in)
  bias: Float32Array; // (out)
}
