// One RMSprop step, torch.optim.RMSprop semantics (centered = false),
// elementwise over one parameter (N):
//   g      = grad[i] + weightDecay · p[i]
//   v[i]   = α · v[i] + (1 − α) · g²
//   avg    = √v[i] + eps                      (eps outside the root, as torch)
//   momentum > 0:  buf[i] = momentum · buf[i] + g / avg;  p[i] −= lr · buf[i]
//   otherwise:     p[i] −= lr · g / avg
// 1 − α is computed on the CPU in float64 and passed as f32. v and buf start at
// zero (allocated zeroed by the optimizer), as torch's.
// Buffers: params (uniform) · grad (N) read · p (N) read_write · v (N) read_write ·
//          buf (N) read_write (a placeholder, never indexed, when momentum = 0).
// Dispatch: (min(ceil(N / 256), maxWorkgroups)) workgroups of 256; one thread per
//           element, striding by the grid size when N exceeds one thread each.

struct Params {
  N: u32,
  _pad0: u32,
  lr: f32,
  alpha: f32,
  oneMinusAlpha: f32,
  eps: f32,
  weightDecay: f32,
  momentum: f32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < u.N; i += stride) {
    let g = grad[i] + u.weightDecay * p[i];
    let vi = u.alpha * v[i] + u.oneMinusAlpha * g * g;
    v[i] = vi;
    let avg = sqrt(vi) + u.eps;
    if (u.momentum > 0.0) {
      let b = u.momentum * buf[i] + g / avg;
      buf[i] = b;
      p[i] = p[i] - u.lr * b;
    } else {
      p[i] = p[i] - u.lr * g / avg;
    }
  }
}
