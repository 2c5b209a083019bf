// One GRU time step (PyTorch semantics = Keras reset_after=True) for every (b, j)
// in one dispatch. PyTorch gate order (r, z, n):
//   r = σ(xg_r + bhh_r + W_hr · h)      z = σ(xg_z + bhh_z + W_hz · h)
//   n = tanh(xg_n + r ⊙ (W_hn · h + bhh_n))
//   h' = (1 − z) ⊙ n + z ⊙ h
// (xg already holds x_t · W_ihᵀ + b_ih.) Steps and padding as lstm_step_forward.wgsl:
// t = step or T-1-step (reverse); a masked step (see Masks) carries the state.
//
// Buffers:  xg (B, T, G) · whhT (H, G) = W_hhᵀ · bhh (G) · valid (B, T) u32 ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset.
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread j of row tile y
//           computes unit j of batch rows y·ROWS … y·ROWS+ROWS−1 (ROWS override 1, 2
//           or 4; rows past B clamped, not stored), reading h_prev straight from hs
//           with no workgroup memory (barriers cost most on SwiftShader). The k loop
//           takes 4 values at a time so each weight load serves every row.
//           Params per step via dynamic offset.
// RECORD:   (training) r, z, n and hn = W_hn·h + bhh_n go to gates (T, B, 4H) at step s.

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
@group(0) @binding(2) var<storage, read> whhT: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> gates: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of n is act.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;

override RECORD: bool = false;

// Batch rows per thread: 1, 2 or 4 (see the header).
override ROWS: u32 = 1u;

// v[base + k … base + k+3] as one vector (4 scalar loads).
fn h4(base: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(hs[base + k], hs[base + k + 1u], hs[base + k + 2u], hs[base + k + 3u]);
}

// W_hhᵀ[k … k+3, col] (row stride ld).
fn w4(k: u32, col: u32, ld: u32) -> vec4<f32> {
  return vec4<f32>(whhT[k * ld + col], whhT[(k + 1u) * ld + col], whhT[(k + 2u) * ld + col], whhT[(k + 3u) * ld + col]);
}

// The gates and state update of unit j of row b from ar, az (full pre-activations)
// and hn = W_hn·h + bhh_n.
fn finish(b: u32, j: u32, ar: f32, az: f32, hn: f32) {
  let H = p.H;
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  var h = hs[prev + j];
  var o = 0.0;
  if (valid[b * p.T + t] != 0u) {
    let r = gate_act(RACT, ar);
    let z = gate_act(RACT, az);
    let n = activate(ACT, xg[(b * p.T + t) * 3u * H + 2u * H + j] + r * hn);
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
  hs[prev + p.B * H + j] = h;
  if (KERAS_MASK && valid[b * p.T + t] == 0u) { o = masked_out(b, j, p.step, t); }
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
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
  let G = 3u * H;
  let j = gid.x;
  let b0 = gid.y * ROWS;
  if (j >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let bs = vec4<u32>(b0, min(b0 + 1u, last), min(b0 + 2u, last), min(b0 + 3u, last));
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let base = p.step * p.B * H;
  // one vec4 per gate, lanes = rows
  var ar = vec4<f32>(0.0);
  var az = vec4<f32>(0.0);
  var hn = vec4<f32>(bhh[2u * H + j]);
  for (var r = 0u; r < ROWS; r++) {
    let xrow = (bs[r] * p.T + t) * G;
    ar[r] = xg[xrow + j] + bhh[j];
    az[r] = xg[xrow + H + j] + bhh[H + j];
  }
  var k = 0u;
  for (; k + 4u <= H; k += 4u) {
    let wr = w4(k, j, G);
    let wz = w4(k, H + j, G);
    let wn = w4(k, 2u * H + j, G);
    let h0 = h4(base + bs.x * H, k);
    ar.x += dot(wr, h0);
    az.x += dot(wz, h0);
    hn.x += dot(wn, h0);
    if (ROWS > 1u) {
      let h1 = h4(base + bs.y * H, k);
      ar.y += dot(wr, h1);
      az.y += dot(wz, h1);
      hn.y += dot(wn, h1);
    }
    if (ROWS > 2u) {
      let h2 = h4(base + bs.z * H, k);
      ar.z += dot(wr, h2);
      az.z += dot(wz, h2);
      hn.z += dot(wn, h2);
      let h3 = h4(base + bs.w * H, k);
      ar.w += dot(wr, h3);
      az.w += dot(wz, h3);
      hn.w += dot(wn, h3);
    }
  }
  for (; k < H; k++) {
    let hk = vec4<f32>(hs[base + bs.x * H + k], hs[base + bs.y * H + k], hs[base + bs.z * H + k], hs[base + bs.w * H + k]);
    ar += whhT[k * G + j] * hk;
    az += whhT[k * G + H + j] * hk;
    hn += whhT[k * G + 2u * H + j] * hk;
  }
  for (var r = 0u; r < ROWS; r++) {
    if (b0 + r < p.B) { finish(bs[r], j, ar[r], az[r], hn[r]); }
  }
}
