// Backward of one LSTM time step for every (b, k), in reverse step order, one
// dispatch per step. Forward (gate order i, f, g, o; activated gates recorded):
//   c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')
// Let gH = ∂L/∂h' and dc = ∂L/∂c' (carried from later steps):
//   gH = dout[b, t, k] + carry_h[b, k] + Σ_g W_hh[g, k] · dA[s+1, b, g]
//   dc += gH ⊙ o ⊙ (1 − tanh²(c'))
//   dA_i = dc·g·i(1−i)  dA_f = dc·c·f(1−f)  dA_g = dc·i·(1−g²)  dA_o = gH·tanh(c')·o(1−o)
//   ∂L/∂c = dc ⊙ f  (carried to step s−1)
// where dA = ∂L/∂(pre-activations) = ∂L/∂xg = ∂L/∂(W_hh·h + bhh). The W_hh term is
// the gradient that flows from step s+1 into h' through its recurrent matmul: it
// needs every gate of step s+1, which the previous dispatch finished.
// A masked step (valid 0) is the identity on (h, c): its dA is 0 and it
// passes gH and dc through (carry_h = gH).
//
// Buffers:  whhT (H, G), row k = the gate-interleaved weights of column k · dout (B, T, outStride), this direction's columns at
//           outOffset · valid (B, T) u32 · cs (T+1, B, H) · gates (T, B, 4H) recorded ·
//           dA (T, B, G) step-indexed, gates of a unit adjacent (the GPU layout of
//           W_hh, so W_hhᵀ·dA and hsᵀ·dA need no reordering): reads [s+1], writes [s] · dxg (B, T, G)
//           time-indexed copy of dA (pairs with the layer input x) ·
//           carry (2, B, H): [0] the part of ∂L/∂h' not yet in dA, [1] dc.
//           Before step T−1 the scheduler puts ∂L/∂h_T, ∂L/∂c_T into carry.
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread k of row tile y
//           handles unit k of batch rows y·ROWS … y·ROWS+ROWS−1, reading dA[s+1]
//           straight from memory (no workgroup tiles: barriers cost most on
//           SwiftShader). hasNext = 0 at step T−1. Measured on SwiftShader (Chromium),
//           the (32, 64, 64, 128) backward steps went 458 ms → 243 ms with ROWS = 4.

// Masks: valid (B, T) as in the forward. A masked step is the identity on the
// state. Its output gradient is dropped (PyTorch), or with KERAS_MASK carried in
// carry[2] to the step whose output it repeated (carry is (3, B, H)).

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
@group(0) @binding(1) var<storage, read> whhT: array<vec4<f32>>; // (H, H): the 4 gates of unit j adjacent
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(4) var<storage, read> cs: array<f32>;
@group(0) @binding(5) var<storage, read> gates: array<f32>;
@group(0) @binding(6) var<storage, read_write> dA: array<vec4<f32>>; // (T, B, H) vec4 = the 4 gates of a unit
@group(0) @binding(7) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(8) var<storage, read_write> carry: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of g and the tanh of c' is act, and
// its 1 − y² is act'(y) = activate_grad(ACT, y), taken from the output.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;
// Write ∂L/∂h_t of every step to carry[3 + s] (backward with stepGradNorms); carry is then (3 + T, B, H).
override RECORD_DH: bool = false;

// Batch rows per thread: 1, 2 or 4 (as lstm_step_forward.wgsl): each W_hh load
// serves every row's dot product. Rows past B are clamped (computed, not stored).
override ROWS: u32 = 1u;

// The rest of step s for unit k of row b, given Σ_g W_hh[g, k]·dA[s+1, b, g].
fn step_back(b: u32, k: u32, fromNext: f32) {
  let H = p.H;
  let G = 4u * H;
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);
  let ch = b * H + k;          // carry[0, b, k]
  let cc = (p.B + b) * H + k;  // carry[1, b, k]
  var gH = carry[ch] + fromNext;
  var dc = carry[cc];
  let ab = (s * p.B + b) * G;
  let xb = (b * p.T + t) * G;
  var ai = 0.0;
  var af = 0.0;
  var ag = 0.0;
  var ao = 0.0;
  var gO = dout[(b * p.T + t) * p.outStride + p.outOffset + k];
  let co = (2u * p.B + b) * H + k; // carry[2, b, k], KERAS_MASK only
  if (KERAS_MASK) { gO += carry[co]; }
  let runs = valid[b * p.T + t] != 0u;
  if (KERAS_MASK) { carry[co] = select(gO, 0.0, runs); }
  // RECORD_DH: ∂L/∂h_t, the whole gradient of the state this step produced, into
  // carry[3 + s] (read by step_grad_norms.wgsl); a masked step's is what passes it
  if (RECORD_DH) { carry[((3u + s) * p.B + b) * H + k] = select(gH, gH + gO, runs); }
  if (runs) {
    gH += gO;
    let i = gates[ab + k];
    let f = gates[ab + H + k];
    let g = gates[ab + 2u * H + k];
    let o = gates[ab + 3u * H + k];
    let BH = p.B * H;
    let c = cs[(s + 1u) * BH + b * H + k];
    let cPrev = cs[s * BH + b * H + k];
    let tc = activate(ACT, c);
    dc += gH * o * activate_grad(ACT, tc);
    ai = dc * g * gate_grad(RACT, i);
    af = dc * cPrev * gate_grad(RACT, f);
    ag = dc * i * activate_grad(ACT, g);
    ao = gH * tc * gate_grad(RACT, o);
    dc = dc * f;
    gH = 0.0; // all of ∂L/∂h (of the step before) now flows through dA and W_hh
  }
  dA[ab / 4u + k] = vec4<f32>(ai, af, ag, ao); // the GPU weight layout: the four gates of unit k adjacent
  dxg[xb + k] = ai;
  dxg[xb + H + k] = af;
  dxg[xb + 2u * H + k] = ag;
  dxg[xb + 3u * H + k] = ao;
  carry[ch] = gH;
  carry[cc] = dc;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let k = gid.x;
  let b0 = gid.y * ROWS;
  if (k >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let b1 = min(b0 + 1u, last);
  let b2 = min(b0 + 2u, last);
  let b3 = min(b0 + 3u, last);
  var f0 = 0.0;
  var f1 = 0.0;
  var f2 = 0.0;
  var f3 = 0.0;
  if (p.hasNext == 1u) {
    let base = (p.step + 1u) * p.B * H; // dA[s+1, 0, 0] in vec4
    for (var j = 0u; j < H; j++) {
      let w = whhT[k * H + j];
      f0 += dot(w, dA[base + b0 * H + j]);
      if (ROWS > 1u) { f1 += dot(w, dA[base + b1 * H + j]); }
      if (ROWS > 2u) {
        f2 += dot(w, dA[base + b2 * H + j]);
        f3 += dot(w, dA[base + b3 * H + j]);
      }
    }
  }
  step_back(b0, k, f0);
  if (ROWS > 1u && b0 + 1u < p.B) { step_back(b1, k, f1); }
  if (ROWS > 2u && b0 + 2u < p.B) { step_back(b2, k, f2); }
  if (ROWS > 2u && b0 + 3u < p.B) { step_back(b3, k, f3); }
}
