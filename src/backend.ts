// Which backend a runtime object computes on. The CPU reference is a backend of
// its own, chosen by the caller; nothing falls back to it silently.
//
// Lower floors (layers, models, losses, optimizers) never import the Runtime:
// they take the Backend, or a RuntimeHandle (what public functions such as
// mseLoss(rt, ...) accept) and look its Backend up here.
import { ValueError } from './errors';
import type { GpuContext } from './gpu/context';
import type { BackendName } from './tensor';
import type { WasmEngine } from './wasm/engine';

/**
 * 'cpu' holds its tensors in host memory as float64. Without an engine it is the
 * float64 reference; with one it is the wasm backend: the same host storage, with the
 * heavy kernels (recurrent stacks forward and backward, Dense GEMMs) run in float32
 * WebAssembly SIMD by the engine, the small glue (losses, optimizer updates) in JS.
 */
export type Backend = { kind: 'webgpu'; ctx: GpuContext } | { kind: 'cpu'; engine?: WasmEngine };

/** The name a runtime of this backend reports. */
export function backendName(be: Backend): BackendName {
  return be.kind === 'cpu' && be.engine ? 'wasm' : be.kind;
}

/** A runtime as the functions that take one see it (createRuntime() returns one). */
export interface RuntimeHandle {
  readonly backend: BackendName;
}

const backends = new WeakMap<object, Backend>();

/** @internal Records the backend of a runtime object (the Runtime constructor calls it). */
export function attachBackend(handle: RuntimeHandle, be: Backend): void {
  backends.set(handle, be);
}

/** The backend of a runtime passed as argument `arg`; a ValueError if it is not a runtime. */
export function backendOf(op: string, arg: string, handle: unknown): Backend {
  const be = handle !== null && typeof handle === 'object' ? backends.get(handle) : undefined;
  if (!be) throw new ValueError(`${op}: ${arg} must be a runtime from createRuntime(), got ${handle === null ? 'null' : typeof handle}.`);
  return be;
}
