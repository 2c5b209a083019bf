// Browser smoke test: proves that the page gets a WebGPU adapter and device and
// that a compute dispatch runs and reads back. Independent of src/ on purpose,
// so a failure here points at the browser/harness, not at the library.
//
//   y[i] = x[i] * 2 + 1,  i < N = 100,  x[i] = i - 50
//   dispatch: ceil(N / 64) workgroups of 64 threads; threads with i >= N return.

const N = 100;
const WORKGROUP = 64;

const SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;        // (N)
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // (N)

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&x)) { return; }
  y[i] = x[i] * 2.0 + 1.0;
}
`;

export async function run(): Promise<{ ok: boolean; maxErr: number; adapter: string }> {
  if (!('gpu' in navigator)) throw new Error('smoke: navigator.gpu is missing. Hint: serve over http://127.0.0.1.');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('smoke: navigator.gpu.requestAdapter() returned null.');
  const device = await adapter.requestDevice();
  try {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: 'smoke', code: SHADER });
    const pipeline = device.createComputePipeline({ label: 'smoke', layout: 'auto', compute: { module, entryPoint: 'main' } });

    const x = Float32Array.from({ length: N }, (_, i) => i - 50);
    const bytes = N * 4;
    const xBuf = device.createBuffer({ label: 'smoke.x', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const yBuf = device.createBuffer({ label: 'smoke.y', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readBuf = device.createBuffer({ label: 'smoke.read', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(xBuf, 0, x);

    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: xBuf } },
        { binding: 1, resource: { buffer: yBuf } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(N / WORKGROUP));
    pass.end();
    encoder.copyBufferToBuffer(yBuf, 0, readBuf, 0, bytes);
    device.queue.submit([encoder.finish()]);

    const validation = await device.popErrorScope();
    if (validation) throw new Error(`smoke: WGSL/dispatch validation failed: ${validation.message}`);

    await readBuf.mapAsync(GPUMapMode.READ);
    const y = new Float32Array(readBuf.getMappedRange().slice(0));
    readBuf.unmap();

    let maxErr = 0;
    for (let i = 0; i < N; i++) maxErr = Math.max(maxErr, Math.abs(y[i] - (x[i] * 2 + 1)));
    const { vendor, architecture, description } = adapter.info;
    return { ok: maxErr === 0, maxErr, adapter: `${vendor} / ${architecture} / ${description}` };
  } finally {
    device.destroy();
  }
}
