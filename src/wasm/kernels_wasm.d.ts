// Types of the generated module src/wasm/kernels_wasm.js (scripts/build-wasm.mjs writes it; gitignored).
/** The compiled kernels (src/wasm/assembly/kernels.ts), SIMD128 wasm, base64. */
export declare const kernelsWasmBase64: string;
/** The same kernels importing a shared memory (env.memory, up to 4 GiB), for worker threads. */
export declare const kernelsSharedWasmBase64: string;
