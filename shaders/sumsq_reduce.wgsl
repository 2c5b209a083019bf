// Sums for the global gradient norm, in two passes, without atomics (WGSL has no
// f32 atomics) and without a readback:
//   SQUARE = true  (pass 1, one dispatch per parameter, W workgroups):
//       out[offset + w] = Σ x[i]²  over the elements workgroup w visits
//   SQUARE = false (pass 2, one dispatch of ONE workgroup over the P partials):
//       out[offset]     = Σ x[i]   = Σ over all parameters of Σ grad²
// Each thread accumulates a strided slice (i = w·256 + lane, step W·256), then the
// workgroup adds its 256 sums in a tree (log2(256) = 8 levels), so f32 rounding
// grows with log(N), not N. The order is fixed: results are deterministic.
// Buffers: params (uniform) · x (N) read · out (≥ offset + W) read_write.
// Dispatch: pass 1 (W) workgroups of 256 with W = min(ceil(N / 256), 64), slots
//           offset .. offset + W − 1 of the partials; pass 2 (1) workgroup of 256.

struct Params {
  N: u32,
  offset: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override SQUARE: bool = true;

const WG: u32 = 256u;
var<workgroup> sums: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let stride = nwg.x * WG;
  var acc = 0.0;
  for (var i = wid.x * WG + lid.x; i < u.N; i += stride) {
    let xi = x[i];
    if (SQUARE) { acc += xi * xi; } else { acc += xi; }
  }
  sums[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { sums[lid.x] += sums[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[u.offset + wid.x] = sums[0]; }
}
