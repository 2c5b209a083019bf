// ‖∂L/∂h_t‖ of every step of one layer direction, from what the step-backward
// kernels recorded with RECORD_DH: row s of g = carry[3 + s] (B·H values, the
// gradient of the state step s produced). out[offset + t] = sqrt(Σ g²) with the
// time t = s, or T−1−s for the reverse direction, so rows come out in time order.
//
// Buffers:  carry ((3 + T), B, H) · out (L·D, T), this direction's row at offset.
// Dispatch: T workgroups of 64 threads; thread i sums the squares of entries
//           i, i + 64, … of its row, then a tree reduction in workgroup memory.

struct Params {
  T: u32,
  n: u32, // B·H, the entries of a row
  offset: u32, // ld·T
  reverse: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> carry: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) i: u32) {
  let s = wg.x;
  let base = (3u + s) * p.n;
  var acc = 0.0;
  for (var k = i; k < p.n; k += 64u) {
    let v = carry[base + k];
    acc += v * v;
  }
  part[i] = acc;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (i < w) { part[i] += part[i + w]; }
    workgroupBarrier();
  }
  if (i == 0u) {
    let t = select(s, p.T - 1u - s, p.reverse == 1u);
    out[p.offset + t] = sqrt(part[0]);
  }
}
