#!/usr/bin/env bash
# Runs the whole vitest suite (extra arguments go to vitest, e.g. a test file)
# after scripts/setup.sh, and prints as its LAST line:
#   tests: N passed, N failed
# A test file that failed to load (no tests collected) counts as one failure.
# Exits non-zero if anything failed, vitest itself failed, or no test ran.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh || { echo "scripts/setup.sh failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

# Dawn in Node (the `webgpu` package) finds no Vulkan driver on a GPU-less
# machine unless pointed at Chromium's SwiftShader ICD. Vitest's workers
# inherit this environment.
icd=/usr/lib/chromium/vk_swiftshader_icd.json
if [[ -z "${VK_ICD_FILENAMES:-}" && -f "$icd" ]]; then
  export VK_ICD_FILENAMES="$icd"
fi
echo "test: VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-(unset)}"

out="$PWD/test-artifacts/vitest.json"
mkdir -p test-artifacts
rm -f "$out" # never read a stale report

npx vitest run --reporter=default --reporter=json --outputFile="$out" "$@" </dev/null
vitest_rc=$?

node - "$out" "$vitest_rc" <<'JS'
const fs = require('node:fs');
const [file, rcText] = process.argv.slice(2);
const rc = Number(rcText);
let passed = 0;
let failed = 0;
if (!fs.existsSync(file)) {
  console.log(`test: vitest (exit ${rc}) wrote no report at ${file}`);
  failed = 1;
} else {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  // Files that failed before any test ran (import error, syntax error).
  const broken = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
  );
  for (const f of broken) console.log(`test: failed to load: ${f.name}${f.message ? `: ${f.message.split('\n')[0]}` : ''}`);
  failed += broken.length;
  if (passed + failed === 0) console.log(`test: no test ran (vitest exit ${rc})`);
  else if (rc !== 0 && failed === 0) console.log(`test: vitest exited ${rc} with no failed test (an unhandled error?)`);
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(rc !== 0 || failed > 0 || passed === 0 ? 1 : 0);
JS
