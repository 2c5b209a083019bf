// Backward of one SimpleRNN time step for every (b, k), reverse step order, one
// dispatch per step. Forward: h' = act(a), a = xg + bhh + W_hh·h.
//   gH = dout[b, t, k] + carry[0, b, k] + Σ_g W_hh[g, k]·dA[s+1, b, g]
//   dA = gH·(1 − h'²) (tanh, ACT = 3) or gH·[h' > 0] (relu, ACT = 1)
// A padded step passes gH through and has zero gradients.
//
// Buffers:  whhT (H, H) · dout (B, T, outStride) at outOffset · lengths (B) u32 ·
//           hs (T+1, B, H) · dA (T, B, H) step-indexed · dxg (B, T, H)
//           time-indexed · carry (2, B, H), [0] used.
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
@group(0) @binding(5) var<storage, read_write> dA: array<f32>;
@group(0) @binding(6) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(7) var<storage, read_write> carry: array<f32>;

override ACT: u32 = 3u;


@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let b = gid.y;
  let k = gid.x;
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);

  if (k >= H) { return; }
  var fromNext = 0.0;
  if (p.hasNext == 1u) {
    let base = ((s + 1u) * p.B + b) * H;
    for (var g = 0u; g < H; g++) { fromNext += whhT[k * H + g] * dA[base + g]; }
  }

  let ch = b * H + k;          // carry[0, b, k]
  var gH = carry[ch] + fromNext;
  var a = 0.0;
  if (t < lengths[b]) {
    gH += dout[(b * p.T + t) * p.outStride + p.outOffset + k];
    let hNew = hs[((s + 1u) * p.B + b) * H + k];
    if (ACT == 1u) {
      a = select(0.0, gH, hNew > 0.0);
    } else {
      a = gH * (1.0 - hNew * hNew);
    }
    gH = 0.0;
  }
  dA[(s * p.B + b) * H + k] = a;
  dxg[(b * p.T + t) * H + k] = a;
  carry[ch] = gH;
}
