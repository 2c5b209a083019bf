// A trainable parameter as optimizers see it: a value and its accumulated
// gradient, both flat arrays of `size` floats, on the layer's backend. Layers
// own both (and free them); optimizers own only their own state (moments).
// GPU parameters carry the context (device) they live on.
// Layout is whatever the layer keeps (e.g. W_hh transposed on the GPU): updates
// are elementwise, so they do not care.
import type { GpuContext } from '../gpu/context';

export type Param =
  | {
      name: string;
      size: number;
      kind: 'webgpu';
      value: GPUBuffer;
      grad: GPUBuffer;
      /** @internal the device's context the buffers belong to */
      ctx: GpuContext;
    }
  | {
      name: string;
      size: number;
      kind: 'cpu';
      value: Float32Array;
      grad: Float64Array;
      /**
       * Tells the owning layer that `value` was edited in place (optimizers call it after
       * a step): the wasm backend then repacks its float32 copy before the next use.
       */
      changed?: () => void;
    };
