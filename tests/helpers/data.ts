// Deterministic test data shared by the Node tests.

/** n values in (−1, 1) from a linear congruential generator: the same for the same seed. */
export function data(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648) * 2 - 1;
  }
  return a;
}
