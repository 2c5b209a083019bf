// Embedding gradient, a scatter-add of rows:  dTable[ids[n], d] += dOut[n, d]
// for every n. Token ids repeat, so threads must not share a row: thread d owns
// column d of the whole table and walks n = 0 … N−1 in order, which is race-free
// and deterministic (no atomics). Accumulates until the gradient is zeroed.
// Buffers:  ids (N) u32 (validated < V) · dOut (N, D) · dTable (V, D).
// Dispatch: (ceil(D / 64)) workgroups of 64.

struct Params {
  N: u32,
  D: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> dOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> dTable: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  if (d >= p.D) { return; }
  for (var n = 0u; n < p.N; n++) {
    dTable[ids[n] * p.D + d] += dOut[n * p.D + d];
  }
}
