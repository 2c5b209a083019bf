// Backward of one Keras reset_after=False GRU time step, second of its two
// dispatches (after gru_v1_step_backward.wgsl wrote dA_n of this step for every
// unit). The candidate's recurrent input is r ⊙ h, so with
//   q[b, k] = ∂L/∂(r ⊙ h)[k] = Σ_j W_hn[j, k]·dA_n[s, b, j]     (W_hnᵀ·dA_n, all units)
// for every (b, k):
//   dA_r = q·h·r(1 − r)             (∂L/∂r = q·h)
//   carry[0, b, k] += q·r           (the h term through r ⊙ h; the direct gH·z is there)
// after which carry holds every part of ∂L/∂h except the W_hh term of the r and z
// rows, which the next dispatch (step s−1) or state_grad_backward.wgsl (cols = 2H)
// adds from dA[s, b, :2H]. dxg_r = dA_r.
// A padded step has dA_n = 0, so q = 0: dA_r = 0 and carry is unchanged.
//
// Buffers:  whhT (H, G), the n block at columns [2H, 3H) · valid (B, T) u32 ·
//           hs (T+1, B, H) · gates (T, B, 4H) recorded r (block 0) ·
//           dA (T, B, G) step-indexed: reads [s] block n, writes [s] block r ·
//           dxg (B, T, G) time-indexed, block r · carry (2, B, H), [0] used.
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread k of row tile y
//           takes unit k of batch rows y·ROWS … y·ROWS+ROWS−1 (ROWS override 1, 2 or
//           4), reading dA straight from memory (no workgroup tiles: barriers cost
//           most on SwiftShader), W_hhᵀ row k in chunks of 4 shared by the rows.

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
@group(0) @binding(1) var<storage, read> whhT: array<f32>;
@group(0) @binding(2) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> gates: array<f32>;
@group(0) @binding(5) var<storage, read_write> dA: array<f32>;
@group(0) @binding(6) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(7) var<storage, read_write> carry: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// Batch rows per thread: 1, 2 or 4. Each W_hhᵀ load serves every row's dot product;
// rows past B are clamped (computed, not stored).
override ROWS: u32 = 1u;

// Σ_{g < n} whhT[wrow + g] · dA[bases[r] + g] for each row r (lanes past ROWS unused).
fn row_dots(wrow: u32, bases: vec4<u32>, n: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  var g = 0u;
  for (; g + 4u <= n; g += 4u) {
    let w = vec4<f32>(whhT[wrow + g], whhT[wrow + g + 1u], whhT[wrow + g + 2u], whhT[wrow + g + 3u]);
    acc.x += dot(w, vec4<f32>(dA[bases.x + g], dA[bases.x + g + 1u], dA[bases.x + g + 2u], dA[bases.x + g + 3u]));
    if (ROWS > 1u) { acc.y += dot(w, vec4<f32>(dA[bases.y + g], dA[bases.y + g + 1u], dA[bases.y + g + 2u], dA[bases.y + g + 3u])); }
    if (ROWS > 2u) {
      acc.z += dot(w, vec4<f32>(dA[bases.z + g], dA[bases.z + g + 1u], dA[bases.z + g + 2u], dA[bases.z + g + 3u]));
      acc.w += dot(w, vec4<f32>(dA[bases.w + g], dA[bases.w + g + 1u], dA[bases.w + g + 2u], dA[bases.w + g + 3u]));
    }
  }
  for (; g < n; g++) {
    acc += whhT[wrow + g] * vec4<f32>(dA[bases.x + g], dA[bases.y + g], dA[bases.z + g], dA[bases.w + g]);
  }
  return acc;
}

// The rest of step s for unit k of row b, given q = Σ_j W_hn[j, k]·dA_n[s, b, j].
fn finish(b: u32, k: u32, q: f32) {
  let H = p.H;
  let G = 3u * H;
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);
  let ab = (s * p.B + b) * G;
  var ar = 0.0;
  if (valid[b * p.T + t] != 0u) {
    let r = gates[(s * p.B + b) * 4u * H + k];
    let hPrev = hs[(s * p.B + b) * H + k];
    ar = q * hPrev * gate_grad(RACT, r);
    carry[b * H + k] += q * r;
  }
  dA[ab + k] = ar;
  dxg[(b * p.T + t) * G + k] = ar;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let k = gid.x;
  let b0 = gid.y * ROWS;
  if (k >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let bs = vec4<u32>(b0, min(b0 + 1u, last), min(b0 + 2u, last), min(b0 + 3u, last));
  let G = 3u * H;
  let base = p.step * p.B * G + 2u * H; // dA_n of step s
  let d = row_dots(k * G + 2u * H, base + bs * G, H);
  for (var r = 0u; r < ROWS; r++) {
    if (b0 + r < p.B) { finish(bs[r], k, d[r]); }
  }
}
