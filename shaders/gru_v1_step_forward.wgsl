// Second half of a Keras reset_after=False GRU step (after gru_reset_forward.wgsl):
//   z = σ(xg_z + bhh_z + W_hz · h)     n = tanh(xg_n + bhh_n + W_hn · rh[b])
//   h' = (1 − z) ⊙ n + z ⊙ h
// Steps and padding as lstm_step_forward.wgsl.
//
// Buffers:  xg (B, T, G) · whhT (H, G) · bhh (G) · valid (B, T) u32 · rh (B, H) ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset ·
//           gates (T, B, 4H) (RECORD only; else a placeholder).
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread j of row tile y
//           takes unit j of batch rows y·ROWS … y·ROWS+ROWS−1 (rows past B clamped,
//           not stored); no workgroup memory, the k loop in chunks of 4 as
//           gru_step_forward.wgsl.
// RECORD:   (training) z and n to blocks 1 and 2 of gates at step s, valid steps
//           only (gru_reset_forward.wgsl records r and r ⊙ h to blocks 0 and 3).

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
@group(0) @binding(5) var<storage, read> rh: array<f32>;
@group(0) @binding(6) var<storage, read_write> hs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

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

// W_hhᵀ[k … k+3, col] (row stride G = 3H).
fn w4(k: u32, col: u32, G: u32) -> vec4<f32> {
  return vec4<f32>(whhT[k * G + col], whhT[(k + 1u) * G + col], whhT[(k + 2u) * G + col], whhT[(k + 3u) * G + col]);
}

fn h4(base: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(hs[base + k], hs[base + k + 1u], hs[base + k + 2u], hs[base + k + 3u]);
}

fn rh4(base: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(rh[base + k], rh[base + k + 1u], rh[base + k + 2u], rh[base + k + 3u]);
}

fn finish(b: u32, j: u32, az: f32, an: f32) {
  let H = p.H;
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  var h = hs[prev + j];
  var o = 0.0;
  if (valid[b * p.T + t] != 0u) {
    let z = gate_act(RACT, az);
    let n = activate(ACT, an);
    h = (1.0 - z) * n + z * h;
    o = h;
    if (RECORD) {
      let gb = (p.step * p.B + b) * 4u * H;
      gates[gb + H + j] = z;
      gates[gb + 2u * H + j] = n;
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
  var az = vec4<f32>(0.0);
  var an = vec4<f32>(0.0);
  for (var r = 0u; r < ROWS; r++) {
    let xrow = (bs[r] * p.T + t) * G;
    az[r] = xg[xrow + H + j] + bhh[H + j];
    an[r] = xg[xrow + 2u * H + j] + bhh[2u * H + j];
  }
  var k = 0u;
  for (; k + 4u <= H; k += 4u) {
    let wz = w4(k, H + j, G);
    let wn = w4(k, 2u * H + j, G);
    az.x += dot(wz, h4(base + bs.x * H, k));
    an.x += dot(wn, rh4(bs.x * H, k));
    if (ROWS > 1u) {
      az.y += dot(wz, h4(base + bs.y * H, k));
      an.y += dot(wn, rh4(bs.y * H, k));
    }
    if (ROWS > 2u) {
      az.z += dot(wz, h4(base + bs.z * H, k));
      an.z += dot(wn, rh4(bs.z * H, k));
      az.w += dot(wz, h4(base + bs.w * H, k));
      an.w += dot(wn, rh4(bs.w * H, k));
    }
  }
  for (; k < H; k++) {
    az += whhT[k * G + H + j] * vec4<f32>(hs[base + bs.x * H + k], hs[base + bs.y * H + k], hs[base + bs.z * H + k], hs[base + bs.w * H + k]);
    an += whhT[k * G + 2u * H + j] * vec4<f32>(rh[bs.x * H + k], rh[bs.y * H + k], rh[bs.z * H + k], rh[bs.w * H + k]);
  }
  for (var r = 0u; r < ROWS; r++) {
    if (b0 + r < p.B) { finish(bs[r], j, az[r], an[r]); }
  }
}
