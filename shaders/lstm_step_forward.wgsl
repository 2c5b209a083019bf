// One LSTM time step for every (b, j): the hidden-to-hidden gate matmul, the
// bias, the gate nonlinearities and the state update in one dispatch.
// PyTorch gate order (i, f, g, o):
//   a  = xg[b, t, :] + bhh + W_hh · h_prev[b]     (xg already holds x_t · W_ihᵀ + b_ih)
//   i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
//   c = f ⊙ c_prev + i ⊙ g        h = o ⊙ tanh(c)
// Steps and padding: s = p.step is the step index; the time index is t = s, or
// t = T-1-s when p.reverse = 1. If t ≥ lengths[b] the sample is past its end:
// the state is carried (hs[s+1] = hs[s], cs likewise) and the output is 0.
//
// Buffers:  xg (B, T, G) · whhT (H, G) = W_hhᵀ, so thread j's reads are contiguous ·
//           bhh (G) · lengths (B) u32 · hs, cs (T+1, B, H): state before step s at
//           [s] · out (B, T, outStride), this direction's H columns start at outOffset.
// Dispatch: (ceil(H / 64), B) workgroups of 64; thread j of row b. h_prev[b] is
//           streamed through workgroup memory in tiles of 64.
// Params come from a per-step slot of one uniform buffer (dynamic offset).
// RECORD (training): the activated gates (i, f, g, o) go to gates (T, B, 4H) at
// step s, for lstm_step_backward.wgsl; padded steps record nothing.

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
@group(0) @binding(6) var<storage, read_write> cs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

override RECORD: bool = false;

const WG: u32 = 64u;
var<workgroup> htile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let G = 4u * H;
  let b = wid.y;
  let j = wid.x * WG + lid.x;
  let jr = min(j, H - 1u); // threads past H compute a duplicate and write nothing
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H; // hs[s, b, 0]
  let next = prev + p.B * H;         // hs[s + 1, b, 0]
  let xrow = (b * p.T + t) * G;

  var ai = xg[xrow + jr] + bhh[jr];
  var af = xg[xrow + H + jr] + bhh[H + jr];
  var ag = xg[xrow + 2u * H + jr] + bhh[2u * H + jr];
  var ao = xg[xrow + 3u * H + jr] + bhh[3u * H + jr];
  for (var k0 = 0u; k0 < H; k0 += WG) {
    if (k0 + lid.x < H) { htile[lid.x] = hs[prev + k0 + lid.x]; }
    workgroupBarrier();
    let kn = min(WG, H - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let hk = htile[kk];
      let w = (k0 + kk) * G + jr;
      ai += whhT[w] * hk;
      af += whhT[w + H] * hk;
      ag += whhT[w + 2u * H] * hk;
      ao += whhT[w + 3u * H] * hk;
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }

  var h = hs[prev + j];
  var c = cs[prev + j];
  var o = 0.0;
  if (t < lengths[b]) {
    let ig = sigmoid_f(ai);
    let fg = sigmoid_f(af);
    let gg = tanh_f(ag);
    let og = sigmoid_f(ao);
    c = fg * c + ig * gg;
    h = og * tanh_f(c);
    o = h;
    if (RECORD) {
      let gb = (p.step * p.B + b) * G;
      gates[gb + j] = ig;
      gates[gb + H + j] = fg;
      gates[gb + 2u * H + j] = gg;
      gates[gb + 3u * H + j] = og;
    }
  }
  hs[next + j] = h;
  cs[next + j] = c;
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
}
