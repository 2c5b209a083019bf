// Which backend a runtime object computes on. The CPU reference is a backend of
// its own, chosen by the caller; nothing falls back to it silently.
import type { GpuContext } from './gpu/context';

export type Backend = { kind: 'webgpu'; ctx: GpuContext } | { kind: 'cpu' };
