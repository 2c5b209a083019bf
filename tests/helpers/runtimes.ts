// Runtimes for Node tests: the GPU one through Dawn (the `webgpu` package) on
// SwiftShader, the CPU reference, and the wasm backend.
import { createRuntime, type Runtime } from '../../src/index';

export async function gpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'webgpu' });
}

/** The wasm backend (float32 WebAssembly SIMD kernels). */
export async function wasmRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'wasm' });
}

export async function cpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'cpu' });
}
