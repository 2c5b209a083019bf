// Types of the generated module src/wasm/kernels_wasm.js (scripts/build-wasm.mjs writes it; gitignored).
/** The compiled kernels (src/wasm/assembly/kernels.ts), SIMD128 wasm, base64. */
export declare const kernelsWasmBase64: string;
