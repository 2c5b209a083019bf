// First half of a Keras reset_after=False GRU step: the reset gate applied to the
// previous state, which the candidate's matmul needs for every k before it can
// start (so this variant takes two dispatches per step on the per-step path).
//   r = σ(xg_r + bhh_r + W_hr · h_prev[b])      rh[b, k] = r_k · h_prev[b, k]
//
// Buffers:  xg (B, T, G) · whhT (H, G) · bhh (G) · hs (T+1, B, H) · rh (B, H) out ·
//           gates (T, B, 4H) (RECORD only; else a placeholder).
// Dispatch: (ceil(H / 64), B) workgroups of 64; thread k of row b.
// No masking here: gru_v1_step_forward.wgsl ignores rh for padded steps.
// RECORD:   (training) r to block 0 and r ⊙ h to block 3 of gates at step s, for
//           every (b, k), padded steps included (their dA is 0, so the backward's
//           dW_hn = Σ (r ⊙ h)ᵀ·dA_n never uses them); z, n: gru_v1_step_forward.wgsl.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  step: u32,
  reverse: u32,
  outStride: u32,
  outOffset: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xg: array<f32>;
@group(0) @binding(2) var<storage, read> whhT: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> rh: array<f32>;
@group(0) @binding(6) var<storage, read_write> gates: array<f32>;

override RECORD: bool = false;

const WG: u32 = 64u;
var<workgroup> htile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let G = 3u * H;
  let b = wid.y;
  let j = wid.x * WG + lid.x;
  let jr = min(j, H - 1u);
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  let xrow = (b * p.T + t) * G;

  var ar = xg[xrow + jr] + bhh[jr];
  for (var k0 = 0u; k0 < H; k0 += WG) {
    if (k0 + lid.x < H) { htile[lid.x] = hs[prev + k0 + lid.x]; }
    workgroupBarrier();
    let kn = min(WG, H - k0);
    for (var kk = 0u; kk < kn; kk++) {
      ar += whhT[(k0 + kk) * G + jr] * htile[kk];
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }
  let r = sigmoid_f(ar);
  let v = r * hs[prev + j];
  rh[b * H + j] = v;
  if (RECORD) {
    let gb = (p.step * p.B + b) * 4u * H;
    gates[gb + j] = r;
    gates[gb + 3u * H + j] = v;
  }
}
