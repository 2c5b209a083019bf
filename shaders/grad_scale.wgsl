// In-place gradient scaling by a GPU-computed scalar: grad[i] = grad[i] · scale[0],
// where scale[0] = 1 / (kept rows) from mean_reduce.wgsl (0 for an all-ignored batch),
// so the count never travels through the CPU.
// Buffers:  scale (1) · grad (n).
// Dispatch: min(ceil(n / 64), maxComputeWorkgroupsPerDimension) workgroups of 64,
//           grid-stride loop over i.

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 64u;
  let k = scale[0];
  for (var i = gid.x; i < p.n; i += stride) {
    grad[i] = grad[i] * k;
  }
}
