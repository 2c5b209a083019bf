// rt.loadLayersModel in headless Chromium (WebGPU on SwiftShader without a GPU, and
// the CPU runtime): by URL from the dev server, from File objects, back in from
// downloadLayersModel's downloads, and its typed errors (tests/browser/load.ts).
//
// How the fixtures are made (beforeAll, into test-artifacts/browser_load/, which the
// Vite dev server serves): a TensorFlow.js 4.22 model (cpu backend) —
// Embedding(mask_zero) → Bidirectional LSTM (tfjs's default hard_sigmoid gates) →
// GRU (reset_after false) → Dense(softmax) — gets seeded weights and is saved
// through a save handler (tf.io.withSaveHandler), as tests/layers_model.test.ts
// does; the weight bytes are split into two shards, so both loaders must
// concatenate them in manifest order. missing-shard/model.json is the same JSON
// with no shards beside it (they 404). expected.json holds pre- and post-padded
// ids and tfjs's predict on them.
//
// Tolerance: 1e-5 abs (the bar), as in tests/layers_model.test.ts.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayersModelJSON } from '../src/index';
import { FIXTURE_URL, type LoadExpected, type LoadPageResult } from './browser/load';
import { repoRoot, runInBrowser, type BrowserRun } from './helpers/browser';
import { data } from './helpers/data';

const ATOL = 1e-5;
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
const B = 2;
const T = 5;
// row 0 pre-padded by 2 steps, row 1 post-padded by 1
const IDS = [0, 0, 3, 1, 5, 2, 4, 1, 6, 0];

/** model.json + weight bytes of a seeded tfjs model, as tfjs saves them; and tfjs's output on IDS. */
async function makeFixture(): Promise<{ modelJSON: LayersModelJSON; weights: Uint8Array; ref: number[] }> {
  await tf.setBackend('cpu');
  const m = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: 7, outputDim: 3, inputLength: T, maskZero: true }),
      tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true }) as tf.RNN, mergeMode: 'concat' }),
      tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid' }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
  m.setWeights(m.getWeights().map((w, k) => tf.tensor(data(w.size, 41 + 17 * k).map((v) => v * 0.8), w.shape)));
  let art: tf.io.ModelArtifacts | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = art! as tf.io.ModelArtifacts;
  const y = tf.tidy(() => m.predict(tf.tensor(IDS, [B, T])) as tf.Tensor);
  const ref = Array.from(y.dataSync());
  y.dispose();
  m.dispose();
  return {
    modelJSON: {
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: SHARDS, weights: a.weightSpecs as LayersModelJSON['weightsManifest'][0]['weights'] }],
    },
    weights: new Uint8Array(a.weightData as ArrayBuffer),
    ref,
  };
}

describe('loadLayersModel in headless Chromium: URL, File objects, download, errors', () => {
  let run: BrowserRun;
  let page: LoadPageResult;

  beforeAll(async () => {
    const dir = join(repoRoot, FIXTURE_URL);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'missing-shard'), { recursive: true });
    const { modelJSON, weights, ref } = await makeFixture();
    const cut = Math.floor(weights.length / 2) + 1; // not on a float boundary: the loaders join bytes, not tensors
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJSON));
    writeFileSync(join(dir, SHARDS[0]), weights.subarray(0, cut));
    writeFileSync(join(dir, SHARDS[1]), weights.subarray(cut));
    writeFileSync(join(dir, 'missing-shard/model.json'), JSON.stringify(modelJSON));
    const expected: LoadExpected = { ids: IDS, batch: B, seqLen: T, ref, atol: ATOL, shards: SHARDS };
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));

    run = await runInBrowser('/tests/browser/load.ts');
    page = run.result as LoadPageResult;
    console.log(`browser adapter: ${run.adapterInfo}`);
    if (Array.isArray(page?.rows)) {
      console.log('runtimes in Chromium:', Object.fromEntries(page.rows.map((r) => [r.backend, r.adapter])));
      console.log('max |ours − tfjs| in Chromium:', Object.fromEntries(page.rows.map((r) => [`${r.source}/${r.backend}`, r.maxAbs])));
    }
  });

  it('ran on WebGPU and on the CPU runtime; the only console errors are the expected 404s', () => {
    expect(run.result, JSON.stringify(run.result).slice(0, 2000)).not.toHaveProperty('error');
    expect(run.adapterInfo).not.toMatch(/missing|returned null|threw/);
    expect(new Set(page.rows.map((r) => r.backend))).toEqual(new Set(['webgpu', 'cpu']));
    expect(page.rows.find((r) => r.backend === 'webgpu')!.adapter.length).toBeGreaterThan(0);
    // Chromium logs every failed fetch; those of missing-shard/'s shards are the test's own.
    const unexpected = run.consoleErrors.filter((e) => !(e.includes('404') && e.includes(`${FIXTURE_URL}missing-shard/${SHARDS[0]}`)));
    expect(unexpected).toEqual([]);
  });

  it('URL, File and downloaded-then-reloaded models predict what tfjs predicts (≤ 1e-5), both backends', () => {
    expect(page.rows.map((r) => `${r.source}/${r.backend}`).sort()).toEqual(['download/cpu', 'download/webgpu', 'files/cpu', 'files/webgpu', 'url/cpu', 'url/webgpu']);
    for (const r of page.rows) expect(r.ok, `${r.source}/${r.backend}: ${r.detail}`).toBe(true);
  });

  it('a shard URL that 404s is a ValueError naming the URL and the status', () => {
    const rows = page.errors.filter((e) => e.case === 'url-404');
    expect(rows).toHaveLength(2);
    for (const e of rows) {
      expect(e, JSON.stringify(e)).toMatchObject({ name: 'ValueError', instanceOf: 'ValueError' });
      expect(e.message).toContain(`${FIXTURE_URL}missing-shard/${SHARDS[0]}`);
      expect(e.message).toContain('HTTP 404');
    }
  });

  it('a File set without one shard is a WeightError naming the shard', () => {
    const rows = page.errors.filter((e) => e.case === 'files-missing-shard');
    expect(rows).toHaveLength(2);
    for (const e of rows) {
      expect(e, JSON.stringify(e)).toMatchObject({ name: 'WeightError', instanceOf: 'WeightError' });
      expect(e.message).toContain(SHARDS[1]);
    }
  });

  it('downloadLayersModel clicks two anchors with blob: URLs, model.json and weights.bin', () => {
    expect(page.download?.clicks.map((c) => ({ download: c.download, blobUrl: c.blobUrl, type: c.type }))).toEqual([
      { download: 'model.json', blobUrl: true, type: 'application/json' },
      { download: 'weights.bin', blobUrl: true, type: 'application/octet-stream' },
    ]);
    expect(page.download!.clicks[1].size).toBeGreaterThan(0);
  });
});
