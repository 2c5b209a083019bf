// Row softmax, stable: y[r, c] = exp(x[r, c] − max_r) / Σ_c' exp(x[r, c'] − max_r).
// Buffers:  x (R, C) · y (R, C).
// Dispatch: (ceil(R / 64)) workgroups of 64, one thread per row (rows are short:
//           class or vocabulary scores of a small model).

struct Params {
  R: u32,
  C: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.R) { return; }
  let base = r * p.C;
  var m = x[base];
  for (var c = 1u; c < p.C; c++) { m = max(m, x[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let e = exp(x[base + c] - m);
    y[base + c] = e;
    sum += e;
  }
  for (var c = 0u; c < p.C; c++) { y[base + c] = y[base + c] / sum; }
}
