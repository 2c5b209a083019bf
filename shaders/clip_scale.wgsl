// Global-norm gradient clipping, torch.nn.utils.clip_grad_norm_ semantics
// (norm_type 2), applied to one parameter's gradient (N):
//   norm    = √total[0]            (total = Σ grad² over ALL clipped parameters,
//                                   left on the GPU by sumsq_reduce.wgsl)
//   coef    = min(1, maxNorm / (norm + 1e-6))
//   grad[i] *= coef
// The norm never leaves the GPU; every parameter's dispatch reads the same total.
// A non-finite total gives a non-finite coefficient (torch: NaN gradients too).
// Buffers: params (uniform) · total (1) read · grad (N) read_write.
// Dispatch: (min(ceil(N / 256), maxWorkgroups)) workgroups of 256; one thread per
//           element, striding by the grid size when N exceeds one thread each.

struct Params {
  N: u32,
  _pad0: u32,
  _pad1: u32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> total: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let coef = min(1.0, u.maxNorm / (sqrt(total[0]) + 1e-6));
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < u.N; i += stride) {
    grad[i] = grad[i] * coef;
  }
}
