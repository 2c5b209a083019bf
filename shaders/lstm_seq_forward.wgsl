// Persistent LSTM: ONE dispatch runs all T steps of one layer direction inside a
// single workgroup. Weights in the GPU layout of lstm_step_forward.wgsl (vec4 of
// the four gates per (k, j)).
//
// single workgroup, with the hidden state in workgroup memory (ping-pong halves)
// and a barrier between steps. Same formulas, gate order, padding rules and
// buffers as lstm_step_forward.wgsl; the scheduler picks it when 2·B·H floats fit
// in workgroup memory and B·H is small enough for one workgroup.
//
// Buffers:  xg (B, T, G) · whhT (H, H) vec4 · bhh (H) vec4 · valid (B, T) u32 ·
//           hs, cs (T+1, B, H): hs[0], cs[0] hold the initial state and every step's
//           state is written (the final state is hs[T]) · out (B, T, outStride).
// Dispatch: (1, 1, 1), WG threads (override, 32…256); thread u handles units u, u+WG, … of the
//           B·H units (b = u / H, j = u % H). The cell state of a unit is only
//           ever touched by its own thread, so it lives in global memory (cs).
// CAP:      override, ≥ 2·B·H.
// RECORD:   (training) activated gates (i, f, g, o) to gates (T, B, 4H) at step s.

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
@group(0) @binding(2) var<storage, read> whhT: array<vec4<f32>>; // (H, H): gates of unit j adjacent
@group(0) @binding(3) var<storage, read> bhh: array<vec4<f32>>;  // (H)
@group(0) @binding(4) var<storage, read> valid: array<u32>; // (B, T) u32: 1 = the step runs, 0 = masked
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> cs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of g and the tanh of c' is act.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;

override RECORD: bool = false;

override CAP: u32 = 512u;
override WG: u32 = 256u; // threads: 32…256, sized to B·H by the launcher (barriers cost per thread on SwiftShader)
var<workgroup> hsh: array<f32, CAP>; // [0, BH): state of even steps, [BH, 2BH): odd steps

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
  let G = 4u * H;
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
      let xrow = (b * p.T + t) * G;
      var a = bhh[j] + vec4<f32>(xg[xrow + j], xg[xrow + H + j], xg[xrow + 2u * H + j], xg[xrow + 3u * H + j]);
      let hb = cur + b * H;
      for (var k = 0u; k < H; k++) {
        a += whhT[k * H + j] * hsh[hb + k];
      }
      var h = hsh[cur + u];
      var c = cs[s * BH + u];
      var o = 0.0;
      if (valid[b * p.T + t] != 0u) {
        let ig = gate_act(RACT, a.x);
        let fg = gate_act(RACT, a.y);
        let gg = activate(ACT, a.z);
        let og = gate_act(RACT, a.w);
        c = fg * c + ig * gg;
        h = og * activate(ACT, c);
        o = h;
        if (RECORD) {
          let gb = (s * p.B + b) * G;
          gates[gb + j] = ig;
          gates[gb + H + j] = fg;
          gates[gb + 2u * H + j] = gg;
          gates[gb + 3u * H + j] = og;
        }
      }
      hsh[nxt + u] = h;
      hs[(s + 1u) * BH + u] = h;
      cs[(s + 1u) * BH + u] = c;
      if (KERAS_MASK && valid[b * p.T + t] == 0u) { o = masked_out(b, j, s, t); }
      out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
    }
    workgroupBarrier();
  }
}
