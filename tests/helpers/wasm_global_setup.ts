// vitest globalSetup: builds the wasm backend's kernels (src/wasm/kernels_wasm.js, a
// gitignored build output) before any test imports them, when missing or stale.
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildWasm } from '../../scripts/build-wasm.mjs';

export default async function setup(): Promise<void> {
  await (buildWasm as (o: { quiet: boolean }) => Promise<void>)({ quiet: true });
}
