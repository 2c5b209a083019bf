// One LSTM time step for every (b, j): the hidden-to-hidden gate matmul, the
// bias, the gate nonlinearities and the state update in one dispatch.
// PyTorch gate order (i, f, g, o):
//   a  = xg[b, t, :] + bhh + W_hh · h_prev[b]     (xg already holds x_t · W_ihᵀ + b_ih)
//   i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
//   c = f ⊙ c_prev + i ⊙ g        h = o ⊙ tanh(c)
// Steps and padding: s = p.step is the step index; the time index is t = s, or
// t = T-1-s when p.reverse = 1. If the step is masked (valid 0, see Masks):
// the state is carried (hs[s+1] = hs[s], cs likewise) and the output is 0 (or,
// with KERAS_MASK, the previous output).
//
// Weight layout (the GPU's, see src/weights/gpu_layout.ts): the four gates of
// unit j are adjacent, so one vec4 load serves all four dot products:
//   whh4[k·H + j] = (W_i[j, k], W_f[j, k], W_g[j, k], W_o[j, k])      bhh4[j] likewise
// (measured on SwiftShader: 1.2× faster at B = 1, 1.8× at B = 32 than four
// strided scalar loads).
//
// Buffers:  xg (B, T, 4H) gate-major · whh4 (H, H) vec4 · bhh4 (H) vec4 · valid (B, T) u32 ·
//           hs, cs (T+1, B, H): state before step s at [s] · out (B, T, outStride),
//           this direction's H columns start at outOffset · gates (T, B, 4H).
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread j of row tile
//           y computes unit j of batch rows y·ROWS … y·ROWS+ROWS−1, reading h_prev
//           straight from hs (no workgroup memory: barriers are SwiftShader's most
//           expensive operation). The k loop takes 4 values at a time: the 4×4
//           block of W_hh (gates × k) as one mat4x4 times each row's h_prev[k … k+3].
//           Measured on SwiftShader (Chromium), the (32, 64, 64, 128) steps went
//           390 ms → 279 ms with the 4×4 blocks and → 154 ms with ROWS = 4.
// Params come from a per-step slot of one uniform buffer (dynamic offset).
// RECORD (training): the activated gates (i, f, g, o) go to gates (T, B, 4H) at
// step s, gate-major, for lstm_step_backward.wgsl; padded steps record nothing.

// Masks: valid (B, T) says which steps run (1) and which are masked (0). A masked
// step carries the state; its output is 0 (PyTorch packed sequences: valid comes
// from lengths) or, with KERAS_MASK, the previous step's output in this direction's
// order (0 before the first: Keras's masking, any mask position, e.g. pre-padding).

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
@group(0) @binding(4) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> cs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of g and the tanh of c' is act.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;

override RECORD: bool = false;
// Batch rows per thread: 1, 2 or 4. Each chunk of 4 values of k loads the 4×4 block
// of W_hh (4 vec4: the gates of unit j at k … k+3) once and multiplies it into
// every row's h_prev[k … k+3], so more rows means fewer weight loads per
// multiply-add. Rows past B are clamped to B−1 (computed, not stored).
override ROWS: u32 = 1u;

// h_prev[row at `base`][k … k+3] (base = (s·B + b)·H), from 4 scalar loads.
fn h4(base: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(hs[base + k], hs[base + k + 1u], hs[base + k + 2u], hs[base + k + 3u]);
}

// The state update of unit j of row b at step s, from its pre-activations a.
fn cell(b: u32, j: u32, a: vec4<f32>) {
  let H = p.H;
  let G = 4u * H;
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  let next = prev + p.B * H;
  var h = hs[prev + j];
  var c = cs[prev + j];
  var o = 0.0;
  if (valid[b * p.T + t] != 0u) {
    let ig = gate_act(RACT, a.x);
    let fg = gate_act(RACT, a.y);
    let gg = activate(ACT, a.z);
    let og = gate_act(RACT, a.w);
    c = fg * c + ig * gg;
    h = og * activate(ACT, c);
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
  if (KERAS_MASK && valid[b * p.T + t] == 0u) { o = masked_out(b, j, p.step, t); }
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
}

// xg[b, t, gates of j] + b_hh[j]: the part of the pre-activations that is not W_hh·h.
fn a0(b: u32, j: u32) -> vec4<f32> {
  let H = p.H;
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let xrow = (b * p.T + t) * 4u * H;
  return bhh[j] + vec4<f32>(xg[xrow + j], xg[xrow + H + j], xg[xrow + 2u * H + j], xg[xrow + 3u * H + j]);
}

// With KERAS_MASK, a masked step's output: the output of the step before it in
// this direction's order (written earlier by this same thread), 0 before the first.
fn masked_out(b: u32, j: u32, s: u32, t: u32) -> f32 {
  if (s == 0u) { return 0.0; }
  let tp = select(t - 1u, t + 1u, p.reverse == 1u);
  return out[(b * p.T + tp) * p.outStride + p.outOffset + j];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let j = gid.x;
  let b0 = gid.y * ROWS;
  if (j >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let b1 = min(b0 + 1u, last);
  let b2 = min(b0 + 2u, last);
  let b3 = min(b0 + 3u, last);
  let base = p.step * p.B * H;
  var acc0 = a0(b0, j);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  if (ROWS > 1u) { acc1 = a0(b1, j); }
  if (ROWS > 2u) { acc2 = a0(b2, j); acc3 = a0(b3, j); }
  var k = 0u;
  for (; k + 4u <= H; k += 4u) {
    let w = mat4x4<f32>(whhT[k * H + j], whhT[(k + 1u) * H + j], whhT[(k + 2u) * H + j], whhT[(k + 3u) * H + j]);
    acc0 += w * h4(base + b0 * H, k);
    if (ROWS > 1u) { acc1 += w * h4(base + b1 * H, k); }
    if (ROWS > 2u) {
      acc2 += w * h4(base + b2 * H, k);
      acc3 += w * h4(base + b3 * H, k);
    }
  }
  for (; k < H; k++) {
    let w = whhT[k * H + j];
    acc0 += w * hs[base + b0 * H + k];
    if (ROWS > 1u) { acc1 += w * hs[base + b1 * H + k]; }
    if (ROWS > 2u) {
      acc2 += w * hs[base + b2 * H + k];
      acc3 += w * hs[base + b3 * H + k];
    }
  }
  // every thread has read all of h_prev it needs before any writes: the rows' writes go to hs[s+1]
  cell(b0, j, acc0);
  if (ROWS > 1u && b0 + 1u < p.B) { cell(b1, j, acc1); }
  if (ROWS > 2u && b0 + 2u < p.B) { cell(b2, j, acc2); }
  if (ROWS > 2u && b0 + 3u < p.B) { cell(b3, j, acc3); }
}
