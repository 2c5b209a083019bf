// The CPU roofline (issue 12): this machine's single-thread WebAssembly SIMD128
// multiply-add throughput and streaming-read memory bandwidth, measured in the
// same engine that runs the CPU rows (the page's V8 in Chromium, or Node's), and
// the model that turns a benchmark row into FLOPs and bytes.
//
// The wasm module is assembled here from bytes (no toolchain; about 200 bytes):
//   fma(iters: i32) -> f32
//     12 independent f32x4 accumulators, each step acc = acc · a + b
//     (f32x4.mul then f32x4.add: SIMD128 has no fused multiply-add outside the
//     relaxed-SIMD proposal), so one iteration is 12 · 4 · 2 = 96 FLOP. Twelve
//     chains hide the add latency; 12 + 2 live v128 values fit in x86's 16 XMM
//     registers, so V8 keeps them in registers.
//   sum(bytes: i32, passes: i32) -> f32
//     streaming read of memory [0, bytes) `passes` times, four v128 loads
//     (64 bytes) per iteration into four accumulators.
// Bounds: peak GFLOP/s = the best of 20 short (~25 ms) fma runs; bandwidth GB/s =
// the best of 20 sum runs over a 64 MiB buffer (far larger than the last-level
// cache: memory), and over a 512 KiB one (held in L2: the bandwidth a working set
// of that size gets); short runs and the best of many, as other processes can only slow a run,
// after many short calls that let V8 tier the functions up to optimised code.
//
// FLOPs and bytes of a row (documented in the README; elementwise gate math,
// the loss and Adam are left out, so the percentages are upper bounds of the
// useful work share):
//   inference  F = 2 · B · T · G · (I + H)       (input projection + recurrent matmul)
//              bytes = 4 · (T · G · H + G · I + B · T · (I + H))
//                      (W_hh every step, W_ih once, x read, y written)
//   training   F = 3 × inference  (forward, then dX + dW_ih and dh + dW_hh)
//              bytes = 3 × inference
//   G = 4H (LSTM), 3H (GRU), H (SimpleRNN).
// The row's bound is min(peak, F / bytes · bandwidth): the roofline, with the cache
// bandwidth when the weights read every step (W_hh, 4·G·H bytes) fit in the 512 KiB
// the cache run used, else the memory bandwidth.

const BUFFER_BYTES = 64 << 20;
/** The cache-resident run's buffer (this machine's L2 is 1 MiB per core). */
export const CACHE_BYTES = 512 << 10;
const PAGES = BUFFER_BYTES / 65536 + 1;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const str = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// opcodes
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_LT_U = 0x49;
const BR_IF = 0x0d;
const LOOP = 0x03;
const END = 0x0b;
const F32_ADD = 0x92;
const simd = (op: number, ...imm: number[]) => [0xfd, ...leb(op), ...imm];
const V128_LOAD = (offset: number) => simd(0x00, 4, ...leb(offset)); // align 2^4
const F32X4_SPLAT = simd(0x13);
const F32X4_EXTRACT0 = simd(0x1f, 0);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const f32const = (v: number) => {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b];
};

const ACC = 12;

/** fma(iters): locals 0 = iters (param), 1..12 accumulators, 13 = a, 14 = b. */
function fmaBody(): number[] {
  const code: number[] = [];
  const a = ACC + 1;
  const b = ACC + 2;
  code.push(...f32const(0.999999), ...F32X4_SPLAT, LOCAL_SET, a);
  code.push(...f32const(1e-6), ...F32X4_SPLAT, LOCAL_SET, b);
  for (let k = 1; k <= ACC; k++) code.push(...f32const(k * 0.01), ...F32X4_SPLAT, LOCAL_SET, k);
  code.push(LOOP, 0x40);
  for (let k = 1; k <= ACC; k++) code.push(LOCAL_GET, k, LOCAL_GET, a, ...F32X4_MUL, LOCAL_GET, b, ...F32X4_ADD, LOCAL_SET, k);
  // iters -= 1; loop while iters != 0 (as unsigned 0 < iters)
  code.push(LOCAL_GET, 0, I32_CONST, ...sleb(1), I32_SUB, LOCAL_SET, 0);
  code.push(I32_CONST, 0, LOCAL_GET, 0, I32_LT_U, BR_IF, 0, END);
  // return the lanes' sum so nothing is dead code
  code.push(LOCAL_GET, 1, ...F32X4_EXTRACT0);
  for (let k = 2; k <= ACC; k++) code.push(LOCAL_GET, k, ...F32X4_EXTRACT0, F32_ADD);
  code.push(END);
  const locals = vec([[...leb(ACC + 2), V128]]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/** sum(bytes, passes): locals 0 = bytes, 1 = passes, 2 = ptr (i32), 3..6 accumulators. */
function sumBody(): number[] {
  const code: number[] = [];
  code.push(LOOP, 0x40); // passes
  code.push(I32_CONST, 0, LOCAL_SET, 2);
  code.push(LOOP, 0x40); // over the buffer, 64 bytes per iteration
  for (let k = 0; k < 4; k++) code.push(LOCAL_GET, 3 + k, LOCAL_GET, 2, ...V128_LOAD(16 * k), ...F32X4_ADD, LOCAL_SET, 3 + k);
  code.push(LOCAL_GET, 2, I32_CONST, ...sleb(64), I32_ADD, LOCAL_SET, 2);
  code.push(LOCAL_GET, 2, LOCAL_GET, 0, I32_LT_U, BR_IF, 0, END);
  code.push(LOCAL_GET, 1, I32_CONST, ...sleb(1), I32_SUB, LOCAL_SET, 1);
  code.push(I32_CONST, 0, LOCAL_GET, 1, I32_LT_U, BR_IF, 0, END);
  code.push(LOCAL_GET, 3, ...F32X4_EXTRACT0);
  for (let k = 4; k <= 6; k++) code.push(LOCAL_GET, k, ...F32X4_EXTRACT0, F32_ADD);
  code.push(END);
  const locals = vec([
    [1, I32],
    [4, V128],
  ]);
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/** The module's bytes: type, function, memory (exported as 'mem'), export and code sections. */
export function rooflineWasm(): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32]]), ...vec([[F32]])], // (i32) -> f32
    [0x60, ...vec([[I32], [I32]]), ...vec([[F32]])], // (i32, i32) -> f32
  ]);
  const funcs = vec([[0], [1]]);
  const memory = vec([[0x00, ...leb(PAGES)]]);
  const exports = vec([
    [...str('fma'), 0x00, 0],
    [...str('sum'), 0x00, 1],
    [...str('mem'), 0x02, 0],
  ]);
  const code = vec([fmaBody(), sumBody()]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, funcs),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

export interface CpuRoofline {
  /** Single-thread f32x4 mul+add throughput, GFLOP/s (the best run). */
  peakGflops: number;
  /** Single-thread streaming-read bandwidth over a 64 MiB buffer, GB/s (the best run). */
  bandwidthGBs: number;
  /** The same over a CACHE_BYTES buffer, read again and again (it stays in cache), GB/s. */
  cacheBandwidthGBs: number;
  cacheBandwidthRuns: number[];
  /** Every run, for the spread. */
  gflopsRuns: number[];
  bandwidthRuns: number[];
  /** What was measured, one line. */
  method: string;
}

/** Measures the bounds: `reps` runs of each kernel, each about `targetMs` long after calibration. */
export function measureCpuRoofline(reps = 20, targetMs = 25): CpuRoofline {
  const mod = new WebAssembly.Module(rooflineWasm());
  const inst = new WebAssembly.Instance(mod, {});
  const { fma, sum, mem } = inst.exports as { fma: (n: number) => number; sum: (bytes: number, passes: number) => number; mem: WebAssembly.Memory };
  new Float32Array(mem.buffer, 0, BUFFER_BYTES / 4).fill(1e-3); // touch every page
  const now = () => performance.now();
  // V8 runs a wasm function in its baseline compiler (Liftoff) first and tiers it up
  // to TurboFan after enough calls, effective from the next call (no on-stack
  // replacement): many short calls first, so the timed ones run optimised code.
  for (let i = 0; i < 2000; i++) {
    fma(256);
    sum(4096, 1);
  }
  // calibrate: iterations for ~targetMs
  let iters = 1 << 16;
  for (;;) {
    const t0 = now();
    fma(iters);
    const dt = now() - t0;
    if (dt > targetMs / 4 || iters >= 1 << 30) {
      iters = Math.min(2 ** 31 - 1, Math.max(1, Math.round((iters * targetMs) / Math.max(dt, 1e-3))));
      break;
    }
    iters *= 4;
  }
  const gflopsRuns: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    fma(iters);
    const dt = (now() - t0) / 1000;
    gflopsRuns.push((iters * ACC * 8) / dt / 1e9);
  }
  sum(BUFFER_BYTES, 1); // warm
  const t1 = now();
  sum(BUFFER_BYTES, 1);
  const passes = Math.max(1, Math.round(targetMs / Math.max(now() - t1, 1e-3)));
  const bandwidthRuns: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    sum(BUFFER_BYTES, passes);
    const dt = (now() - t0) / 1000;
    bandwidthRuns.push((BUFFER_BYTES * passes) / dt / 1e9);
  }
  const cachePasses = Math.max(1, Math.round((passes * BUFFER_BYTES) / CACHE_BYTES / 4));
  const cacheBandwidthRuns: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    sum(CACHE_BYTES, cachePasses);
    const dt = (now() - t0) / 1000;
    cacheBandwidthRuns.push((CACHE_BYTES * cachePasses) / dt / 1e9);
  }
  return {
    peakGflops: Math.max(...gflopsRuns),
    bandwidthGBs: Math.max(...bandwidthRuns),
    cacheBandwidthGBs: Math.max(...cacheBandwidthRuns),
    cacheBandwidthRuns,
    gflopsRuns,
    bandwidthRuns,
    method:
      `wasm SIMD128, one thread: ${ACC} independent f32x4 mul+add chains (8 FLOP per f32x4 mul+add; no FMA in SIMD128), ` +
      `and a streaming read (4 × v128.load per iteration) of a ${BUFFER_BYTES >> 20} MiB buffer (memory) and of a ${CACHE_BYTES >> 10} KiB one (cache); best of ${reps} runs of ~${targetMs} ms each`,
  };
}

const gateRows = (cell: string, H: number) => (cell === 'lstm' ? 4 : cell === 'rnn' ? 1 : 3) * H;

/** FLOPs and bytes of one row (see the header). */
export function rowWork(cell: string, shape: [number, number, number, number], kind: 'infer' | 'train'): { flops: number; bytes: number } {
  const [B, T, I, H] = shape;
  const G = gateRows(cell, H);
  const flops = 2 * B * T * G * (I + H);
  const bytes = 4 * (T * G * H + G * I + B * T * (I + H));
  const k = kind === 'train' ? 3 : 1;
  return { flops: k * flops, bytes: k * bytes };
}

export interface RooflineShare {
  /** Achieved GFLOP/s of the row (F / median time). */
  gflops: number;
  /** Achieved GFLOP/s as % of the SIMD mul+add peak. */
  pctPeak: number;
  /** Achieved bytes/s (the model's bytes / median time) as % of the bandwidth that applies (cache or memory). */
  pctBandwidth: number;
  /** Which bandwidth bounds the row: 'cache' when W_hh fits in CACHE_BYTES, else 'memory'. */
  level: 'cache' | 'memory';
  /** Achieved GFLOP/s as % of the row's roofline, min(peak, F/bytes · bandwidth). */
  pctRoofline: number;
}

export function rooflineShare(roof: CpuRoofline, cell: string, shape: [number, number, number, number], kind: 'infer' | 'train', ms: number): RooflineShare {
  const { flops, bytes } = rowWork(cell, shape, kind);
  const s = ms / 1000;
  const gflops = flops / s / 1e9;
  const H = shape[3];
  const level = 4 * gateRows(cell, H) * H <= CACHE_BYTES ? 'cache' : 'memory';
  const bw = level === 'cache' ? roof.cacheBandwidthGBs : roof.bandwidthGBs;
  const bound = Math.min(roof.peakGflops, (flops / bytes) * bw);
  return { gflops, pctPeak: (100 * gflops) / roof.peakGflops, pctBandwidth: (100 * (bytes / s / 1e9)) / bw, pctRoofline: (100 * gflops) / bound, level };
}
