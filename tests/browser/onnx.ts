// Browser ONNX page (driven by tests/browser_onnx.test.ts through runInBrowser):
// rt.loadOnnx in headless Chromium on the WebGPU runtime and the CPU runtime. The
// .onnx bytes and torch's outputs are fetched from the dev server
// (tests/fixtures/onnx/, written by tests/fixtures/make_onnx.py); each model's
// runs are compared with torch's outputs there. Also records the typed error of
// an unsupported-operator model as the page sees it (err.name, instanceof).
import { RnnError, ValueError, createRuntime, type OnnxFeed } from '../../src/index';
import { compare } from '../parity/compare';

export const ONNX_MODELS = ['lstm_bidir2', 'embed_lstm', 'lstm_seqlens'] as const;
const BASE = '/tests/fixtures/onnx/';

type FeedJson = { dtype: 'float32' | 'int64' | 'int32'; dims: number[]; data: number[] };
type Run = { feeds: Record<string, FeedJson>; outputs: Record<string, { dims: number[]; data: number[] }> };

export interface OnnxRow {
  model: string;
  backend: string;
  adapter: string;
  ok: boolean;
  maxAbs: number;
  detail: string;
}

export interface OnnxPageResult {
  rows: OnnxRow[];
  unsupported: { backend: string; name: string; instanceOf: string; message: string }[];
}

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const r = await fetch(new URL(path, location.href));
  if (!r.ok) throw new Error(`onnx page: ${path} gave HTTP ${r.status}.`);
  return r.arrayBuffer();
}

function feedsOf(feeds: Record<string, FeedJson>): Record<string, OnnxFeed> {
  const out: Record<string, OnnxFeed> = {};
  for (const [k, f] of Object.entries(feeds)) {
    const data = f.dtype === 'float32' ? Float32Array.from(f.data) : f.dtype === 'int32' ? Int32Array.from(f.data) : BigInt64Array.from(f.data.map((v) => BigInt(v)));
    out[k] = { data, dims: f.dims };
  }
  return out;
}

export async function run(): Promise<OnnxPageResult> {
  const expected = JSON.parse(new TextDecoder().decode(await fetchBytes(`${BASE}expected.json`))) as { models: Record<string, Run[]> };
  const gpu = await createRuntime();
  const cpu = await createRuntime({ backend: 'cpu' });
  const rows: OnnxRow[] = [];
  const unsupported: OnnxPageResult['unsupported'] = [];
  try {
    for (const rt of [gpu, cpu]) {
      for (const name of ONNX_MODELS) {
        const base = { model: name, backend: rt.backend, adapter: rt.adapterName };
        try {
          const session = await rt.loadOnnx(new Uint8Array(await fetchBytes(`${BASE}${name}.onnx`)));
          let maxAbs = 0;
          const bad: string[] = [];
          try {
            for (const [r, run] of expected.models[name].entries()) {
              const res = await session.run(feedsOf(run.feeds));
              for (const [out, want] of Object.entries(run.outputs)) {
                const t = res[out];
                if (t.shape.join(',') !== want.dims.join(',')) bad.push(`${out} shape (${t.shape.join(', ')}) vs (${want.dims.join(', ')})`);
                const c = compare(`${name}#${r}.${out}`, want.data, await t.read(), { atol: 1e-5 });
                t.dispose();
                maxAbs = Math.max(maxAbs, c.maxAbs);
                if (!c.ok) bad.push(c.detail);
              }
            }
          } finally {
            session.dispose();
          }
          rows.push({ ...base, ok: bad.length === 0, maxAbs, detail: bad.join('; ') || `max abs ${maxAbs.toExponential(2)}` });
        } catch (err) {
          rows.push({ ...base, ok: false, maxAbs: Infinity, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        }
      }
      try {
        (await rt.loadOnnx(new Uint8Array(await fetchBytes(`${BASE}bad_ops.onnx`)))).dispose();
        unsupported.push({ backend: rt.backend, name: 'none', instanceOf: '', message: 'loaded without an error' });
      } catch (err) {
        const e = err as Error;
        unsupported.push({ backend: rt.backend, name: e.name, instanceOf: e instanceof ValueError ? 'ValueError' : e instanceof RnnError ? 'RnnError' : '', message: e.message });
      }
    }
    return { rows, unsupported };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}
