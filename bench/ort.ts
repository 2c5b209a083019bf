// ONNX Runtime Web 1.30 paths of the benchmark (issue 12), inference only (ONNX
// Runtime has no training in the browser):
//   ort-webgpu  `onnxruntime-web/webgpu`, executionProviders ['webgpu']: its WebGPU
//               execution provider (in 1.30 the C++ WebGPU EP compiled into the
//               wasm, which has LSTM and GRU kernels); the default import would run
//               them on the CPU.
//   ort-wasm    `onnxruntime-web/wasm`, executionProviders ['wasm']: the CPU EP in
//               wasm (SIMD), one thread (env.wasm.numThreads = 1).
// The model is bench/onnx.ts's, built from the page's weights. Which provider ran
// each node is read from ONNX Runtime's own verbose log of the session's creation
// (session_state.cc "Node placements"), captured here, so a row whose recurrent node
// fell back to the CPU is flagged instead of silently compared. That log comes from
// a first session with the same model and options, released before the timed one
// (which logs warnings only) is created: placement is a function of the two.
//
// Where the log goes: in a browser ONNX Runtime prints through console.* (bound
// when its wasm glue loads, so the hook is installed before that); in Node its
// emscripten glue writes with fs.writeSync(1 | 2, …), hooked the same way. Lines
// that arrive while a session is being created are kept (not printed); everything
// else passes through.
//
// Node only: Dawn's queue.writeBuffer refuses views of a SharedArrayBuffer ("Invalid
// argument"), and ONNX Runtime's wasm memory is shared; installNodeWriteBufferCopy()
// makes such writes go through a copy (bench/page.ts installs it with Dawn).
import { buildOnnxModel, kerasToOnnx, onnxOp, type KerasWeights, type OnnxCell } from './onnx';

export type OrtPath = 'ort-webgpu' | 'ort-wasm';

/** The execution provider each path asks for, and the names its log gives it. */
export const EXPECTED_EP: Record<OrtPath, string[]> = {
  'ort-webgpu': ['WebGpuExecutionProvider', 'JsExecutionProvider'],
  'ort-wasm': ['CPUExecutionProvider'],
};

type OrtModule = typeof import('onnxruntime-web');

let captured: string[] | null = null;
let hooked = false;

/** Installs the log hooks once (before ONNX Runtime's glue loads). */
export async function installOrtLogCapture(): Promise<void> {
  if (hooked) return;
  hooked = true;
  const c = console as unknown as Record<string, (...a: unknown[]) => void>;
  for (const k of ['log', 'info', 'warn', 'error', 'debug']) {
    const orig = c[k].bind(console);
    c[k] = (...a: unknown[]) => {
      if (captured) captured.push(a.map(String).join(' '));
      else orig(...a);
    };
  }
  const g = globalThis as { process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) {
    const name = 'node:fs'; // a variable keeps Vite from resolving it for the browser
    const fs = ((await import(/* @vite-ignore */ name)) as { default: { writeSync: (...a: unknown[]) => number } }).default;
    const orig = fs.writeSync;
    fs.writeSync = function (fd: unknown, data: unknown, ...rest: unknown[]) {
      if (captured && (fd === 1 || fd === 2) && typeof data === 'string') {
        captured.push(data.replace(/\n$/, ''));
        return data.length;
      }
      return orig.call(this, fd, data, ...rest);
    };
  }
}

/** Node + Dawn: queue.writeBuffer with a SharedArrayBuffer-backed view copies it first. */
export function installNodeWriteBufferCopy(): void {
  const Q = (globalThis as { GPUQueue?: { prototype: GPUQueue & { __sabCopy?: boolean } } }).GPUQueue?.prototype;
  if (!Q || Q.__sabCopy) return;
  const orig = Q.writeBuffer;
  Q.__sabCopy = true;
  Q.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) {
    if (ArrayBuffer.isView(data) && typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer) {
      const el = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const start = (dataOffset ?? 0) * el;
      const len = size === undefined ? data.byteLength - start : size * el;
      const copy = new Uint8Array(len);
      copy.set(new Uint8Array(data.buffer, data.byteOffset + start, len));
      return orig.call(this, buffer, offset, copy);
    }
    return orig.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
}

const modules: Partial<Record<OrtPath, Promise<OrtModule>>> = {};

/** The ONNX Runtime module of a path, configured once: one wasm thread, wasm files from `prefix` (browser). */
export function loadOrt(path: OrtPath, prefix?: string): Promise<OrtModule> {
  modules[path] ??= (async () => {
    await installOrtLogCapture();
    const ort = (path === 'ort-webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm')) as unknown as OrtModule;
    ort.env.wasm.numThreads = 1;
    if (prefix) ort.env.wasm.wasmPaths = prefix;
    ort.env.logLevel = 'warning';
    return ort;
  })();
  return modules[path]!;
}

export interface Placement {
  /** "Op (name)" → execution provider, for every node the log listed. */
  nodes: Record<string, string>;
  /** The provider of the recurrent node ('rnn'), or null when the log did not say. */
  recurrent: string | null;
}

/** Parses session_state.cc's "Node placements" lines. `names` are the model's nodes (for "All nodes placed on [EP]"). */
export function parsePlacement(lines: string[], names: string[]): Placement {
  const nodes: Record<string, string> = {};
  let current: string | null = null;
  for (const raw of lines.flatMap((l) => l.split('\n'))) {
    const all = /All nodes placed on \[(\w+)\]/.exec(raw);
    if (all) {
      for (const n of names) nodes[n] = all[1];
      current = null;
      continue;
    }
    const some = /Node\(s\) placed on \[(\w+)\]/.exec(raw);
    if (some) {
      current = some[1];
      continue;
    }
    const node = current && /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+ \([^)]*\))\s*$/.exec(raw);
    if (node) nodes[node[1]] = current!;
    else if (current && !/VerifyEachNodeIsAssignedToAnEp/.test(raw)) current = null;
  }
  const rnn = Object.entries(nodes).find(([k]) => k.endsWith('(rnn)'));
  return { nodes, recurrent: rnn ? rnn[1] : null };
}

export interface OrtSession {
  run(): Promise<Float32Array>;
  /** run() without keeping the output (the timed call: output read back to the CPU, then dropped). */
  runOnly(): Promise<void>;
  placement: Placement;
  /** ONNX Runtime warnings and errors logged while the session was created. */
  warnings: string[];
  release(): Promise<void>;
}

/** Builds the model from Keras-layout weights and creates a session on the path's provider; the recurrent node's placement is read from the log. */
export async function createOrtSession(
  path: OrtPath,
  cell: OnnxCell,
  shape: [number, number, number, number],
  weights: KerasWeights,
  x: Float32Array,
  prefix?: string,
): Promise<OrtSession> {
  const [B, T, I, H] = shape;
  const ort = await loadOrt(path, prefix);
  const bytes = buildOnnxModel(cell, shape, kerasToOnnx(cell, I, H, weights));
  const options = { executionProviders: [path === 'ort-webgpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all' as const };
  // One session with a verbose log, for the node placements, released at once; the
  // timed session logs warnings only (a verbose session logs every program it runs).
  const lines: string[] = [];
  captured = lines;
  try {
    const verbose = await ort.InferenceSession.create(bytes, { ...options, logSeverityLevel: 0, logVerbosityLevel: 0 });
    await verbose.release();
  } finally {
    captured = null;
  }
  captured = []; // its warnings repeat the verbose session's
  let session: Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(bytes, { ...options, logSeverityLevel: 2 });
  } finally {
    captured = null;
  }
  const names = ['Transpose (transpose_in)', `${onnxOp(cell)} (rnn)`, 'Squeeze (squeeze)', 'Transpose (transpose_out)'];
  const placement = parsePlacement(lines, names);
  const warnings = lines.filter((l) => /\[(W|E):onnxruntime/.test(l)).map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim());
  const feeds = { x: new ort.Tensor('float32', x, [B, T, I]) };
  const quiet = { logSeverityLevel: 3 as const }; // errors only while timing
  return {
    placement,
    warnings,
    async run() {
      const out = await session.run(feeds, quiet);
      const y = out.y;
      const data = new Float32Array((await y.getData()) as Float32Array);
      y.dispose();
      return data;
    },
    async runOnly() {
      const out = await session.run(feeds, quiet);
      await out.y.getData();
      out.y.dispose();
    },
    async release() {
      await session.release();
    },
  };
}

/** The ONNX Runtime version (onnxruntime-common's env.versions). */
export async function ortVersion(path: OrtPath): Promise<string> {
  const ort = await loadOrt(path);
  return ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown';
}
