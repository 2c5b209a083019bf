#!/usr/bin/env bash
# The benchmark on a machine with a real GPU (issue 12), in one command:
#
#   bash scripts/gpu-bench.sh                     # full shapes, about 5 min on a GPU machine (bar 10 min)
#   bash scripts/gpu-bench.sh --quick             # small shapes, about a minute
#   bash scripts/gpu-bench.sh --allow-software    # run even on a CPU emulation (SwiftShader), e.g. to test this script
#   bash scripts/gpu-bench.sh --with-tfjs         # also TensorFlow.js's webgpu backend (as shipped) as a peer
#   (any other argument goes on to bench/run.mjs, e.g. --cells lstm --reps 9)
#
# What it does, printing each step:
#  1. checks for Node ≥ 20.19 and installs node_modules with `npm ci` when they are
#     missing or older than package-lock.json (npm is the only network it needs);
#     builds the wasm backend's kernels (scripts/build-wasm.mjs, offline);
#  2. finds the WebGPU adapter Dawn gives Node (bench/gpu_adapter.mjs) through the
#     system's Vulkan driver (VK_ICD_FILENAMES as set, else the loader's search),
#     prints it, and refuses a software adapter unless --allow-software;
#  3. runs the benchmark in Node through Dawn (bench/run.mjs --node): our GPU
#     per-step and persistent paths timed, ONNX Runtime Web's WebGPU provider
#     (ort-webgpu, inference; which provider ran each node is reported) and our wasm
#     backend timed, the float64 CPU reference once per case for parity (untimed),
#     outputs and gradients of every pair compared; exits non-zero on a parity failure;
#  4. writes bench/results/gpu-<adapter>-<time>.json, .md and .html, and checks the
#     run used the adapter of step 2.
# It never installs system packages (no apt-get, unlike scripts/setup.sh) and never
# points Vulkan at SwiftShader itself. A hard limit of 590 s stops the run; use
# --quick or fewer --cells where that is too little.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "gpu-bench: $*"; }
die() { echo "gpu-bench: ERROR: $*" >&2; exit 1; }

allow=()
quick=0
tfjs=0
pass=()
for a in "$@"; do
  case "$a" in
    --allow-software) allow=(--allow-software) ;;
    --quick) quick=1; pass+=("$a") ;;
    --with-tfjs) tfjs=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) pass+=("$a") ;;
  esac
done

# --- 1. Node, node_modules, the wasm kernels -----------------------------------
command -v node >/dev/null || die "node is not installed. Hint: install Node ≥ 20.19 (e.g. from nodejs.org or your distribution)."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "node $(node --version) is too old: this project needs ≥ 20.19."
log "node $(node --version)"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  command -v npm >/dev/null || die "node_modules are missing and npm is not installed."
  log "node_modules missing or older than package-lock.json: npm ci"
  npm ci --no-audit --no-fund
else
  log "node_modules up to date"
fi
[[ -d node_modules/webgpu ]] || die "node_modules/webgpu (Dawn for Node) is missing. Hint: npm ci."
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && ! ls /usr/lib/*/libvulkan.so.1 /lib/*/libvulkan.so.1 >/dev/null 2>&1; then
  die "libvulkan.so.1 (the Vulkan loader) is not installed; Dawn needs it. Hint: apt-get install libvulkan1 (and the GPU's Vulkan driver)."
fi
node scripts/build-wasm.mjs

# --- 2. the adapter --------------------------------------------------------------
info=$(mktemp)
trap 'rm -f "$info" "$info.log"' EXIT
set +e
node bench/gpu_adapter.mjs "${allow[@]}" --json "$info" 2> >(grep -v XDG_RUNTIME_DIR >&2)
rc=$?
set -e
[[ $rc -eq 0 ]] || die "no usable GPU adapter (see above); nothing was run."
slug=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).slug)' "$info")
vendor=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).vendor)' "$info")

# --- 3. the benchmark ------------------------------------------------------------
paths=ours-step,ours-persistent,ort-webgpu,ours-wasm,ours-cpu
[[ $tfjs == 1 ]] && paths="$paths,tfjs-webgpu"
log "running bench/run.mjs --node on ${slug}: paths ${paths} (ours-cpu for parity only)$([[ $quick == 1 ]] && echo ', --quick shapes')"
start=$(date +%s)
set +e
timeout 590 node bench/run.mjs --node --paths "$paths" --parity-paths ours-cpu --name "gpu-${slug}" "${pass[@]}" \
  2> >(grep -v XDG_RUNTIME_DIR >&2) | tee "$info.log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
[[ $rc -ne 124 ]] || die "the run passed its 590 s limit and was stopped (${elapsed} s). Hint: --quick, or fewer --cells / --shapes."
json=$(sed -n 's/^bench: wrote \(.*\.json\),.*/\1/p' "$info.log")
rm -f "$info.log"
[[ -n "$json" && -f "$json" ]] || die "the run wrote no results (exit ${rc}, ${elapsed} s); see above."

# --- 4. the results came from that adapter ---------------------------------------
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const vendor = process.argv[2];
  if (vendor && !r.adapter.toLowerCase().includes(vendor.toLowerCase())) {
    console.error(`gpu-bench: ERROR: the run used adapter "${r.adapter}", not the ${vendor} adapter that was checked`);
    process.exit(1);
  }
  const rows = r.cases.flatMap((c) => c.paths);
  console.log(`gpu-bench: adapter ${r.adapter}; ${r.cases.length} cases, ${rows.filter((p) => p.ok).length} of ${rows.length} rows ran; parity ${r.failures.length ? r.failures.length + " FAILURE(S)" : "OK on every pair"}`);
' "$json" "$vendor"
log "results: $json (and .md, .html beside it); ${elapsed} s"
exit "$rc"
