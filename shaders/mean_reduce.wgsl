// Mean of per-element or per-row partials into a 1-element tensor, on the GPU:
//   sum   = Σ_i values[i]
//   count = HAS_COUNTS ? Σ_i counts[i] (the kept rows, 0/1 flags) : p.count
//   out[0]   = count > 0 ? sum / count : 0         (EXP: exp of that, i.e. perplexity)
//   scale[0] = count > 0 ? 1 / count : 0           (WRITE_SCALE, for grad_scale.wgsl)
// An all-ignored batch (count = 0) gives loss 0 and a zero gradient scale, never 0/0.
// One workgroup of 256 threads: each sums a stride-256 slice, then a tree in workgroup
// memory (f32 throughout; counts are exact integers up to 2^24 rows). No atomics.
// Buffers:  values (n) · counts (n; a placeholder, unread, without HAS_COUNTS) · out (1) ·
//           scale (1; a 1-element scratch, never written, without WRITE_SCALE).
// Dispatch: (1) workgroup of 256.

struct Params {
  n: u32,
  count: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> counts: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> scale: array<f32>;

override HAS_COUNTS: bool = false;
override WRITE_SCALE: bool = false;
override EXP: bool = false;

var<workgroup> sums: array<f32, 256>;
var<workgroup> cnts: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  var c = 0.0;
  for (var i = t; i < p.n; i += 256u) {
    s += values[i];
    if (HAS_COUNTS) { c += counts[i]; }
  }
  sums[t] = s;
  cnts[t] = c;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (t < k) {
      sums[t] += sums[t + k];
      cnts[t] += cnts[t + k];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    var count = p.count;
    if (HAS_COUNTS) { count = cnts[0]; }
    var mean = 0.0;
    var inv = 0.0;
    if (count > 0.0) {
      mean = sums[0] / count;
      inv = 1.0 / count;
    }
    if (EXP) { mean = exp(mean); }
    out[0] = mean;
    if (WRITE_SCALE) { scale[0] = inv; }
  }
}
