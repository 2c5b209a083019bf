// Backward of one Keras reset_after=False GRU time step, first of its two dispatches
// (then gru_v1_reset_backward.wgsl), reverse step order. Forward (recorded r, z, n,
// r ⊙ h; gru_reset_forward.wgsl + gru_v1_step_forward.wgsl):
//   r = σ(a_r)  z = σ(a_z)  n = tanh(xg_n + bhh_n + W_hn·(r ⊙ h))
//   h' = (1 − z) ⊙ n + z ⊙ h
// This dispatch does the per-unit part, for every (b, k):
//   gH   = ∂L/∂h' = dout[b, t, k] + carry[0, b, k] + Σ_{g < 2H} W_hh[g, k]·dA[s+1, b, g]
//   dA_z = gH(h − n)·z(1 − z)     dA_n = gH(1 − z)(1 − n²)     carry[0, b, k] = gH·z
// The sum runs over the r and z rows only: the n rows of step s+1 multiply r ⊙ h,
// and gru_v1_reset_backward.wgsl already put their h term r ⊙ (W_hnᵀ·dA_n) into
// carry. dA_r needs W_hnᵀ·dA_n over all units of the row, which this dispatch is
// still writing, hence the second dispatch.
// dA (gradient of W_hh·v + bhh, v = h for the r, z rows and r ⊙ h for the n rows)
// equals dxg (gradient of xg = x·W_ihᵀ + b_ih) in every block for this cell.
// A padded step passes gH through and has zero gradients.
//
// Buffers:  whhT (H, G) · dout (B, T, outStride) at outOffset · lengths (B) u32 ·
//           hs (T+1, B, H) · gates (T, B, 4H) recorded r, z, n, r ⊙ h ·
//           dA (T, B, G) step-indexed: reads [s+1] blocks r, z, writes [s] blocks z, n ·
//           dxg (B, T, G) time-indexed, blocks z, n · carry (2, B, H), [0] used.
// Dispatch: (ceil(H / 64), B) workgroups of 64; dA[s+1, b, :2H] streamed through
//           workgroup memory in tiles of 64. hasNext = 0 at step T−1.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  step: u32,
  reverse: u32,
  outStride: u32,
  outOffset: u32,
  hasNext: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> whhT: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> lengths: array<u32>;
@group(0) @binding(4) var<storage, read> hs: array<f32>;
@group(0) @binding(5) var<storage, read> gates: array<f32>;
@group(0) @binding(6) var<storage, read_write> dA: array<f32>;
@group(0) @binding(7) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(8) var<storage, read_write> carry: array<f32>;

const WG: u32 = 64u;
var<workgroup> tile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let G = 3u * H;
  let RZ = 2u * H; // the r and z columns of dA
  let b = wid.y;
  let k = wid.x * WG + lid.x;
  let kr = min(k, H - 1u);
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);

  var fromNext = 0.0;
  if (p.hasNext == 1u) {
    let base = ((s + 1u) * p.B + b) * G;
    for (var g0 = 0u; g0 < RZ; g0 += WG) {
      if (g0 + lid.x < RZ) { tile[lid.x] = dA[base + g0 + lid.x]; }
      workgroupBarrier();
      let gn = min(WG, RZ - g0);
      for (var gg = 0u; gg < gn; gg++) { fromNext += whhT[kr * G + g0 + gg] * tile[gg]; }
      workgroupBarrier();
    }
  }
  if (k >= H) { return; }

  let ch = b * H + k;          // carry[0, b, k]
  var gH = carry[ch] + fromNext;
  let ab = (s * p.B + b) * G;
  let xb = (b * p.T + t) * G;
  var az = 0.0;
  var an = 0.0;
  if (t < lengths[b]) {
    gH += dout[(b * p.T + t) * p.outStride + p.outOffset + k];
    let gb = (s * p.B + b) * 4u * H;
    let z = gates[gb + H + k];
    let n = gates[gb + 2u * H + k];
    let hPrev = hs[(s * p.B + b) * H + k];
    an = gH * (1.0 - z) * (1.0 - n * n);
    az = gH * (hPrev - n) * z * (1.0 - z);
    gH = gH * z;
  }
  dA[ab + H + k] = az;
  dA[ab + 2u * H + k] = an;
  dxg[xb + H + k] = az;
  dxg[xb + 2u * H + k] = an;
  carry[ch] = gH;
}
