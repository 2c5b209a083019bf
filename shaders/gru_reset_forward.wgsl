// First half of a Keras reset_after=False GRU step: the reset gate applied to the
// previous state, which the candidate's matmul needs for every k before it can
// start (so this variant takes two dispatches per step on the per-step path).
//   r = σ(xg_r + bhh_r + W_hr · h_prev[b])      rh[b, k] = r_k · h_prev[b, k]
//
// Buffers:  xg (B, T, G) · whhT (H, G) · bhh (G) · hs (T+1, B, H) · rh (B, H) out ·
//           gates (T, B, 4H) (RECORD only; else a placeholder).
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread j of row tile y
//           takes unit j of batch rows y·ROWS … y·ROWS+ROWS−1 (rows past B clamped,
//           not stored); no workgroup memory, the k loop in chunks of 4 as
//           gru_step_forward.wgsl.
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

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

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
  var ar = vec4<f32>(0.0);
  for (var r = 0u; r < ROWS; r++) { ar[r] = xg[(bs[r] * p.T + t) * G + j] + bhh[j]; }
  var k = 0u;
  for (; k + 4u <= H; k += 4u) {
    let w = w4(k, j, G);
    ar.x += dot(w, h4(base + bs.x * H, k));
    if (ROWS > 1u) { ar.y += dot(w, h4(base + bs.y * H, k)); }
    if (ROWS > 2u) {
      ar.z += dot(w, h4(base + bs.z * H, k));
      ar.w += dot(w, h4(base + bs.w * H, k));
    }
  }
  for (; k < H; k++) {
    ar += whhT[k * G + j] * vec4<f32>(hs[base + bs.x * H + k], hs[base + bs.y * H + k], hs[base + bs.z * H + k], hs[base + bs.w * H + k]);
  }
  for (var r = 0u; r < ROWS; r++) {
    let b = bs[r];
    if (b0 + r < p.B) {
      let g = gate_act(RACT, ar[r]);
      let v = g * hs[base + b * H + j];
      rh[b * H + j] = v;
      if (RECORD) {
        let gb = (p.step * p.B + b) * 4u * H;
        gates[gb + j] = g;
        gates[gb + 3u * H + j] = v;
      }
    }
  }
}
