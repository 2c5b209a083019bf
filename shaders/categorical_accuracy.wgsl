// Categorical accuracy, per row (the mean over kept rows is mean_reduce.wgsl with
// HAS_COUNTS). Row r is kept when labels[r] ≠ ignoreIndex and (HAS_MASK) mask[r] ≠ 0:
//   a        = argmax_c x[r, c]   (first index of the maximum, as torch.argmax)
//   hit[r]   = kept and a = labels[r] ? 1 : 0
//   valid[r] = kept ? 1 : 0
// Buffers:  logits (R, C) · labels (R) i32 · mask (R, placeholder without HAS_MASK) ·
//           hit (R) · valid (R).
// Dispatch: min(ceil(R / 64), maxComputeWorkgroupsPerDimension) workgroups of 64, one
//           thread per row, grid-stride.

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
@group(0) @binding(4) var<storage, read_write> hit: array<f32>;
@group(0) @binding(5) var<storage, read_write> valid: array<f32>;

override HAS_MASK: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  for (var r = gid.x; r < p.R; r += stride) {
    let base = r * p.C;
    let label = labels[r];
    var keep = label != p.ignoreIndex;
    if (HAS_MASK) { keep = keep && mask[r] != 0.0; }
    var best = 0u;
    var m = logits[base];
    for (var c = 1u; c < p.C; c++) {
      let v = logits[base + c];
      if (v > m) {
        m = v;
        best = c;
      }
    }
    hit[r] = select(0.0, 1.0, keep && i32(best) == label);
    valid[r] = select(0.0, 1.0, keep);
  }
}
