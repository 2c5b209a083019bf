#!/usr/bin/env bash
# The benchmark (issue 4): set up (scripts/setup.sh), then run bench/run.mjs, which
# serves the repo with Vite and runs bench/page.ts in headless Chromium (or, with
# --node, in Node through Dawn). Arguments go to bench/run.mjs:
#   bash scripts/bench.sh                    # the full matrix: every path, cell and shape (see README, Benchmark)
#   bash scripts/bench.sh --quick            # small shapes, a couple of minutes on SwiftShader
#   bash scripts/bench.sh --node --cells lstm --reps 9
# Each measurement takes up to --reps samples, at least --min-reps, and stops once its
# samples took --budget seconds; every median in the results says how many it has.
# Writes bench/results/<timestamp>.json and .html (the report; .html is git-ignored).
# Paths include ours-wasm and ONNX Runtime Web (ort-webgpu, ort-wasm); on a machine
# with a real GPU, scripts/gpu-bench.sh runs our GPU paths in Node instead (it never
# points Vulkan at SwiftShader, as this script does when VK_ICD_FILENAMES is unset).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
icd=/usr/lib/chromium/vk_swiftshader_icd.json
if [[ -z "${VK_ICD_FILENAMES:-}" && -f "$icd" ]]; then export VK_ICD_FILENAMES="$icd"; fi
# The suite imports src/ through Vite (no dist/ build needed); typecheck is the tests' job.
node bench/run.mjs "$@" 2> >(grep -v XDG_RUNTIME_DIR >&2)
