// Mean squared error, elementwise half (the mean is mean_reduce.wgsl over `part`):
//   d = pred[i] − target[i]
//   part[i] = d²
//   grad[i] = gradScale · d,   gradScale = 2 / n
// grad is ∂(mean over n of d²)/∂pred, as PyTorch's mse_loss backward (2·(x − y)/n).
// Buffers:  pred (N, K) · target (N, K) · part (N, K) · grad (N, K); n = N·K.
// Dispatch: min(ceil(n / 64), maxComputeWorkgroupsPerDimension) workgroups of 64,
//           grid-stride loop over i (any n fits one dispatch).

struct Params {
  n: u32,
  gradScale: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>; // target (`target` is a WGSL reserved word)
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  for (var i = gid.x; i < p.n; i += stride) {
    let d = pred[i] - tgt[i];
    part[i] = d * d;
    grad[i] = p.gradScale * d;
  }
}
