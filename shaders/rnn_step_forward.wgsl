// One SimpleRNN (Elman) time step for every (b, j) in one dispatch:
//   h' = act(xg[b, t, :] + bhh + W_hh · h_prev[b])     act = tanh (ACT = 3) or relu (ACT = 1)
// (xg already holds x_t · W_ihᵀ + b_ih.) Steps and padding as lstm_step_forward.wgsl.
//
// Buffers:  xg (B, T, H) · whhT (H, H) = W_hhᵀ · bhh (H) · lengths (B) u32 ·
//           hs (T+1, B, H) · out (B, T, outStride) at column outOffset.
// Dispatch: (ceil(H / 64), B) workgroups of 64; h_prev[b] streamed through
//           workgroup memory in tiles of 64. Params per step via dynamic offset.

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
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

override ACT: u32 = 3u; // see activate() in common.wgsl

const WG: u32 = 64u;
var<workgroup> htile: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let H = p.H;
  let b = wid.y;
  let j = wid.x * WG + lid.x;
  let jr = min(j, H - 1u);
  let t = select(p.step, p.T - 1u - p.step, p.reverse == 1u);
  let prev = (p.step * p.B + b) * H;
  let next = prev + p.B * H;

  var a = xg[(b * p.T + t) * H + jr] + bhh[jr];
  for (var k0 = 0u; k0 < H; k0 += WG) {
    if (k0 + lid.x < H) { htile[lid.x] = hs[prev + k0 + lid.x]; }
    workgroupBarrier();
    let kn = min(WG, H - k0);
    for (var kk = 0u; kk < kn; kk++) {
      a += whhT[(k0 + kk) * H + jr] * htile[kk];
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }

  var h = hs[prev + j];
  var o = 0.0;
  if (t < lengths[b]) {
    h = activate(ACT, a);
    o = h;
  }
  hs[next + j] = h;
  out[(b * p.T + t) * p.outStride + p.outOffset + j] = o;
}
