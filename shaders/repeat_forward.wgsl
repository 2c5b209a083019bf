// RepeatVector (Keras): the same feature vector at every one of n steps,
//   y[b, t, f] = x[b, f]   for t in [0, n).
// Buffers:  x (B, F) · y (B, n, F), batch-first.
// Dispatch: (ceil(B·n·F / 64)) workgroups of 64, one thread per output element.

struct Params {
  B: u32,
  n: u32,
  F: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.B * p.n * p.F) { return; }
  let f = i % p.F;
  let b = i / (p.n * p.F);
  y[i] = x[b * p.F + f];
}
