// Entry of tests/browser/index.html. Reads ?module=<path>, imports that module,
// awaits its exported `run()` and publishes, for tests/helpers/browser.ts:
//   window.__adapterInfo  "vendor / architecture / description", or why there is no adapter
//   window.__result       run()'s value after a JSON round trip, or { error, stack }
//   window.__done         true once __result is final (set last, always)

declare global {
  interface Window {
    __done?: boolean;
    __result?: unknown;
    __adapterInfo?: string;
  }
}

interface TestModule {
  run: () => Promise<unknown>;
}

function hasRun(mod: unknown): mod is TestModule {
  return typeof mod === 'object' && mod !== null && typeof (mod as { run?: unknown }).run === 'function';
}

async function describeAdapter(): Promise<string> {
  if (!('gpu' in navigator)) return 'navigator.gpu is missing (not a secure context, or WebGPU is disabled)';
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return 'navigator.gpu.requestAdapter() returned null';
  const { vendor, architecture, description } = adapter.info;
  return `${vendor} / ${architecture} / ${description}`;
}

function errorResult(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error) return { error: `${err.name}: ${err.message}`, stack: err.stack };
  return { error: String(err) };
}

async function main(): Promise<void> {
  try {
    window.__adapterInfo = await describeAdapter();
  } catch (err) {
    window.__adapterInfo = `requestAdapter() threw: ${String(err)}`;
  }

  const modulePath = new URLSearchParams(location.search).get('module');
  try {
    if (!modulePath) {
      throw new Error(`tests/browser/main.ts: no ?module= in the URL. Hint: index.html?module=/tests/browser/smoke.ts`);
    }
    const mod: unknown = await import(/* @vite-ignore */ modulePath);
    if (!hasRun(mod)) {
      throw new Error(`tests/browser/main.ts: ${modulePath} does not export an async function run().`);
    }
    const value = await mod.run();
    // What the Node side receives: plain JSON (typed arrays become objects, NaN becomes null).
    window.__result = JSON.parse(JSON.stringify(value ?? null)) as unknown;
  } catch (err) {
    window.__result = errorResult(err);
  }
}

main()
  .catch((err: unknown) => {
    window.__result = errorResult(err);
  })
  .finally(() => {
    const status = document.getElementById('status');
    if (status) status.textContent = JSON.stringify(window.__result, null, 2);
    window.__done = true;
  });

export {};
