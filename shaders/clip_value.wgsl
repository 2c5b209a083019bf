// Gradient clipping by value, torch.nn.utils.clip_grad_value_ semantics, applied
// to one parameter's gradient (N):
//   grad[i] = clamp(grad[i], −clipValue, clipValue)
// Buffers: params (uniform) · grad (N) read_write.
// Dispatch: (min(ceil(N / 256), maxWorkgroups)) workgroups of 256; one thread per
//           element, striding by the grid size when N exceeds one thread each.

struct Params {
  N: u32,
  _pad0: u32,
  _pad1: u32,
  clipValue: f32,
}

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < u.N; i += stride) {
    grad[i] = clamp(grad[i], -u.clipValue, u.clipValue);
  }
}
