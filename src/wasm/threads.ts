// Worker threads of the wasm backend: N − 1 workers instantiate the shared-memory
// build of the kernels over the engine's (shared) memory; a GEMM is split over its
// output columns N (the gate rows of a projection or a weight gradient), the calling
// thread running the first slice. Node: worker_threads; browsers: Workers, only when
// the page is cross-origin isolated (SharedArrayBuffer). Elsewhere: no pool.
//
// Protocol over a small SharedArrayBuffer `ctrl` (Int32Array):
//   [0] generation: bumped (and notified) once per job; [1] workers done with it;
//   [2] opcode (1 = gemmNT slice, 2 = gemmPk slice, 3 = recForward rows, −1 = quit);
//   [3..16] the GEMM's 13 arguments (gemmPk's: ldb unused), or [3..22] recForward's 20
//   before b0, b1. Each worker takes slice tid of N (4-aligned; gemmPk: 16-aligned, whole
//   panels) or of the batch rows B, and adds 1 to [1] when done. The caller
// waits for [1] = N − 1 (Atomics.wait where the thread may block, else it spins: a
// browser's main thread may not block).

const CTRL_INTS = 32;
const OP = 2;
const ARGS = 3;
const REC_ARGS = 20; // recForward's arguments before b0, b1

/** The worker's source (plain JS, the same in Node, where it is eval'd, and in a browser Worker). */
const WORKER_SOURCE = `
let k = null, c = null, tid = 0, threads = 1, gen = 0;
function run() {
  for (;;) {
    Atomics.wait(c, 0, gen);
    gen = Atomics.load(c, 0);
    if (c[${OP}] === -1) return;
    const op = c[${OP}];
    if (op === 3) {
      // recForward over this thread's batch rows (pointers pass as int32: wasm reads the same bits)
      const a = [];
      for (let i = 0; i < ${REC_ARGS}; i++) a.push(c[${ARGS} + i]);
      const B = a[6], chunk = Math.ceil(B / threads), b0 = tid * chunk, b1 = Math.min(B, b0 + chunk);
      if (b1 > b0) k.recForward(...a, b0, b1);
      Atomics.add(c, 1, 1);
      Atomics.notify(c, 1);
      continue;
    }
    const a = [];
    for (let i = 0; i < 13; i++) a.push(c[${ARGS} + i]);
    const align = op === 2 ? 16 : 4;
    const N = a[1], chunk = Math.ceil(N / threads / align) * align, n0 = tid * chunk, n1 = Math.min(N, n0 + chunk);
    if (n1 > n0) {
      const [M, , K, pa, lda, pb, ldb, pc, ldc, src, lds, bias, act] = a;
      const cs = (pc >>> 0) + n0 * 4, ss = src ? (src >>> 0) + n0 * 4 : 0, bs = bias ? (bias >>> 0) + n0 * 4 : 0;
      if (op === 2) k.gemmPk(M, n1 - n0, K, pa, lda, (pb >>> 0) + n0 * K * 4, cs, ldc, ss, lds, bs, act); // panels: 16 columns × K floats each
      else k.gemmNT(M, n1 - n0, K, pa, lda, (pb >>> 0) + n0 * ldb * 4, ldb, cs, ldc, ss, lds, bs, act);
    }
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  }
}
function start(d) {
  k = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
  c = new Int32Array(d.ctrl); tid = d.tid; threads = d.threads;
  run();
}
if (typeof require === 'function') start(require('node:worker_threads').workerData);
else self.onmessage = (e) => start(e.data);
`;

interface WorkerLike {
  terminate(): unknown;
  unref?: () => void;
}

type PanelGemmFn = (M: number, N: number, K: number, a: number, lda: number, bp: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number) => void;
type GemmFn = (M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number) => void;

export class ThreadPool {
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly workers: WorkerLike[];
  private canWait = true;

  private constructor(threads: number, ctrl: Int32Array, workers: WorkerLike[]) {
    this.threads = threads;
    this.ctrl = ctrl;
    this.workers = workers;
  }

  /** Why this platform cannot run a pool, or null when it can. */
  static unavailable(): string | null {
    const g = globalThis as { process?: { versions?: { node?: string } }; crossOriginIsolated?: boolean; Worker?: unknown };
    const node = !!g.process?.versions?.node;
    if (!node && g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (no SharedArrayBuffer)';
    if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer';
    if (node) return null;
    if (typeof g.Worker !== 'function') return 'no Worker';
    return null;
  }

  /** Starts threads − 1 workers over `memory` (shared) with the shared build `module`. */
  static async start(threads: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
    const workers: WorkerLike[] = [];
    const g = globalThis as { process?: { versions?: { node?: string } } };
    try {
      if (g.process?.versions?.node) {
        type WT = { Worker: new (src: string, o: object) => WorkerLike };
        const proc = g.process as { getBuiltinModule?: (id: string) => unknown };
        const name = 'node:worker_threads'; // a variable keeps bundlers from resolving it for browsers
        // process.getBuiltinModule (Node ≥ 20.16) needs no module loader; import() is the fallback
        const { Worker } = (proc.getBuiltinModule?.(name) as WT | undefined) ?? ((await import(/* @vite-ignore */ name)) as WT);
        for (let tid = 1; tid < threads; tid++) {
          const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: ctrl.buffer, tid, threads } });
          w.unref?.(); // an idle pool never keeps the process alive
          workers.push(w);
        }
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        try {
          for (let tid = 1; tid < threads; tid++) {
            const w = new Worker(url);
            w.postMessage({ module, memory, ctrl: ctrl.buffer, tid, threads });
            workers.push(w);
          }
        } finally {
          URL.revokeObjectURL(url);
        }
      }
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new ThreadPool(threads, ctrl, workers);
  }

  /** gemmNT split over N across the pool; the calling thread runs slice 0 with `local`. */
  gemm(local: GemmFn, M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void {
    this.post(1, [M, N, K, a, lda, b, ldb, c, ldc, src, lds, bias, act]);
    const chunk = Math.ceil(N / this.threads / 4) * 4;
    local(M, Math.min(N, chunk), K, a, lda, b, ldb, c, ldc, src, lds, bias, act);
    this.join();
  }

  /** gemmPk (W as panels bp) split over whole panels of N; the calling thread runs slice 0. */
  gemmPanels(local: PanelGemmFn, M: number, N: number, K: number, a: number, lda: number, bp: number, c: number, ldc: number, src: number, lds: number, bias: number, act: number): void {
    this.post(2, [M, N, K, a, lda, bp, 0, c, ldc, src, lds, bias, act]);
    const chunk = Math.ceil(N / this.threads / 16) * 16;
    local(M, Math.min(N, chunk), K, a, lda, bp, c, ldc, src, lds, bias, act);
    this.join();
  }

  /** recForward split over batch rows B (the arguments before b0, b1); the calling thread runs the first share. */
  rows(local: (...a: number[]) => void, args: readonly number[], B: number): void {
    this.post(3, args);
    local(...args, 0, Math.min(B, Math.ceil(B / this.threads)));
    this.join();
  }

  private post(op: number, args: readonly number[]): void {
    const ctl = this.ctrl;
    for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i] | 0; // offsets past 2^31 wrap to negative int32; workers read them back >>> 0
    ctl[OP] = op;
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  }

  /** Waits for every worker to finish the posted job. */
  private join(): void {
    const ctl = this.ctrl;
    const want = this.threads - 1;
    for (let done = Atomics.load(ctl, 1); done < want; done = Atomics.load(ctl, 1)) {
      if (this.canWait) {
        try {
          Atomics.wait(ctl, 1, done, 50);
        } catch {
          this.canWait = false; // a browser's main thread: spin instead
        }
      }
    }
  }

  dispose(): void {
    this.ctrl[OP] = -1;
    Atomics.add(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
