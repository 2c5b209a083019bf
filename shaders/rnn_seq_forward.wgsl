// Persistent SimpleRNN: ONE dispatch runs all T steps of one layer direction in a
// single workgroup, state in workgroup memory, a barrier between steps.
//   h' = act(xg[b, t, :] + bhh + W_hh · h)      act = activate(ACT): tanh 3, relu 1, sigmoid 2, linear 0
// Padding as lstm_step_forward.wgsl.
//
// Buffers:  xg (B, T, H) · whhT (H, H) · bhh (H) · valid (B, T) u32 ·
//           hs (T+1, B, H), hs[0] = initial state · out (B, T, outStride).
// Dispatch: (1, 1, 1), WG threads (override, 32…256) striding over the B·H units.
// CAP:      override, ≥ 2·B·H.

// Masks: valid (B, T) says which steps run (1) and which are masked (0). A masked
// step carries the state; its output is 0 (PyTorch packed sequences: valid comes
// from lengths) or, with KERAS_MASK, the previous step's output in this direction's
// order (0 before the first: Keras's masking, any mask position, e.g. pre-padding).

struct Params {
  B: u32,
  T: u32,
  H: u32,
  reverse: u32,
  outStride: u32,
  outOffset: u32,
  _pad0: u32,
  _pad1: u32,
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

override CAP: u32 = 512u;
override ACT: u32 = 3u;
override WG: u32 = 256u; // threads: 32…256, sized to B·H by the launcher (barriers cost per thread on SwiftShader)
var<workgroup> hsh: array<f32, CAP>;

// With KERAS_MASK, a masked step's output: the output of the step before it in
// this direction's order (written earlier by this same thread), 0 before the first.
fn masked_out(b: u32, j: u32, s: u32, t: u32) -> f32 {
  if (s == 0u) { return 0.0; }
  let tp = select(t - 1u, t + 1u, p.reverse == 1u);
  return out[(b * p.T + tp) * p.outStride + p.outOffset + j];
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let BH = p.B * H;
  for (var u = lid.x; u < BH; u += WG) { hsh[u] = hs[u]; }
  workgroupBarrier();

  for (var s = 0u; s < p.T; s++) {
    let t = select(s, p.T - 1u - s, p.reverse == 1u);
    let cur = (s % 2u) * BH;
    let nxt = BH - cur;
    for (var u = lid.x; u < BH; u += WG) {
      let b = u / H;
      let j = u % H;
      var a = xg[(b * p.T + t) * H + j] + bhh[j];
      let hb = cur + b * H;
      for (var k = 0u; k < H; k++) { a += whhT[k * H + j] * hsh[hb + k]; }
      var h = hsh[cur + u];
      var o = 0.0;
      if (valid[b * p.T + t] != 0u) {
        h = activate(ACT, a);
        o = h;
      }
      hsh[nxt + u] = h;
      hs[(s + 1u) * BH + u] = h;
      if (KERAS_MASK && valid[b * p.T + t] == 0u) { o = masked_out(b, j, s, t); }
      out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
    }
    workgroupBarrier();
  }
}
