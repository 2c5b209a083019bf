// Backward of one GRU time step (PyTorch / Keras reset_after=True) for every
// (b, k), reverse step order, one dispatch per step. Forward (recorded r, z, n, hn):
//   r = σ(a_r)  z = σ(a_z)  hn = W_hn·h + bhh_n  n = tanh(xg_n + r ⊙ hn)
//   h' = (1 − z) ⊙ n + z ⊙ h
// With gH = ∂L/∂h' (dout + carry + Σ_g W_hh[g, k]·dA[s+1, b, g], as in
// lstm_step_backward.wgsl):
//   dn = gH(1 − z)   dz = gH(h − n)   ∂L/∂h (direct) = gH·z
//   dxg_n = dn(1 − n²)   dA_n = dxg_n·r   dA_r = dxg_n·hn·r(1 − r)   dA_z = dz·z(1 − z)
// dA (gradient of W_hh·h + bhh, pairs with h for dW_hh) and dxg (gradient of
// xg = x·W_ihᵀ + b_ih) agree on r and z and differ on n.
// A padded step passes gH through and has zero gradients.
//
// Buffers:  whhT (H, G) · dout (B, T, outStride) at outOffset · valid (B, T) u32 ·
//           hs (T+1, B, H) · gates (T, B, 4H) · dA (T, B, G) step-indexed ·
//           dxg (B, T, G) time-indexed · carry (2, B, H), [0] used.
// Dispatch: (ceil(H / 64), ceil(B / ROWS)) workgroups of 64; thread k of row tile y
//           takes unit k of batch rows y·ROWS … y·ROWS+ROWS−1 (ROWS override 1, 2 or
//           4), reading dA straight from memory (no workgroup tiles: barriers cost
//           most on SwiftShader), W_hhᵀ row k in chunks of 4 shared by the rows.

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
@group(0) @binding(1) var<storage, read> whhT: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(4) var<storage, read> hs: array<f32>;
@group(0) @binding(5) var<storage, read> gates: array<f32>;
@group(0) @binding(6) var<storage, read_write> dA: array<f32>;
@group(0) @binding(7) var<storage, read_write> dxg: array<f32>;
@group(0) @binding(8) var<storage, read_write> carry: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of n is act, and
// its 1 − y² is act'(y) = activate_grad(ACT, y), taken from the output.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;
// Write ∂L/∂h_t of every step to carry[3 + s] (backward with stepGradNorms); carry is then (3 + T, B, H).
override RECORD_DH: bool = false;

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

// The rest of step s for unit k of row b, given fromNext = Σ_g W_hh[g, k]·dA[s+1, b, g].
fn finish(b: u32, k: u32, fromNext: f32) {
  let H = p.H;
  let G = 3u * H;
  let s = p.step;
  let t = select(s, p.T - 1u - s, p.reverse == 1u);
  let ch = b * H + k;          // carry[0, b, k]
  var gH = carry[ch] + fromNext;
  let ab = (s * p.B + b) * G;
  let xb = (b * p.T + t) * G;
  var ar = 0.0;
  var az = 0.0;
  var an = 0.0;
  var xn = 0.0;
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
    let gb = (s * p.B + b) * 4u * H;
    let r = gates[gb + k];
    let z = gates[gb + H + k];
    let n = gates[gb + 2u * H + k];
    let hn = gates[gb + 3u * H + k];
    let hPrev = hs[(s * p.B + b) * H + k];
    xn = gH * (1.0 - z) * activate_grad(ACT, n);
    an = xn * r;
    ar = xn * hn * gate_grad(RACT, r);
    az = gH * (hPrev - n) * gate_grad(RACT, z);
    gH = gH * z;
  }
  dA[ab + k] = ar;
  dA[ab + H + k] = az;
  dA[ab + 2u * H + k] = an;
  dxg[xb + k] = ar;
  dxg[xb + H + k] = az;
  dxg[xb + 2u * H + k] = xn;
  carry[ch] = gH;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = p.H;
  let k = gid.x;
  let b0 = gid.y * ROWS;
  if (k >= H || b0 >= p.B) { return; }
  let last = p.B - 1u;
  let bs = vec4<u32>(b0, min(b0 + 1u, last), min(b0 + 2u, last), min(b0 + 3u, last));
  var d = vec4<f32>(0.0);
  if (p.hasNext == 1u) {
    let G = 3u * H;
    let base = (p.step + 1u) * p.B * G;
    d = row_dots(k * G, base + bs * G, G);
  }
  for (var r = 0u; r < ROWS; r++) {
    if (b0 + r < p.B) { finish(bs[r], k, d[r]); }
  }
}
