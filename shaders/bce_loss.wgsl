// Binary cross-entropy, elementwise half (the mean is mean_reduce.wgsl over `part`),
// y = target[i] in [0, 1], gradScale = 1 / n. The override FROM_LOGITS picks the input:
//
// FROM_LOGITS = false, x = pred[i] a probability (PyTorch BCELoss):
//   part[i] = −(y · max(log x, −100) + (1 − y) · max(log(1 − x), −100))
//   grad[i] = gradScale · (x − y) / max(x · (1 − x), 1e-12)
//   The −100 clamp keeps x = 0 or 1 finite (0 · −100 = 0, never 0 · −∞ = NaN); the
//   gradient is PyTorch's binary_cross_entropy_backward with its EPSILON = 1e-12.
//   log(1 − x) goes through log1p_f(−x) so a small x keeps its relative precision.
//   A probability outside [0, 1] (PyTorch raises) gives part[i] = grad[i] = NaN, so
//   the mean loss is NaN, as on the CPU twin: the NaN is the bit pattern `nanBits`
//   from the uniform, stored without arithmetic (WGSL may assume floats stay finite).
//
// FROM_LOGITS = true, x = pred[i] a logit (PyTorch BCEWithLogitsLoss):
//   part[i] = max(x, 0) − x · y + log(1 + exp(−|x|))
//   grad[i] = gradScale · (σ(x) − y)
//   Stable: exp only sees −|x| ≤ 0 and sigmoid_f (common.wgsl) splits on the sign
//   of x, so |x| = 1000 gives finite values.
//
// Buffers:  pred (N, K) · target (N, K) · part (N, K) · grad (N, K); n = N·K.
// Dispatch: min(ceil(n / 64), maxComputeWorkgroupsPerDimension) workgroups of 64,
//           grid-stride loop over i.

struct Params {
  n: u32,
  gradScale: f32,
  nanBits: u32, // 0x7fc00000, a quiet NaN
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>; // target (`target` is a WGSL reserved word)
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

override FROM_LOGITS: bool = false;

// log(1 + u) for u > −1: a Taylor series where 1 + u would round away u's digits.
fn log1p_f(u: f32) -> f32 {
  if (abs(u) < 1e-2) {
    return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * 0.25)));
  }
  return log(1.0 + u);
}

// max(log v, −100), with log 0 = −∞ giving −100.
fn clamped_log(v: f32) -> f32 {
  if (v <= 0.0) { return -100.0; }
  return max(log(v), -100.0);
}

// max(log(1 − x), −100).
fn clamped_log1m(x: f32) -> f32 {
  if (x >= 1.0) { return -100.0; }
  return max(log1p_f(-x), -100.0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  for (var i = gid.x; i < p.n; i += stride) {
    let x = pred[i];
    let y = tgt[i];
    if (FROM_LOGITS) {
      part[i] = max(x, 0.0) - x * y + log1p_f(exp(-abs(x)));
      grad[i] = p.gradScale * (sigmoid_f(x) - y);
    } else if (!(x >= 0.0 && x <= 1.0)) {
      part[i] = bitcast<f32>(p.nanBits);
      grad[i] = bitcast<f32>(p.nanBits);
    } else {
      part[i] = -(y * clamped_log(x) + (1.0 - y) * clamped_log1m(x));
      grad[i] = p.gradScale * (x - y) / max((1.0 - x) * x, 1e-12);
    }
  }
}
