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
// Weight layout (the GPU's, see src/weights/gpu_layout.ts): the four gates of
// unit j are adjacent, so one vec4 load serves all four dot products:
//   whh4[k·H + j] = (W_i[j, k], W_f[j, k], W_g[j, k], W_o[j, k])      bhh4[j] likewise
// (measured on SwiftShader: 1.2× faster at B = 1, 1.8× at B = 32 than four
// strided scalar loads).
//
// Buffers:  xg (B, T, 4H) gate-major · whh4 (H, H) vec4 · bhh4 (H) vec4 · lengths (B) u32 ·
//           hs, cs (T+1, B, H): state before step s at [s] · out (B, T, outStride),
//           this direction's H columns start at outOffset · gates (T, B, 4H).
// Dispatch: (ceil(H / 64), B) workgroups of 64; thread j of row b reads h_prev[b]
//           straight from hs (no workgroup memory: barriers are SwiftShader's
//           most expensive operation, and every thread reads the same h_prev).
// Params come from a per-step slot of one uniform buffer (dynamic offset).
// RECORD (training): the activated gates (i, f, g, o) go to gates (T, B, 4H) at
// step s, gate-major, for lstm_step_backward.wgsl; padded steps record nothing.

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
@group(0) @binding(2) var<storage, read> whhT: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bhh: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> cs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

override RECORD: bool = false;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let G = 4u * H;
  let j = gid.x;
  let b = gid.y;
  if (j >= H) { return; }
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H; // hs[s, b, 0]
  let next = prev + p.B * H;         // hs[s + 1, b, 0]
  let xrow = (b * p.T + t) * G;

  var a = bhh[j] + vec4<f32>(xg[xrow + j], xg[xrow + H + j], xg[xrow + 2u * H + j], xg[xrow + 3u * H + j]);
  for (var k = 0u; k < H; k++) {
    a += whhT[k * H + j] * hs[prev + k];
  }

  var h = hs[prev + j];
  var c = cs[prev + j];
  var o = 0.0;
  if (t < lengths[b]) {
    let ig = sigmoid_f(a.x);
    let fg = sigmoid_f(a.y);
    let gg = tanh_f(a.z);
    let og = sigmoid_f(a.w);
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
