// Softmax cross-entropy with integer labels, per row (the mean over kept rows is
// mean_reduce.wgsl with HAS_COUNTS, then grad_scale.wgsl multiplies grad by 1/count).
// Row r is kept when labels[r] ≠ ignoreIndex and (HAS_MASK) mask[r] ≠ 0. Kept rows,
// with m = max_c x[r, c], s = Σ_c exp(x[r, c] − m) (stable log-softmax):
//   part[r]    = log Σ_c exp(x[r, c]) − x[r, label] = (m − x[r, label]) + log s
//   valid[r]   = 1
//   grad[r, c] = exp(x[r, c] − m) / s − [c = label]     (softmax − onehot, not yet / count)
// Ignored rows: part[r] = valid[r] = 0 and grad[r, :] = 0.
// Labels are checked on the CPU before upload: every label is in [0, C) or equals
// ignoreIndex. WRITE_GRAD = false (perplexity) skips grad (the launcher then binds a
// 1-element scratch there); without HAS_MASK, `mask` is a placeholder, never read.
// Buffers:  logits (R, C) · labels (R) i32 · mask (R) · part (R) · valid (R) · grad (R, C);
//           R = N, or B·T for a many-to-many model's flattened outputs.
// Dispatch: min(ceil(R / 64), maxComputeWorkgroupsPerDimension) workgroups of 64, one
//           thread per row, grid-stride (rows are short: class or vocabulary scores).

struct Params {
  R: u32,
  C: u32,
  ignoreIndex: i32,
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;
@group(0) @binding(5) var<storage, read_write> valid: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

override HAS_MASK: bool = false;
override WRITE_GRAD: bool = true;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  for (var r = gid.x; r < p.R; r += stride) {
    let base = r * p.C;
    let label = labels[r];
    var keep = label != p.ignoreIndex;
    if (HAS_MASK) { keep = keep && mask[r] != 0.0; }
    if (!keep) {
      part[r] = 0.0;
      valid[r] = 0.0;
      if (WRITE_GRAD) {
        for (var c = 0u; c < p.C; c++) { grad[base + c] = 0.0; }
      }
      continue;
    }
    let l = u32(label);
    var m = logits[base];
    for (var c = 1u; c < p.C; c++) { m = max(m, logits[base + c]); }
    var s = 0.0;
    for (var c = 0u; c < p.C; c++) { s += exp(logits[base + c] - m); }
    part[r] = (m - logits[base + l]) + log(s);
    valid[r] = 1.0;
    if (WRITE_GRAD) {
      for (var c = 0u; c < p.C; c++) {
        grad[base + c] = exp(logits[base + c] - m) / s - select(0.0, 1.0, c == l);
      }
    }
  }
}
