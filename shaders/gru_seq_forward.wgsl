// Persistent GRU: ONE dispatch runs all T steps of one layer direction inside a
// single workgroup, state in workgroup memory, a barrier between steps. Formulas,
// gate order and padding as gru_step_forward.wgsl (RESET_AFTER = true, PyTorch)
// or gru_reset_forward.wgsl + gru_v1_step_forward.wgsl (RESET_AFTER = false,
// Keras v1: n = tanh(xg_n + bhh_n + W_hn · (r ⊙ h))), which here needs only an
// extra barrier inside the step instead of a second dispatch.
//
// Buffers:  xg (B, T, G) · whhT (H, G) · bhh (G) · valid (B, T) u32 ·
//           hs (T+1, B, H), hs[0] = initial state · out (B, T, outStride).
// Dispatch: (1, 1, 1), WG threads (override, 32…256) striding over the B·H units.
// CAP:      override, ≥ 2·B·H (RESET_AFTER) or 3·B·H (the extra third holds r ⊙ h).
// RECORD:   (training) to gates (T, B, 4H) at step s: r, z, n, hn (RESET_AFTER, valid
//           steps), or r, z, n, r ⊙ h (Keras v1; z, n at valid steps, r and r ⊙ h at
//           every step, as gru_reset_forward.wgsl + gru_v1_step_forward.wgsl record them).

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
@group(0) @binding(7) var<storage, read_write> gates: array<f32>;

// The gate activation (gate_act in common.wgsl): 0 sigmoid, 1 hard sigmoid (Keras 2, tfjs), 2 Keras 3's.
override RACT: u32 = 0u;

// The cell activation act, Keras's `activation` (activate in common.wgsl: 0 linear,
// 1 relu, 2 sigmoid, 3 tanh, the default): the header's tanh of n is act.
override ACT: u32 = 3u;

// Keras masking semantics for masked steps (see the header); off = PyTorch's.
override KERAS_MASK: bool = false;

override RECORD: bool = false;

override CAP: u32 = 512u;
override RESET_AFTER: bool = true;
override WG: u32 = 256u; // threads: 32…256, sized to B·H by the launcher (barriers cost per thread on SwiftShader)
var<workgroup> sh: array<f32, CAP>; // [0, 2BH): ping-pong state; [2BH, 3BH): r ⊙ h (v1 only)

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
  let G = 3u * H;
  let BH = p.B * H;
  let RH = 2u * BH;
  for (var u = lid.x; u < BH; u += WG) { sh[u] = hs[u]; }
  workgroupBarrier();

  for (var s = 0u; s < p.T; s++) {
    let t = select(s, p.T - 1u - s, p.reverse == 1u);
    let cur = (s % 2u) * BH;
    let nxt = BH - cur;
    if (!RESET_AFTER) {
      for (var u = lid.x; u < BH; u += WG) {
        let b = u / H;
        let j = u % H;
        var ar = xg[(b * p.T + t) * G + j] + bhh[j];
        for (var k = 0u; k < H; k++) { ar += whhT[k * G + j] * sh[cur + b * H + k]; }
        let r = gate_act(RACT, ar);
        let v = r * sh[cur + u];
        sh[RH + u] = v;
        if (RECORD) {
          let gb = (s * p.B + b) * 4u * H;
          gates[gb + j] = r;
          gates[gb + 3u * H + j] = v;
        }
      }
      workgroupBarrier();
    }
    for (var u = lid.x; u < BH; u += WG) {
      let b = u / H;
      let j = u % H;
      let xrow = (b * p.T + t) * G;
      let hb = cur + b * H;
      var h = sh[cur + u];
      var o = 0.0;
      var ar = xg[xrow + j] + bhh[j];
      var az = xg[xrow + H + j] + bhh[H + j];
      var hn = bhh[2u * H + j];
      if (RESET_AFTER) {
        for (var k = 0u; k < H; k++) {
          let hk = sh[hb + k];
          let w = k * G + j;
          ar += whhT[w] * hk;
          az += whhT[w + H] * hk;
          hn += whhT[w + 2u * H] * hk;
        }
        if (valid[b * p.T + t] != 0u) {
          let r = gate_act(RACT, ar);
          let z = gate_act(RACT, az);
          let n = activate(ACT, xg[xrow + 2u * H + j] + r * hn);
          h = (1.0 - z) * n + z * h;
          o = h;
          if (RECORD) {
            let gb = (s * p.B + b) * 4u * H;
            gates[gb + j] = r;
            gates[gb + H + j] = z;
            gates[gb + 2u * H + j] = n;
            gates[gb + 3u * H + j] = hn;
          }
        }
      } else {
        for (var k = 0u; k < H; k++) {
          let w = k * G + j;
          az += whhT[w + H] * sh[hb + k];
          hn += whhT[w + 2u * H] * sh[RH + b * H + k];
        }
        if (valid[b * p.T + t] != 0u) {
          let z = gate_act(RACT, az);
          let n = activate(ACT, xg[xrow + 2u * H + j] + hn);
          h = (1.0 - z) * n + z * h;
          o = h;
          if (RECORD) {
            let gb = (s * p.B + b) * 4u * H;
            gates[gb + H + j] = z;
            gates[gb + 2u * H + j] = n;
          }
        }
      }
      sh[nxt + u] = h;
      hs[(s + 1u) * BH + u] = h;
      if (KERAS_MASK && valid[b * p.T + t] == 0u) { o = masked_out(b, j, s, t); }
      out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
    }
    workgroupBarrier();
  }
}
