// One GRU time step (PyTorch semantics = Keras reset_after=True) for every (b, j)
// in one dispatch. PyTorch gate order (r, z, n):
//   r = σ(xg_r + bhh_r + W_hr · h)      z = σ(xg_z + bhh_z + W_hz · h)
//   n = tanh(xg_n + r ⊙ (W_hn · h + bhh_n))
//   h' = (1 − z) ⊙ n + z ⊙ h
// (xg already holds x_t · W_ihᵀ + b_ih.) Steps and padding as lstm_step_forward.wgsl:
// t = step or T-1-step (reverse); past lengths[b] the state is carried, output 0.
//
// Buffers:  xg (B, T, G) · whhT (H, G) = W_hhᵀ · bhh (G) · lengths (B) u32 ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset.
// Dispatch: (ceil(H / 64), B) workgroups of 64; h_prev[b] streamed through
//           workgroup memory in tiles of 64. Params per step via dynamic offset.
// RECORD:   (training) r, z, n and hn = W_hn·h + bhh_n go to gates (T, B, 4H) at step s.

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
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> gates: array<f32>;

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
  let next = prev + p.B * H;
  let xrow = (b * p.T + t) * G;

  var ar = xg[xrow + jr] + bhh[jr];
  var az = xg[xrow + H + jr] + bhh[H + jr];
  var hn = bhh[2u * H + jr];
  for (var k0 = 0u; k0 < H; k0 += WG) {
    if (k0 + lid.x < H) { htile[lid.x] = hs[prev + k0 + lid.x]; }
    workgroupBarrier();
    let kn = min(WG, H - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let hk = htile[kk];
      let w = (k0 + kk) * G + jr;
      ar += whhT[w] * hk;
      az += whhT[w + H] * hk;
      hn += whhT[w + 2u * H] * hk;
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }

  var h = hs[prev + j];
  var o = 0.0;
  if (t < lengths[b]) {
    let r = sigmoid_f(ar);
    let z = sigmoid_f(az);
    let n = tanh_f(xg[xrow + 2u * H + j] + r * hn);
    h = (1.0 - z) * n + z * h;
    o = h;
    if (RECORD) {
      let gb = (p.step * p.B + b) * 4u * H;
      gates[gb + j] = r;
      gates[gb + H + j] = z;
      gates[gb + 2u * H + j] = n;
      gates[gb + 3u * H + j] = hn;
    }
  }
  hs[next + j] = h;
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
}
