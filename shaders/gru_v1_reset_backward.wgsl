// Backward of one Keras reset_after=False GRU time step, second of its two
// dispatches (after gru_v1_step_backward.wgsl wrote dA_n of this step for every
// unit). The candidate's recurrent input is r ⊙ h, so with
//   q[b, k] = ∂L/∂(r ⊙ h)[k] = Σ_j W_hn[j, k]·dA_n[s, b, j]     (W_hnᵀ·dA_n, all units)
// for every (b, k):
//   dA_r = q·h·r(1 − r)             (∂L/∂r = q·h)
//   carry[0, b, k] += q·r           (the h term through r ⊙ h; the direct gH·z is there)
// after which carry holds every part of ∂L/∂h except the W_hh term of the r and z
// rows, which the next dispatch (step s−1) or state_grad_backward.wgsl (cols = 2H)
// adds from dA[s, b, :2H]. dxg_r = dA_r.
// A padded step has dA_n = 0, so q = 0: dA_r = 0 and carry is unchanged.
//
// Buffers:  whhT (H, G), the n block at columns [2H, 3H) · lengths (B) u32 ·
//           hs (T+1, B, H) · gates (T, B, 4H) recorded r (block 0) ·
//           dA (T, B, G) step-indexed: reads [s] block n, writes [s] block r ·
//           dxg (B, T, G) time-indexed, block r · carry (2, B, H), [0] used.
// Dispatch: (ceil(H / 64), B) workgroups of 64; dA_n[s, b, :] streamed through
//           workgroup memory in tiles of 64. Params per step as the first dispatch.

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
@group(0) @binding(2) var<storage, read> lengths: array<u32>;
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> gates: array<f32>;
@group(0) @binding(5) var<storage, read_write> dA: array<f32>;
@group(0) @binding(6) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(7) var<storage, read_write> carry: array<f32>;

const WG: u32 = 64u;
var<workgroup> tile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let G = 3u * H;
  let b = wid.y;
  let k = wid.x * WG + lid.x;
  let kr = min(k, H - 1u);
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);
  let ab = (s * p.B + b) * G;

  var q = 0.0;
  for (var j0 = 0u; j0 < H; j0 += WG) {
    if (j0 + lid.x < H) { tile[lid.x] = dA[ab + 2u * H + j0 + lid.x]; }
    workgroupBarrier();
    let jn = min(WG, H - j0);
    for (var jj = 0u; jj < jn; jj++) { q += whhT[kr * G + 2u * H + j0 + jj] * tile[jj]; }
    workgroupBarrier();
  }
  if (k >= H) { return; }

  var ar = 0.0;
  if (t < lengths[b]) {
    let r = gates[(s * p.B + b) * 4u * H + k];
    let hPrev = hs[(s * p.B + b) * H + k];
    ar = q * hPrev * r * (1.0 - r);
    carry[b * H + k] += q * r;
  }
  dA[ab + k] = ar;
  dxg[(b * p.T + t) * G + k] = ar;
}
