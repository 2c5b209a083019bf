// Binary accuracy, elementwise half (the mean is mean_reduce.wgsl over `hit`, count n):
//   hit[i] = [(pred[i] ≥ threshold) = (target[i] ≥ 0.5)]
// threshold = 0.5 on probabilities, 0 on logits (FROM_LOGITS; σ(0) = 0.5, so both agree).
// Targets are 0/1 (checked on the CPU when they come from the CPU).
// Buffers:  pred (N, K) · target (N, K) · hit (N, K); n = N·K.
// Dispatch: min(ceil(n / 64), maxComputeWorkgroupsPerDimension) workgroups of 64,
//           grid-stride loop over i.

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<f32>; // target (`target` is a WGSL reserved word)
@group(0) @binding(3) var<storage, read_write> hit: array<f32>;

override FROM_LOGITS: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  let threshold = select(0.5, 0.0, FROM_LOGITS);
  for (var i = gid.x; i < p.n; i += stride) {
    let positive = pred[i] >= threshold;
    let truth = tgt[i] >= 0.5;
    hit[i] = select(0.0, 1.0, positive == truth);
  }
}
