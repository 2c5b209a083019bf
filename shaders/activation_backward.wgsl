// Gradient through an activation, from its output y = act(a):
//   da = dy ⊙ act'(a):  identity 1 · relu [y > 0] · sigmoid y(1 − y) · tanh 1 − y²
// Buffers:  y (N) · dy (N) · da (N).   ACT as in common.wgsl's activate().
// Dispatch: (ceil(N / 64)) workgroups of 64, one element per thread.

struct Params {
  N: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> da: array<f32>;

override ACT: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.N) { return; }
  let v = y[i];
  var d = dy[i];
  switch ACT {
    case 1u: { d = select(0.0, d, v > 0.0); }
    case 2u: { d = d * v * (1.0 - v); }
    case 3u: { d = d * (1.0 - v * v); }
    default: {}
  }
  da[i] = d;
}
