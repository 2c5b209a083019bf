// Headless Chromium gets a WebGPU adapter and runs a compute shader
// (tests/browser/smoke.ts) through the runInBrowser harness.
import { describe, expect, it } from 'vitest';
import { runInBrowser } from './helpers/browser';

describe('browser smoke', () => {
  it('runs y = 2x + 1 in a WebGPU compute shader in headless Chromium', async () => {
    const { result, consoleErrors, adapterInfo } = await runInBrowser('/tests/browser/smoke.ts');
    console.log(`browser adapter: ${adapterInfo}`);
    expect(consoleErrors).toEqual([]);
    // Small integers times 2 plus 1 are exact in f32: no tolerance needed.
    expect(result).toMatchObject({ ok: true, maxErr: 0 });
    expect((result as { adapter: string }).adapter).toBe(adapterInfo);
  });
});
