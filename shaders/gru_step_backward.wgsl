// Backward of one GRU time step (PyTorch / Keras reset_after=True) for every
// (b, k), reverse step order, one dispatch per step. Forward (recorded r, z, n, hn):
//   r = σ(a_r)  z = σ(a_z)  hn = W_hn·h + bhh_n  n = tanh(xg_n + r ⊙ hn)
//   h' = (1 − z) ⊙ n + z ⊙ h
// With gH = ∂L/∂h' (dout + carry + Σ_g W_hh[g, k]·dA[s+1, b, g], as in
// lstm_step_backward.wgsl):
//   dn = gH(1 − z)   dz = gH(h − n)   ∂L/∂h (direct) = gH·z
//   dxg_n = dn(1 − n²)   dA_n = dxg_n·r   dA_r = dxg_n·hn·r(1 − r)   dA_z = dz·z(1 − z)
// dA (gradient of W_hh·h + bhh, pairs with h for dW_hh) and dxg (gradient of
// xg = x·W_ihᵀ + b_ih) agree on r and z and differ on n.
// A padded step passes gH through and has zero gradients.
//
// Buffers:  whhT (H, G) · dout (B, T, outStride) at outOffset · lengths (B) u32 ·
//           hs (T+1, B, H) · gates (T, B, 4H) · dA (T, B, G) step-indexed ·
//           dxg (B, T, G) time-indexed · carry (2, B, H), [0] used.
// Dispatch: (ceil(H / 64), B) workgroups of 64; dA[s+1, b, :] read straight from
//           memory (no workgroup tiles: barriers cost most on SwiftShader). hasNext = 0 at step T−1.

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


@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let G = 3u * H;
  let b = gid.y;
  let k = gid.x;
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);

  if (k >= H) { return; }
  var fromNext = 0.0;
  if (p.hasNext == 1u) {
    let base = ((s + 1u) * p.B + b) * G;
    for (var g = 0u; g < G; g++) { fromNext += whhT[k * G + g] * dA[base + g]; }
  }

  let ch = b * H + k;          // carry[0, b, k]
  var gH = carry[ch] + fromNext;
  let ab = (s * p.B + b) * G;
  let xb = (b * p.T + t) * G;
  var ar = 0.0;
  var az = 0.0;
  var an = 0.0;
  var xn = 0.0;
  if (t < lengths[b]) {
    gH += dout[(b * p.T + t) * p.outStride + p.outOffset + k];
    let gb = (s * p.B + b) * 4u * H;
    let r = gates[gb + k];
    let z = gates[gb + H + k];
    let n = gates[gb + 2u * H + k];
    let hn = gates[gb + 3u * H + k];
    let hPrev = hs[(s * p.B + b) * H + k];
    xn = gH * (1.0 - z) * (1.0 - n * n);
    an = xn * r;
    ar = xn * hn * r * (1.0 - r);
    az = gH * (hPrev - n) * z * (1.0 - z);
    gH = gH * z;
  }
  dA[ab + k] = ar;
  dA[ab + H + k] = az;
  dA[ab + 2u * H + k] = an;
  dxg[xb + k] = ar;
  dxg[xb + H + k] = az;
  dxg[xb + 2u * H + k] = xn;
  carry[ch] = gH;
}
