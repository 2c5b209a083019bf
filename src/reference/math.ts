// Scalar functions of the CPU reference, in float64.
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
