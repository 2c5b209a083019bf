// Gradient of RepeatVector: each input feature fed all n steps, so its gradient
// is the sum over the steps,
//   dx[b, f] = Σ_{t < n} dy[b, t, f].
// Overwrites dx (the layer has no parameters; nothing accumulates).
// Buffers:  dy (B, n, F) · dx (B, F), batch-first.
// Dispatch: (ceil(B·F / 64)) workgroups of 64, one thread per (b, f), looping
//           over t in order (the same summation order as the CPU twin).

struct Params {
  B: u32,
  n: u32,
  F: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.B * p.F) { return; }
  let f = i % p.F;
  let b = i / p.F;
  var sum = 0.0;
  for (var t = 0u; t < p.n; t++) { sum += dy[(b * p.n + t) * p.F + f]; }
  dx[i] = sum;
}
