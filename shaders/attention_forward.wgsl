// Luong dot-product attention over the encoder outputs, forward (teacher forcing:
// every decoder step at once, after the decoder has run):
//   score[b,t,s] = q[b,t,:] · e[b,s,:]                      for s < len[b]
//   a[b,t,s]     = exp(score − max_s score) / Σ_s' exp(score[s'] − max)   (stable softmax)
//                  and a = 0 for s ≥ len[b] (padded source steps are masked)
//   ctx[b,t,:]   = Σ_s a[b,t,s] · e[b,s,:]
//   out[b,t,:]   = [ctx[b,t,:]; q[b,t,:]]   (B, T, 2H): the input of the layer's W_c
//                  (attentional hidden = tanh(W_c [ctx; q] + b_c), a Dense after this)
// Buffers:  q (B, T, H) decoder outputs · e (B, S, H) encoder outputs ·
//           len (B) u32 valid source steps, each in [1, S] ·
//           a (B, T, S) weights (written; also the scores' scratch) · out (B, T, 2H).
// Dispatch: (ceil(B·T / 64)) workgroups of 64, one thread per (b, t): it owns its
//           row of a and of out, so no thread reads what another writes. A row
//           costs O(S·H): the shapes of a seq2seq model (S, H ≤ a few hundred).

struct Params {
  B: u32,
  T: u32,
  S: u32,
  H: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read> len: array<u32>;
@group(0) @binding(4) var<storage, read_write> a: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x; // b·T + t
  if (row >= p.B * p.T) { return; }
  let b = row / p.T;
  let n = len[b];
  let qRow = row * p.H;
  let aRow = row * p.S;
  // scores, and their maximum
  var m = -3.4e38;
  for (var s = 0u; s < n; s++) {
    let eRow = (b * p.S + s) * p.H;
    var dot = 0.0;
    for (var j = 0u; j < p.H; j++) { dot += q[qRow + j] * e[eRow + j]; }
    a[aRow + s] = dot;
    m = max(m, dot);
  }
  // softmax over the valid steps; exp() sees arguments ≤ 0
  var sum = 0.0;
  for (var s = 0u; s < n; s++) {
    let w = exp(a[aRow + s] - m);
    a[aRow + s] = w;
    sum += w;
  }
  for (var s = 0u; s < p.S; s++) {
    a[aRow + s] = select(0.0, a[aRow + s] / sum, s < n);
  }
  // [context; q]
  let oRow = row * 2u * p.H;
  for (var j = 0u; j < p.H; j++) {
    var c = 0.0;
    for (var s = 0u; s < n; s++) { c += a[aRow + s] * e[(b * p.S + s) * p.H + j]; }
    out[oRow + j] = c;
    out[oRow + p.H + j] = q[qRow + j];
  }
}
