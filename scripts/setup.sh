#!/usr/bin/env bash
# Fresh-machine setup, idempotent; CI runs it as root on Debian.
#  1. A Chrome/Chromium for the browser tests (puppeteer cannot download one
#     offline; .puppeteerrc.cjs points it at the system browser) and libvulkan1
#     (the `webgpu` package, Dawn for Node, loads libvulkan.so.1). Installed with
#     apt-get only when missing.
#  2. node_modules, with `npm ci`, when missing or older than package-lock.json.
# Prints what it does. Does not fail when apt-get is unavailable but nothing
# needs installing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "setup: $*"; }

find_browser() {
  local p
  for p in "${PUPPETEER_EXECUTABLE_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser \
    /usr/bin/google-chrome-stable /usr/bin/google-chrome; do
    if [[ -n "$p" && -x "$p" ]]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

has_libvulkan() {
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' ||
    [[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 || -e /lib/x86_64-linux-gnu/libvulkan.so.1 ||
      -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ]]
}

# --- system packages ---------------------------------------------------------
need_browser=0
need_vulkan=0
if browser=$(find_browser); then
  log "browser: $browser"
else
  log "no Chrome/Chromium found"
  need_browser=1
fi
if has_libvulkan; then
  log "libvulkan.so.1: present"
else
  log "libvulkan.so.1 not found"
  need_vulkan=1
fi

apt_install() {
  local sudo=()
  if ! command -v apt-get >/dev/null; then
    log "apt-get is not available"
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      log "not root and no sudo: cannot apt-get install"
      return 1
    fi
  fi
  log "apt-get update && apt-get install -y $*"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$@"
}

if ((need_browser)); then
  # chromium also brings SwiftShader (/usr/lib/chromium/vk_swiftshader_icd.json).
  apt_install chromium libvulkan1 || { log "ERROR: could not install chromium; the browser tests need it." >&2; exit 1; }
  browser=$(find_browser) || { log "ERROR: chromium installed but no browser binary found." >&2; exit 1; }
  log "browser: $browser"
elif ((need_vulkan)); then
  # A browser is here: a missing libvulkan1 fails only the Dawn-in-Node tests,
  # with their own message, so warn instead of stopping.
  apt_install libvulkan1 || log "WARNING: could not install libvulkan1; Dawn (the webgpu package) will find no adapter."
fi

if [[ -f /usr/lib/chromium/vk_swiftshader_icd.json ]]; then
  log "SwiftShader Vulkan ICD (for Dawn in Node): /usr/lib/chromium/vk_swiftshader_icd.json"
fi

# --- node_modules ------------------------------------------------------------
if [[ ! -d node_modules ]]; then
  log "node_modules missing: npm ci"
  npm ci --no-audit --no-fund
elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "package-lock.json is newer than node_modules: npm ci"
  npm ci --no-audit --no-fund
else
  log "node_modules up to date"
fi

# --- the wasm backend's kernels (AssemblyScript → src/wasm/kernels_wasm.js, gitignored) ---
node scripts/build-wasm.mjs || { log "ERROR: scripts/build-wasm.mjs failed: the wasm backend's kernels did not build." >&2; exit 1; }
log "done"
