// Finding a GPUDevice: the browser's navigator.gpu, Node's `webgpu` package
// (Dawn), or a device the caller already has.
import { WebGPUUnavailableError } from '../errors';

export interface DeviceRequest {
  /** A device the caller already owns; the runtime will not destroy it. */
  device?: GPUDevice;
  /** A GPU object to use instead of navigator.gpu (e.g. `create([])` from the `webgpu` package). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /**
   * Time every compute pass on the GPU with timestamp queries (Runtime.gpuTime),
   * when the adapter offers 'timestamp-query' (a device passed in must have been
   * created with it). Off by default: the queries cost a little per pass.
   */
  timestamps?: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapterName: string;
  /** True when the runtime created the device and must destroy it on dispose(). */
  owned: boolean;
  /**
   * The GPU instance and adapter, held for the device's lifetime: with Dawn in
   * Node, letting the instance be garbage-collected while its device lives
   * crashes the process.
   */
  keepAlive: unknown[];
  /** The device has 'timestamp-query' and timestamps were asked for. */
  timestamps: boolean;
}

// Limits we raise to the adapter's maximum: the defaults (128 MiB bindings,
// 16 KiB workgroup memory, 8 storage buffers) are lower than most adapters offer.
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

// Dawn in Node: one GPU instance per process, created on first use and never
// released. Letting an instance be garbage-collected (after a runtime is disposed
// or dropped) aborts or hangs the process.
let nodeGpu: Promise<GPU> | null = null;

async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode()) {
    nodeGpu ??= loadDawn();
    nodeGpu.catch(() => (nodeGpu = null));
    return nodeGpu;
  }
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
  throw new WebGPUUnavailableError(
    'createRuntime: navigator.gpu is missing: this browser has no WebGPU' +
      (secure === false ? ' in an insecure context (serve the page over https or from localhost)' : '') +
      ". Hint: pass { backend: 'cpu' } to use the CPU reference.",
  );
}

async function loadDawn(): Promise<GPU> {
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    const name = 'webgpu'; // a variable keeps bundlers from pulling Dawn into browser builds
    mod = await import(/* @vite-ignore */ name);
  } catch (e) {
    throw new WebGPUUnavailableError(
      `createRuntime: no WebGPU in this Node process and the 'webgpu' package (Dawn) could not be loaded: ${(e as Error).message}. ` +
        `Hint: npm install webgpu, or pass { backend: 'cpu' } for the CPU reference.`,
    );
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}

export async function acquireDevice(req: DeviceRequest): Promise<AcquiredDevice> {
  if (req.device) {
    const timestamps = !!req.timestamps && req.device.features.has('timestamp-query');
    return { device: req.device, adapterName: adapterLabel(req.device.adapterInfo), owned: false, keepAlive: [], timestamps };
  }
  const gpu = req.gpu ?? (await findGpu());
  const adapter = await gpu.requestAdapter({ powerPreference: req.powerPreference });
  if (!adapter) {
    throw new WebGPUUnavailableError(
      "createRuntime: WebGPU is present but requestAdapter() returned no adapter (no usable GPU or driver). Hint: pass { backend: 'cpu' } to use the CPU reference.",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const timestamps = !!req.timestamps && adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: timestamps ? ['timestamp-query'] : [] });
  return { device, adapterName: adapterLabel(adapter.info), owned: true, keepAlive: [gpu, adapter], timestamps };
}

function adapterLabel(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length);
  return parts.length ? parts.join(' ') : 'unknown adapter';
}
