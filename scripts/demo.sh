#!/usr/bin/env bash
# The main job: set up (scripts/setup.sh), build the library (vite build → dist/),
# and run demo/cli.mjs in Node through Dawn: SimpleRNN/GRU/LSTM on the GPU paths
# and the CPU reference, with timings, dispatches per step and parity.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
icd=/usr/lib/chromium/vk_swiftshader_icd.json
if [[ -z "${VK_ICD_FILENAMES:-}" && -f "$icd" ]]; then export VK_ICD_FILENAMES="$icd"; fi
npx vite build --logLevel warn
node demo/cli.mjs "$@" 2> >(grep -v XDG_RUNTIME_DIR >&2)
