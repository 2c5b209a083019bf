// Shared numerics, prepended to every kernel by `withCommon()` in src/kernels/common.ts.

// Logistic sigmoid, split on the sign of x so exp() only ever sees a
// non-positive argument: no overflow for x << 0, exact 1 for x >> 0.
fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

// tanh through e = exp(-2|x|) in (0, 1]: tanh(|x|) = (1 - e) / (1 + e), sign restored.
// Never overflows; saturates to exactly ±1 for |x| ≥ ~9.
fn tanh_f(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}

// Activation selected by an override constant: 0 identity, 1 relu, 2 sigmoid, 3 tanh.
fn activate(kind: u32, x: f32) -> f32 {
  switch kind {
    case 1u: { return max(x, 0.0); }
    case 2u: { return sigmoid_f(x); }
    case 3u: { return tanh_f(x); }
    default: { return x; }
  }
}
