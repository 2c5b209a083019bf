// One SGD step, torch.optim.SGD semantics, elementwise over one parameter (N):
//   g       = grad[i] + weightDecay · p[i]                     (L2, coupled)
//   momentum ≠ 0:
//     buf[i] = g                                      at the first step (first = 1)
//     buf[i] = momentum · buf[i] + (1 − dampening) · g   afterwards
//     g      = nesterov ? g + momentum · buf[i] : buf[i]
//   p[i]   −= lr · g
// Buffers: params (uniform) · grad (N) read · p (N) read_write ·
//          buf (N) read_write: the momentum buffer, owned by the optimizer (a
//          placeholder, never indexed, when momentum = 0).
// Hyper-parameters and the first-step flag travel in the uniform, so one pipeline
// serves every parameter and every step.
// Dispatch: (min(ceil(N / 256), maxWorkgroups)) workgroups of 256; one thread per
//           element, striding by the grid size when N exceeds one thread each.

struct Params {
  N: u32,
  first: u32,        // 1 at the optimizer's first step: buf starts as g
  nesterov: u32,
  _pad0: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weightDecay: f32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < u.N; i += stride) {
    var g = grad[i] + u.weightDecay * p[i];
    if (u.momentum != 0.0) {
      var b = g;
      if (u.first == 0u) { b = u.momentum * buf[i] + (1.0 - u.dampening) * g; }
      buf[i] = b;
      if (u.nesterov != 0u) { g = g + u.momentum * b; } else { g = b; }
    }
    p[i] = p[i] - u.lr * g;
  }
}
