// One Adam / AdamW step, torch.optim.Adam / AdamW semantics (amsgrad = false),
// elementwise over one parameter (N), at step t (1-based):
//   p[i]  *= decayFactor                         AdamW: 1 − lr·wd (decoupled); Adam: 1
//   g      = grad[i] + weightDecay · p[i]        Adam: L2 wd; AdamW: 0
//   m[i]   = β1 · m[i] + (1 − β1) · g
//   v[i]   = β2 · v[i] + (1 − β2) · g²
//   p[i]  −= stepSize · m[i] / (√v[i] / bc2Sqrt + eps)
// with stepSize = lr / (1 − β1ᵗ) and bc2Sqrt = √(1 − β2ᵗ), torch's own split of
// the bias corrections. Those two and 1 − β1, 1 − β2 are computed on the CPU in
// float64 from t and passed as f32: pow(0.999, t) in f32 then 1 − it would lose
// about four digits of 1 − β2ᵗ at small t. m and v start at zero (the optimizer
// allocates them zeroed), as torch's.
// Buffers: params (uniform) · grad (N) read · p (N) read_write · m (N), v (N)
//          read_write (the moments, owned by the optimizer).
// Dispatch: (min(ceil(N / 256), maxWorkgroups)) workgroups of 256; one thread per
//           element, striding by the grid size when N exceeds one thread each.

struct Params {
  N: u32,
  step: u32,          // t, for the record (the corrections below derive from it)
  _pad0: u32,
  _pad1: u32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  eps: f32,
  weightDecay: f32,   // L2 (Adam); 0 for AdamW
  decayFactor: f32,   // 1 − lr·wd (AdamW); 1 for Adam
  stepSize: f32,      // lr / (1 − β1ᵗ)
  bc2Sqrt: f32,       // √(1 − β2ᵗ)
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < u.N; i += stride) {
    let pi = p[i] * u.decayFactor;
    let g = grad[i] + u.weightDecay * pi;
    let mi = u.beta1 * m[i] + u.oneMinusBeta1 * g;
    let vi = u.beta2 * v[i] + u.oneMinusBeta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - u.stepSize * mi / (sqrt(vi) / u.bc2Sqrt + u.eps);
  }
}
