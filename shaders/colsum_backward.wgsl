// Bias gradients: out[n] (+)= Σ_m y[m, n] over all rows (every batch entry and step).
// Buffers:  y (M, N) · out (N). ACCUMULATE as in matmul_backward.wgsl.
// Dispatch: (ceil(N / 64)) workgroups of 64, one column per thread.

struct Params {
  M: u32,
  N: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override ACCUMULATE: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var acc = 0.0;
  for (var m = 0u; m < p.M; m++) { acc += y[m * p.N + n]; }
  if (ACCUMULATE) { out[n] += acc; } else { out[n] = acc; }
}
