// Luong dot-product attention, backward (see attention_forward.wgsl), from
// ∂L/∂out (B, T, 2H) = [dctx; dq_direct]:
//   r[b,t]      = dctx[b,t,:] · ctx[b,t,:]            (= Σ_s a·da: the softmax's shift)
//   da[b,t,s]   = dctx[b,t,:] · e[b,s,:]
//   dscore      = a ⊙ (da − r)
//   dq[b,t,:]   = dq_direct + Σ_s dscore[b,t,s] · e[b,s,:]
//   de[b,s,:]   = Σ_t a[b,t,s] · dctx[b,t,:] + dscore[b,t,s] · q[b,t,:]    (0 for s ≥ len[b])
// Both gradients are overwritten (dq and de are new buffers per call; the
// encoder and decoder outputs feed nothing else that would accumulate here).
// Buffers:  dout (B, T, 2H) · q (B, T, H) · e (B, S, H) · a (B, T, S) ·
//           out (B, T, 2H) the forward's output (its ctx half is read) ·
//           len (B) u32 · dq (B, T, H) · de (B, S, H).
// Dispatch: (ceil((B·T + B·S) / 64)) workgroups of 64. Threads [0, B·T) each own
//           one dq row (b, t), O(S·H); threads [B·T, B·T + B·S) each own one de
//           row (b, s), O(T·H). No thread reads what another writes.

struct Params {
  B: u32,
  T: u32,
  S: u32,
  H: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> e: array<f32>;
@group(0) @binding(4) var<storage, read> a: array<f32>;
@group(0) @binding(5) var<storage, read> out: array<f32>;
@group(0) @binding(6) var<storage, read> len: array<u32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<storage, read_write> de: array<f32>;

// r[b,t] = dctx · ctx of decoder row `row` (= b·T + t)
fn shift(row: u32) -> f32 {
  let oRow = row * 2u * p.H;
  var r = 0.0;
  for (var j = 0u; j < p.H; j++) { r += dout[oRow + j] * out[oRow + j]; }
  return r;
}

// da = dctx[row] · e[b, s]
fn dweight(row: u32, b: u32, s: u32) -> f32 {
  let oRow = row * 2u * p.H;
  let eRow = (b * p.S + s) * p.H;
  var d = 0.0;
  for (var j = 0u; j < p.H; j++) { d += dout[oRow + j] * e[eRow + j]; }
  return d;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let rowsQ = p.B * p.T;
  if (i < rowsQ) {
    // dq row (b, t)
    let b = i / p.T;
    let n = len[b];
    let r = shift(i);
    let oRow = i * 2u * p.H;
    let qRow = i * p.H;
    for (var j = 0u; j < p.H; j++) { dq[qRow + j] = dout[oRow + p.H + j]; }
    for (var s = 0u; s < n; s++) {
      let ds = a[i * p.S + s] * (dweight(i, b, s) - r);
      let eRow = (b * p.S + s) * p.H;
      for (var j = 0u; j < p.H; j++) { dq[qRow + j] += ds * e[eRow + j]; }
    }
    return;
  }
  let k = i - rowsQ; // b·S + s
  if (k >= p.B * p.S) { return; }
  let b = k / p.S;
  let s = k % p.S;
  let eRow = k * p.H;
  for (var j = 0u; j < p.H; j++) { de[eRow + j] = 0.0; }
  if (s >= len[b]) { return; }
  for (var t = 0u; t < p.T; t++) {
    let row = b * p.T + t;
    let w = a[row * p.S + s];
    let ds = w * (dweight(row, b, s) - shift(row));
    let oRow = row * 2u * p.H;
    let qRow = row * p.H;
    for (var j = 0u; j < p.H; j++) { de[eRow + j] += w * dout[oRow + j] + ds * q[qRow + j]; }
  }
}
