// Browser model-loading page (driven by tests/browser_load.test.ts through
// runInBrowser): rt.loadLayersModel in headless Chromium, on the WebGPU runtime
// and on the CPU runtime.
//   url       loadLayersModel('<dev server>/test-artifacts/browser_load/model.json'):
//             model.json by fetch, its two shards fetched relative to it;
//   files     the same bytes as File objects named as an <input type=file multiple>
//             names them (model.json, group1-shard1of2.bin, group1-shard2of2.bin);
//   download  downloadLayersModel(await model.toLayersModel()): the anchors it clicks
//             are recorded (the click itself is suppressed, so nothing is written to
//             disk), their blobs become Files again and load back;
//   errors    a model.json whose shards 404, and a File set without one shard:
//             the typed error and its name as the page sees them.
// Each load predicts on the ids of expected.json and is compared with tfjs's output
// there (written by the Node test from TensorFlow.js 4.22).
import { RnnError, ValueError, WeightError, createRuntime, downloadLayersModel, type Runtime } from '../../src/index';
import { compare } from '../parity/compare';

/** Where the Node test writes the fixtures; the Vite dev server serves the repo root. */
export const FIXTURE_URL = '/test-artifacts/browser_load/';

/** expected.json, written by tests/browser_load.test.ts. */
export interface LoadExpected {
  ids: number[];
  batch: number;
  seqLen: number;
  /** tfjs's predict on ids, (B, units) flattened. */
  ref: number[];
  atol: number;
  /** The shard file names, in weightsManifest order. */
  shards: string[];
}

export interface LoadRow {
  source: 'url' | 'files' | 'download';
  backend: string;
  adapter: string;
  ok: boolean;
  maxAbs: number;
  detail: string;
}

export interface ErrorRow {
  case: 'url-404' | 'files-missing-shard';
  backend: string;
  /** err.name as thrown, or 'none' when nothing was thrown. */
  name: string;
  /** Which of our classes it is an instance of, most specific first ('' if none). */
  instanceOf: string;
  message: string;
}

export interface DownloadInfo {
  /** One per anchor clicked: its download attribute, whether href was a blob: URL, the blob's type and size. */
  clicks: { download: string; blobUrl: boolean; type: string; size: number }[];
}

export interface LoadPageResult {
  rows: LoadRow[];
  errors: ErrorRow[];
  download: DownloadInfo | null;
}

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const r = await fetch(new URL(path, location.href));
  if (!r.ok) throw new Error(`load page: fixture ${path} gave HTTP ${r.status}. Hint: tests/browser_load.test.ts writes it in beforeAll.`);
  return r.arrayBuffer();
}

function errorRow(c: ErrorRow['case'], backend: string, err: unknown): ErrorRow {
  if (!(err instanceof Error)) return { case: c, backend, name: 'none', instanceOf: '', message: String(err) };
  const instanceOf = err instanceof WeightError ? 'WeightError' : err instanceof ValueError ? 'ValueError' : err instanceof RnnError ? 'RnnError' : '';
  return { case: c, backend, name: err.name, instanceOf, message: err.message };
}

/** Runs `load` and records what it throws (a load that succeeds is a row with name 'none'). */
async function expectThrow(c: ErrorRow['case'], rt: Runtime, load: () => Promise<{ dispose(): void }>): Promise<ErrorRow> {
  try {
    (await load()).dispose();
    return { case: c, backend: rt.backend, name: 'none', instanceOf: '', message: 'loaded without an error' };
  } catch (err) {
    return errorRow(c, rt.backend, err);
  }
}

/** Predicts on the expected ids with the model that `load` gives and compares with tfjs. */
async function check(source: LoadRow['source'], rt: Runtime, exp: LoadExpected, load: () => Promise<Awaited<ReturnType<Runtime['loadLayersModel']>>>): Promise<LoadRow> {
  const base = { source, backend: rt.backend, adapter: rt.adapterName };
  try {
    const m = await load();
    try {
      const y = await m.predict(exp.ids, { batch: exp.batch, seqLen: exp.seqLen });
      const got = await y.read();
      y.dispose();
      const c = compare(`${source}[${rt.backend}]`, exp.ref, got, { atol: exp.atol });
      return { ...base, ok: c.ok, maxAbs: c.maxAbs, detail: c.detail };
    } finally {
      m.dispose();
    }
  } catch (err) {
    return { ...base, ok: false, maxAbs: Infinity, detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/**
 * Calls downloadLayersModel with URL.createObjectURL and HTMLAnchorElement.click
 * wrapped: records each clicked anchor and its blob, and does not click for real.
 */
function captureDownloads(run: () => void): { file: File; blobUrl: boolean }[] {
  const blobs = new Map<string, Blob>();
  const clicked: { file: File; blobUrl: boolean }[] = [];
  const create = URL.createObjectURL;
  const click = HTMLAnchorElement.prototype.click;
  URL.createObjectURL = (obj: Blob | MediaSource): string => {
    const url = create.call(URL, obj);
    if (obj instanceof Blob) blobs.set(url, obj);
    return url;
  };
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    const blob = blobs.get(this.href) ?? new Blob([]);
    clicked.push({ file: new File([blob], this.download, { type: blob.type }), blobUrl: this.href.startsWith('blob:') && blobs.has(this.href) });
  };
  try {
    run();
  } finally {
    URL.createObjectURL = create;
    HTMLAnchorElement.prototype.click = click;
  }
  return clicked;
}

export async function run(): Promise<LoadPageResult> {
  const exp = JSON.parse(new TextDecoder().decode(await fetchBytes(`${FIXTURE_URL}expected.json`))) as LoadExpected;
  const jsonBytes = await fetchBytes(`${FIXTURE_URL}model.json`);
  const shardBytes = await Promise.all(exp.shards.map((s) => fetchBytes(`${FIXTURE_URL}${s}`)));
  // What an <input type=file multiple> gives: File objects named by their base names.
  const files = () => [new File([jsonBytes], 'model.json', { type: 'application/json' }), ...exp.shards.map((s, k) => new File([shardBytes[k]], s))];

  const gpu = await createRuntime();
  const cpu = await createRuntime({ backend: 'cpu' });
  const rows: LoadRow[] = [];
  const errors: ErrorRow[] = [];
  let download: DownloadInfo | null = null;
  try {
    for (const rt of [gpu, cpu]) {
      rows.push(await check('url', rt, exp, () => rt.loadLayersModel(`${FIXTURE_URL}model.json`)));
      rows.push(await check('files', rt, exp, () => rt.loadLayersModel(files())));

      errors.push(await expectThrow('url-404', rt, () => rt.loadLayersModel(`${FIXTURE_URL}missing-shard/model.json`)));
      errors.push(await expectThrow('files-missing-shard', rt, () => rt.loadLayersModel(files().filter((f) => f.name !== exp.shards[1]))));
    }

    // Out and back in: the loaded model's artifacts as the two downloads, reloaded as Files.
    const m = await gpu.loadLayersModel(`${FIXTURE_URL}model.json`);
    let clicked: { file: File; blobUrl: boolean }[];
    try {
      const art = await m.toLayersModel();
      clicked = captureDownloads(() => downloadLayersModel(art, 'model'));
    } finally {
      m.dispose();
    }
    download = { clicks: clicked.map((c) => ({ download: c.file.name, blobUrl: c.blobUrl, type: c.file.type, size: c.file.size })) };
    for (const rt of [gpu, cpu]) rows.push(await check('download', rt, exp, () => rt.loadLayersModel(clicked.map((c) => c.file))));
    return { rows, errors, download };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}
