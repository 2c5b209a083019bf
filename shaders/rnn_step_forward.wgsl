// One SimpleRNN (Elman) time step for every (b, j) in one dispatch:
//   h' = act(xg[b, t, :] + bhh + W_hh · h_prev[b])     act = activate(ACT): tanh 3, relu 1, sigmoid 2, linear 0
// (xg already holds x_t · W_ihᵀ + b_ih.) Steps and padding as lstm_step_forward.wgsl.
//
// Buffers:  xg (B, T, H) · whhT (H, H) = W_hhᵀ · bhh (H) · valid (B, T) u32 ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset.
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread j of row tile y
//           computes unit j of batch rows y·ROWS … y·ROWS+ROWS−1 (ROWS override 1, 2
//           or 4; rows past B clamped, not stored), reading h_prev straight from hs
//           with no workgroup memory (barriers cost most on SwiftShader). The k loop
//           takes 4 values at a time so each weight load serves every row.
//           Params per step via dynamic offset.

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

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;

override ACT: u32 = 3u; // see activate() in common.wgsl

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

fn finish(b: u32, j: u32, a: f32) {
  let H = p.H;
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  var h = hs[prev + j];
  var o = 0.0;
  if (valid[b * p.T + t] != 0u) {
    h = activate(ACT, a);
    o = h;
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
  let j = gid.x;
  let b0 = gid.y * ROWS;
  if (j >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let bs = vec4<u32>(b0, min(b0 + 1u, last), min(b0 + 2u, last), min(b0 + 3u, last));
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let base = p.step * p.B * H;
  var a = vec4<f32>(0.0);
  for (var r = 0u; r < ROWS; r++) { a[r] = xg[(bs[r] * p.T + t) * H + j] + bhh[j]; }
  var k = 0u;
  for (; k + 4u <= H; k += 4u) {
    let w = w4(k, j, H);
    a.x += dot(w, h4(base + bs.x * H, k));
    if (ROWS > 1u) { a.y += dot(w, h4(base + bs.y * H, k)); }
    if (ROWS > 2u) {
      a.z += dot(w, h4(base + bs.z * H, k));
      a.w += dot(w, h4(base + bs.w * H, k));
    }
  }
  for (; k < H; k++) {
    let w = whhT[k * H + j];
    a += w * vec4<f32>(hs[base + bs.x * H + k], hs[base + bs.y * H + k], hs[base + bs.z * H + k], hs[base + bs.w * H + k]);
  }
  for (var r = 0u; r < ROWS; r++) {
    if (b0 + r < p.B) { finish(bs[r], j, a[r]); }
  }
}
