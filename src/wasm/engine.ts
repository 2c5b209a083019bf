// The wasm backend's engine: one instance of the SIMD128 kernels
// (src/wasm/assembly/kernels.ts, compiled by scripts/build-wasm.mjs) with its linear
// memory, and the allocator the host uses for it. Kernels take byte offsets into
// that memory; JS copies float64 host arrays in (as float32, zero-padded) and out.
//
// Allocation: first-fit over a sorted free list with coalescing, 16-byte aligned,
// blocks zeroed on allocation (the kernels rely on zero padding) unless the caller
// says a kernel writes all of it. Weights live
// in blocks owned by their layer (freed on repack and dispose); everything a call
// needs lives in a Scope freed when the call ends, also on an error.
import { LimitError } from '../errors';
import { kernelsSharedWasmBase64, kernelsWasmBase64 } from './kernels_wasm';
import { ThreadPool } from './threads';

/** The kernels' exports (pointers are byte offsets; sizes and strides in floats). */
export interface Kernels {
  memory: WebAssembly.Memory;
  gemmNT(M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void;
  packPanels(N: number, K: number, w: number, ldw: number, dst: number): void;
  gemmPk(M: number, N: number, K: number, a: number, lda: number, bp: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void;
  transpose(rows: number, cols: number, src: number, lds: number, dst: number, ldd: number): void;
  rowSumAdd(rows: number, cols: number, src: number, lds: number, dst: number): void;
  copyRows(rows: number, cols: number, colsPad: number, src: number, lds: number, dst: number, ldd: number): void;
  recForward(
    cell: number, resetAfter: number, relu: number, act: number, reverse: number, keras: number,
    B: number, T: number, Hp: number,
    xg: number, whhP: number, bhh: number, valid: number,
    hs: number, cs: number, out: number, ldo: number,
    tape: number, ext: number, scratch: number,
    b0: number, b1: number,
  ): void;
  recBackward(
    cell: number, resetAfter: number, relu: number, act: number, reverse: number, keras: number,
    B: number, T: number, Hp: number,
    whhT: number, hs: number, cs: number, tape: number, ext: number, valid: number,
    dout: number, ldo: number, dh: number, dc: number, dxg: number, da: number, norms: number, scratch: number,
  ): void;
}

/** recForward's arguments before b0, b1 (cell … scratch). */
export type RecForwardArgs = [
  cell: number, resetAfter: number, cellAct: number, act: number, reverse: number, keras: number,
  B: number, T: number, Hp: number,
  xg: number, whhP: number, bhh: number, valid: number,
  hs: number, cs: number, out: number, ldo: number,
  tape: number, ext: number, scratch: number,
];

/** Rounds n up to a multiple of 4 (the kernels' SIMD width). */
export const pad4 = (n: number): number => (n + 3) & ~3;

const PAGE = 65536;
const BASE = 64; // offset 0 means "none" to the kernels

/** GEMMs of at least this many multiply-adds are split over the pool's threads (by default). */
const PARALLEL_MACS = 1 << 17;

export class WasmEngine {
  readonly k: Kernels;
  private pool: ThreadPool | null;
  /** Why fewer threads run than were asked for, or null. */
  private readonly threadNote: string | null;
  private readonly parallelMacs: number;
  private free: { ptr: number; bytes: number }[] = []; // sorted by ptr, coalesced
  private top = BASE;
  private sizes = new Map<number, number>(); // live block → bytes

  private constructor(k: Kernels, pool: ThreadPool | null, threadNote: string | null, parallelMacs: number) {
    this.k = k;
    this.pool = pool;
    this.threadNote = threadNote;
    this.parallelMacs = parallelMacs;
  }

  /**
   * Compiles and instantiates the kernels (asynchronously: browsers refuse large
   * synchronous compiles). threads > 1: the shared-memory build over a shared memory
   * (at most 1 GiB), with threads − 1 workers, where the platform allows it
   * (ThreadPool.unavailable); one thread otherwise, and `name` says why.
   */
  static async create(opts: { threads?: number; /** tests: split GEMMs from this size on */ parallelMacs?: number } = {}): Promise<WasmEngine> {
    const asked = opts.threads ?? 1;
    const macs = opts.parallelMacs ?? PARALLEL_MACS;
    const why = asked > 1 ? ThreadPool.unavailable() : null;
    if (asked > 1 && !why) {
      const module = await WebAssembly.compile(decodeBase64(kernelsSharedWasmBase64));
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      const pool = await ThreadPool.start(asked, module, memory);
      return new WasmEngine(instance.exports as unknown as Kernels, pool, null, macs);
    }
    const module = await WebAssembly.compile(decodeBase64(kernelsWasmBase64));
    const instance = await WebAssembly.instantiate(module, {});
    return new WasmEngine(instance.exports as unknown as Kernels, null, why ? `${asked} asked; ${why}` : null, macs);
  }

  /** Threads the GEMMs and the forward's recurrent steps (split over batch rows) run on. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  get name(): string {
    const n = this.threads;
    return `wasm simd128 (float32, ${n} thread${n === 1 ? '' : 's'}${this.threadNote ? `: ${this.threadNote}` : ''})`;
  }

  /** gemmNT (see kernels.ts), split over the threads when there are several and it is large enough. */
  gemm(M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void {
    if (this.pool && N >= 8 && M * N * K >= this.parallelMacs) this.pool.gemm(this.k.gemmNT, M, N, K, a, lda, b, ldb, c, ldc, src, lds, bias, act);
    else this.k.gemmNT(M, N, K, a, lda, b, ldb, c, ldc, src, lds, bias, act);
  }

  /** gemmPk (c = src + bias + a · Wᵀ with W as panels bp, see kernels.ts), split over the threads by panels like gemm. */
  gemmPanels(M: number, N: number, K: number, a: number, lda: number, bp: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void {
    if (this.pool && N >= 16 && M * N * K >= this.parallelMacs) this.pool.gemmPanels(this.k.gemmPk, M, N, K, a, lda, bp, c, ldc, src, lds, bias, act);
    else this.k.gemmPk(M, N, K, a, lda, bp, c, ldc, src, lds, bias, act);
  }

  /**
   * recForward over all batch rows (see kernels.ts); with several threads and B ≥ 2 its
   * rows are split over them (each thread runs its rows through all T steps: no
   * synchronization between steps). The arguments are recForward's, less b0, b1.
   */
  recForward(...args: RecForwardArgs): void {
    const B = args[6];
    if (this.pool && B >= 2) this.pool.rows(this.k.recForward, args, B);
    else this.k.recForward(...args, 0, B);
  }

  /** Stops the worker threads (the engine keeps working on one thread). */
  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
  }

  /** Bytes of linear memory in use by live blocks (for tests: every call frees what it allocated). */
  get liveBytes(): number {
    let n = 0;
    for (const b of this.sizes.values()) n += b;
    return n;
  }

  /** A block of `floats` float32s, zeroed unless `zero` is false (for outputs a kernel writes in full); returns its byte offset. */
  alloc(floats: number, zero = true): number {
    const bytes = Math.max(16, Math.ceil((floats * 4) / 16) * 16); // arithmetic, not bit operations: sizes may pass 2^31
    let ptr = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.bytes < bytes) continue;
      ptr = f.ptr;
      if (f.bytes === bytes) this.free.splice(i, 1);
      else {
        f.ptr += bytes;
        f.bytes -= bytes;
      }
      break;
    }
    if (ptr < 0) {
      ptr = this.top;
      const end = ptr + bytes;
      const have = this.k.memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / PAGE);
        try {
          this.k.memory.grow(Math.max(pages, Math.min(have / PAGE, 256))); // grow geometrically (capped at 16 MiB a step)
        } catch {
          try {
            this.k.memory.grow(pages);
          } catch {
            throw new LimitError(
              `wasm backend: needs ${end} bytes of WebAssembly memory (a block of ${bytes} bytes on top of ${this.top} in use), more than the engine can grow to (wasm32: at most 4 GiB, less where the host refuses). Hint: use smaller batches or sequences.`,
            );
          }
        }
      }
      this.top = end;
    }
    if (zero) new Uint8Array(this.k.memory.buffer, ptr, bytes).fill(0);
    this.sizes.set(ptr, bytes);
    return ptr;
  }

  release(ptr: number): void {
    const bytes = this.sizes.get(ptr);
    if (bytes === undefined) return;
    this.sizes.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i].ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, bytes });
    // coalesce with the next and the previous block
    if (i + 1 < this.free.length && ptr + bytes === this.free[i + 1].ptr) {
      this.free[i].bytes += this.free[i + 1].bytes;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].ptr + this.free[i - 1].bytes === ptr) {
      this.free[i - 1].bytes += this.free[i].bytes;
      this.free.splice(i, 1);
      i--;
    }
    // a free block at the top goes back to the bump pointer
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** A float32 view of the whole memory (fresh: growing the memory detaches old views). */
  f32(): Float32Array {
    return new Float32Array(this.k.memory.buffer);
  }

  i32(): Int32Array {
    return new Int32Array(this.k.memory.buffer);
  }

  /** A set of blocks freed together. */
  scope(): Scope {
    return new Scope(this);
  }

  /** Copies `rows` rows of `cols` values from a host array (row stride `srcLd`, from `srcOff`) into memory at `ptr` with row stride `ld` floats. */
  write(ptr: number, ld: number, src: ArrayLike<number>, rows: number, cols: number, srcLd = cols, srcOff = 0): void {
    const m = this.f32();
    const base = ptr >>> 2;
    // TypedArray.set only where no conversion is needed: converting float64 → float32 it
    // runs at a third of a plain loop's speed in Chromium (measured: 131k values 0.14 vs 0.05 ms)
    if (src instanceof Float32Array && ld === cols && srcLd === cols) {
      m.set(src.subarray(srcOff, srcOff + rows * cols), base);
      return;
    }
    for (let r = 0; r < rows; r++) {
      const o = base + r * ld;
      const s = srcOff + r * srcLd;
      for (let c = 0; c < cols; c++) m[o + c] = src[s + c];
    }
  }

  /** Copies `rows` × `cols` floats at `ptr` (row stride `ld`) into `dst` (row stride `dstLd`, from `dstOff`), float64. */
  read(ptr: number, ld: number, rows: number, cols: number, dst: Float64Array, dstLd = cols, dstOff = 0): Float64Array {
    const m = this.f32();
    const base = ptr >>> 2;
    // a plain loop: TypedArray.set converting float32 → float64 is slower in Chromium (262k values: 0.25 vs 0.14 ms)
    for (let r = 0; r < rows; r++) {
      const o = base + r * ld;
      const d = dstOff + r * dstLd;
      for (let c = 0; c < cols; c++) dst[d + c] = m[o + c];
    }
    return dst;
  }
}

export class Scope {
  private blocks: number[] = [];
  constructor(private readonly engine: WasmEngine) {}

  alloc(floats: number, zero = true): number {
    const p = this.engine.alloc(floats, zero);
    this.blocks.push(p);
    return p;
  }

  dispose(): void {
    for (const p of this.blocks) this.engine.release(p);
    this.blocks = [];
  }
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } };
  if (g.Buffer) {
    const b = g.Buffer.from(s, 'base64');
    const out = new Uint8Array(new ArrayBuffer(b.length));
    out.set(b);
    return out;
  }
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
