// Second half of a Keras reset_after=False GRU step (after gru_reset_forward.wgsl):
//   z = σ(xg_z + bhh_z + W_hz · h)     n = tanh(xg_n + bhh_n + W_hn · rh[b])
//   h' = (1 − z) ⊙ n + z ⊙ h
// Steps and padding as lstm_step_forward.wgsl.
//
// Buffers:  xg (B, T, G) · whhT (H, G) · bhh (G) · lengths (B) u32 · rh (B, H) ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset ·
//           gates (T, B, 4H) (RECORD only; else a placeholder).
// Dispatch: (ceil(H / 64), B) workgroups of 64; h_prev[b] and rh[b] streamed
//           through workgroup memory in tiles of 64.
// RECORD:   (training) z and n to blocks 1 and 2 of gates at step s, valid steps
//           only (gru_reset_forward.wgsl records r and r ⊙ h to blocks 0 and 3).

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
@group(0) @binding(4) var<storage, read> lengths: array<u32>;
@group(0) @binding(5) var<storage, read> rh: array<f32>;
@group(0) @binding(6) var<storage, read_write> hs: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> gates: array<f32>;

override RECORD: bool = false;

const WG: u32 = 64u;
var<workgroup> htile: array<f32, 64>;
var<workgroup> rtile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let G = 3u * H;
  let b = wid.y;
  let j = wid.x * WG + lid.x;
  let jr = min(j, H - 1u);
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  let next = prev + p.B * H;
  let xrow = (b * p.T + t) * G;

  var az = xg[xrow + H + jr] + bhh[H + jr];
  var an = xg[xrow + 2u * H + jr] + bhh[2u * H + jr];
  for (var k0 = 0u; k0 < H; k0 += WG) {
    if (k0 + lid.x < H) {
      htile[lid.x] = hs[prev + k0 + lid.x];
      rtile[lid.x] = rh[b * H + k0 + lid.x];
    }
    workgroupBarrier();
    let kn = min(WG, H - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let w = (k0 + kk) * G + jr;
      az += whhT[w + H] * htile[kk];
      an += whhT[w + 2u * H] * rtile[kk];
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }

  var h = hs[prev + j];
  var o = 0.0;
  if (t < lengths[b]) {
    let z = sigmoid_f(az);
    let n = tanh_f(an);
    h = (1.0 - z) * n + z * h;
    o = h;
    if (RECORD) {
      let gb = (p.step * p.B + b) * 4u * H;
      gates[gb + H + j] = z;
      gates[gb + 2u * H + j] = n;
    }
  }
  hs[next + j] = h;
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
}
