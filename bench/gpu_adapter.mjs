// Which WebGPU adapter Dawn (the `webgpu` package) gives Node on this machine, for
// scripts/gpu-bench.sh: prints it, and refuses a software adapter (SwiftShader,
// llvmpipe/lavapipe, or one marked as a fallback) unless --allow-software.
//
//   node bench/gpu_adapter.mjs [--allow-software] [--json FILE]
//
// Exit codes: 0 a hardware adapter (or a software one that was allowed), 2 a
// software adapter refused, 3 no adapter at all. --json writes
// { name, slug, vendor, architecture, device, description, software, why } to FILE.
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const allowSoftware = args.includes('--allow-software');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : null;

let gpu;
try {
  const mod = await import('webgpu');
  Object.assign(globalThis, mod.globals);
  gpu = mod.create([]);
} catch (e) {
  console.error(`gpu-adapter: cannot load Dawn (the 'webgpu' package): ${e?.message ?? e}. Hint: npm ci; on Linux Dawn needs libvulkan1.`);
  process.exit(3);
}
// the same request as createRuntime() makes (no power preference)
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error(
    `gpu-adapter: requestAdapter() returned no adapter. VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}. ` +
      'Hint: install the GPU\'s Vulkan driver (NVIDIA: the driver\'s nvidia_icd.json under /usr/share/vulkan/icd.d; `vulkaninfo --summary` lists devices).',
  );
  process.exit(3);
}
const info = adapter.info ?? {};
const fields = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' };
const name = [fields.vendor, fields.architecture, fields.device, fields.description].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim() || 'unknown adapter';
const fallback = !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
const softwareName = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i.test(name);
const software = fallback || softwareName;
const why = software ? (fallback ? 'the adapter says it is a fallback (CPU) adapter' : `its name (${name}) is a CPU emulation of a GPU`) : '';
const slug = [fields.vendor, fields.architecture || fields.description || fields.device].filter(Boolean).join(' ').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'adapter';
console.log(`gpu-adapter: ${name}${software ? ` — SOFTWARE: ${why}` : ''}`);
console.log(`gpu-adapter: VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset: the Vulkan loader searches the system ICDs)'}`);
console.log(`gpu-adapter: limits maxComputeWorkgroupStorageSize ${adapter.limits.maxComputeWorkgroupStorageSize}, maxStorageBufferBindingSize ${adapter.limits.maxStorageBufferBindingSize}; timestamp-query ${adapter.features.has('timestamp-query') ? 'yes' : 'no'}`);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ name, slug, ...fields, software, why }));
if (software && !allowSoftware) {
  console.error(
    `gpu-adapter: refusing ${name}: ${why}, so its timings would not be a GPU's. ` +
      'Hint: check the GPU driver (`vulkaninfo --summary`), unset VK_ICD_FILENAMES if it points at SwiftShader, or pass --allow-software to run anyway.',
  );
  process.exit(2);
}
process.exit(0);
