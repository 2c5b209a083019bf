// Runtimes for Node tests: the GPU one through Dawn (the `webgpu` package) on
// SwiftShader, and the CPU reference.
import { createRuntime, type Runtime } from '../../src/index';

export async function gpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'webgpu' });
}

export async function cpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'cpu' });
}
