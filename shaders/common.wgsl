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

// The gate (recurrent) activation of LSTM and GRU, selected by the kernel's RACT
// override: 0 the sigmoid; 1 the hard sigmoid of Keras 2 and TensorFlow.js,
// clip(0.2·x + 0.5, 0, 1) (tfjs's default recurrentActivation); 2 Keras 3's,
// relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1).
fn gate_act(kind: u32, x: f32) -> f32 {
  switch kind {
    case 1u: { return clamp(0.2 * x + 0.5, 0.0, 1.0); }
    case 2u: { return clamp(x / 6.0 + 0.5, 0.0, 1.0); }
    default: { return sigmoid_f(x); }
  }
}

// Its derivative, written with its output y = gate_act(kind, x) as the backward
// kernels record it: y(1 − y) for the sigmoid; for the hard sigmoids the slope
// where y is strictly inside (0, 1), 0 where it is clipped.
fn gate_grad(kind: u32, y: f32) -> f32 {
  let inside = y > 0.0 && y < 1.0;
  switch kind {
    case 1u: { return select(0.0, 0.2, inside); }
    case 2u: { return select(0.0, 1.0 / 6.0, inside); }
    default: { return y * (1.0 - y); }
  }
}

// Activation selected by an override constant: 0 identity, 1 relu, 2 sigmoid, 3 tanh.
// Dense's activation, and the recurrent cells' (SimpleRNN's h, GRU's candidate n,
// LSTM's g and act(c)).
fn activate(kind: u32, x: f32) -> f32 {
  switch kind {
    case 1u: { return max(x, 0.0); }
    case 2u: { return sigmoid_f(x); }
    case 3u: { return tanh_f(x); }
    default: { return x; }
  }
}

// Its derivative, written with its output y = activate(kind, x) as the backward
// kernels record it: 1 (identity), [y > 0] (relu, 0 at the kink as PyTorch and
// TensorFlow), y(1 − y) (sigmoid), 1 − y² (tanh).
fn activate_grad(kind: u32, y: f32) -> f32 {
  switch kind {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return y * (1.0 - y); }
    case 3u: { return 1.0 - y * y; }
    default: { return 1.0; }
  }
}
