// Scalar functions of the CPU reference, in float64.
import type { CellActivation, GateActivation } from '../weights/types';

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const relu = (x: number): number => (x > 0 ? x : 0);

export type ActivationName = 'none' | 'relu' | 'sigmoid' | 'tanh';
export function applyActivation(kind: ActivationName, x: number): number {
  switch (kind) {
    case 'relu':
      return relu(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return Math.tanh(x);
    default:
      return x;
  }
}

/**
 * The LSTM/GRU gate activation (the CPU twin of gate_act in shaders/common.wgsl):
 * the sigmoid; the hard sigmoid of Keras 2 and TensorFlow.js, clip(0.2·x + 0.5, 0, 1);
 * Keras 3's, relu6(x + 3) / 6.
 */
export function gateActivation(kind: GateActivation | undefined): (x: number) => number {
  if (kind === 'hardSigmoid') return (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5));
  if (kind === 'hardSigmoidKeras3') return (x) => Math.min(6, Math.max(0, x + 3)) / 6;
  return sigmoid;
}

/** Its derivative written with its output y: y(1 − y), or the hard sigmoids' slope strictly inside (0, 1), else 0. */
export function gateDerivative(kind: GateActivation | undefined): (y: number) => number {
  if (kind === 'hardSigmoid') return (y) => (y > 0 && y < 1 ? 0.2 : 0);
  if (kind === 'hardSigmoidKeras3') return (y) => (y > 0 && y < 1 ? 1 / 6 : 0);
  return (y) => y * (1 - y);
}

/**
 * The cell activation (Keras `activation`): SimpleRNN's h, GRU's candidate n, LSTM's
 * g and act(c). tanh, relu, the logistic sigmoid or the identity ('linear').
 */
export function cellActivation(kind: CellActivation): (x: number) => number {
  switch (kind) {
    case 'relu':
      return relu;
    case 'sigmoid':
      return sigmoid;
    case 'linear':
      return (x) => x;
    default:
      return Math.tanh;
  }
}

/**
 * Its derivative written with its output y = act(x): 1 − y² (tanh), y(1 − y)
 * (sigmoid), 1 (linear), and for relu 1 where y > 0, else 0 (0 at the kink, as
 * PyTorch and TensorFlow take it).
 */
export function cellDerivative(kind: CellActivation): (y: number) => number {
  switch (kind) {
    case 'relu':
      return (y) => (y > 0 ? 1 : 0);
    case 'sigmoid':
      return (y) => y * (1 - y);
    case 'linear':
      return () => 1;
    default:
      return (y) => 1 - y * y;
  }
}
