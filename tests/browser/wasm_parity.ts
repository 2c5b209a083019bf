// Browser page of the wasm backend (driven by tests/browser_wasm.test.ts): the same
// kernel cases as tests/wasm_parity.test.ts (tests/parity/wasm_cases.ts) in headless
// Chromium's WebAssembly engine, then the backend through the public API: the
// PyTorch forward and gradient fixtures, Dense against the reference runtime, and
// what createRuntime({ backend: 'auto' }) picks on a page with WebGPU.
import { createRuntime } from '../../src/index';
import { WasmEngine } from '../../src/wasm/engine';
import forward from '../fixtures/forward.json';
import gradients from '../fixtures/gradients.json';
import { runGradCases, type GradCase } from '../parity/grad_cases';
import { runTorchCases, type TorchCase } from '../parity/torch_cases';
import { denseCases, gemmCases, runDenseCase, runGemmCase, runStackCase, stackCases } from '../parity/wasm_cases';

export interface WasmPageRow {
  suite: 'kernels' | 'torch' | 'gradients' | 'dense';
  name: string;
  ok: boolean;
  detail: string;
}

export interface WasmPageResult {
  backend: string;
  adapterName: string;
  autoBackend: string;
  /** adapterName of createRuntime({ backend: 'wasm', threads: 2 }) on this page. */
  threadedName: string;
  crossOriginIsolated: boolean;
  rows: WasmPageRow[];
  /** Bytes still allocated in the kernels' engine after every kernel case (0: all freed). */
  leakedBytes: number;
}

export async function run(): Promise<WasmPageResult> {
  const rows: WasmPageRow[] = [];
  const eng = await WasmEngine.create();
  for (const c of gemmCases) {
    const r = runGemmCase(eng, c);
    rows.push({ suite: 'kernels', name: r.name, ok: r.ok, detail: r.detail });
  }
  for (const c of stackCases) for (const r of runStackCase(eng, c)) rows.push({ suite: 'kernels', name: r.name, ok: r.ok, detail: r.detail });
  const wasm = await createRuntime({ backend: 'wasm' });
  const cpu = await createRuntime({ backend: 'cpu' });
  for (const r of await runTorchCases(wasm, forward.cases as unknown as TorchCase[], ['auto'])) rows.push({ suite: 'torch', name: `${r.name} (${r.path})`, ok: r.ok, detail: r.detail });
  for (const r of await runGradCases(wasm, gradients.cases as unknown as GradCase[])) rows.push({ suite: 'gradients', name: r.name, ok: r.ok, detail: r.detail });
  for (const c of denseCases) for (const r of await runDenseCase(wasm, cpu, c)) rows.push({ suite: 'dense', name: r.name, ok: r.ok, detail: r.detail });
  const threaded = await createRuntime({ backend: 'wasm', threads: 2 });
  const threadedName = threaded.adapterName;
  for (const r of await runTorchCases(threaded, (forward.cases as unknown as TorchCase[]).slice(0, 4), ['auto'])) rows.push({ suite: 'torch', name: `${r.name} (threads: 2)`, ok: r.ok, detail: r.detail });
  threaded.dispose();
  const auto = await createRuntime({ backend: 'auto' });
  const autoBackend = auto.backend;
  auto.dispose();
  return { backend: wasm.backend, adapterName: wasm.adapterName, autoBackend, threadedName, crossOriginIsolated: !!globalThis.crossOriginIsolated, rows, leakedBytes: eng.liveBytes };
}
