// Where a Layers model's bytes come from: a URL of model.json (its shards
// fetched relative to it), in Node also a file:// URL or a plain path (read
// with node:fs, imported only there so browser bundles do not pull it in),
// { modelJSON, weights } in memory, or the File objects of an
// <input type=file multiple> (model.json and the shards, matched by name).
// And the way out: model.json + weights.bin as files (Node) or a download.
import { ValueError, WeightError } from '../errors';
import { manifestPaths, type LayersModelArtifacts, type LayersModelJSON } from './layers_model';

type Bytes = ArrayBuffer | ArrayBufferView;

/** A model.json and its weight shards, in one of the shapes loadLayersModel accepts. */
export type LayersModelSource =
  | string
  | URL
  | {
      /** model.json, parsed or as its text. */
      modelJSON: LayersModelJSON | string;
      /** The shards' bytes in weightsManifest path order, or one buffer with all of them. */
      weights?: Bytes | readonly Bytes[];
    }
  | ArrayLike<File>;

const OP = 'loadLayersModel';

function toBytes(b: Bytes, what: string): Uint8Array {
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw new ValueError(`${OP}: ${what} must be an ArrayBuffer or a typed array.`);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!p?.versions?.node;
}

/** @internal The model.json value and the shard bytes of a source. */
export async function readSource(source: LayersModelSource): Promise<{ json: unknown; buffers: Uint8Array[] }> {
  if (source === null || source === undefined) throw new ValueError(`${OP}: source must be a URL or path of model.json, { modelJSON, weights }, or File objects; got ${String(source)}.`);
  if (typeof source === 'string' || source instanceof URL) return readUrl(String(source));
  if (typeof source === 'object' && 'modelJSON' in source) {
    const w = source.weights;
    const list = w === undefined ? [] : Array.isArray(w) ? w : [w as Bytes];
    return { json: source.modelJSON, buffers: list.map((b, i) => toBytes(b, `weights[${i}]`)) };
  }
  if (typeof source === 'object' && typeof (source as ArrayLike<File>).length === 'number') return readFiles(Array.from(source as ArrayLike<File>));
  throw new ValueError(`${OP}: source must be a URL or path of model.json, { modelJSON, weights }, or File objects.`);
}

async function readUrl(url: string): Promise<{ json: unknown; buffers: Uint8Array[] }> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const local = isNode() && (scheme === 'file' || scheme === undefined || /^[a-z]:[\\/]/i.test(url));
  if (local) {
    const fs = (await import(/* @vite-ignore */ 'node:fs/promises' as string)) as { readFile(p: string | URL): Promise<Uint8Array> };
    const at = (p: string) => (scheme === 'file' ? new URL(p, url) : url.replace(/[^/\\]*$/, '') + p);
    const read = async (p: string | URL, what: string) => {
      try {
        return await fs.readFile(p);
      } catch (e) {
        throw new ValueError(`${OP}: cannot read ${what} '${String(p)}': ${(e as Error).message}`);
      }
    };
    const text = new TextDecoder().decode(await read(scheme === 'file' ? new URL(url) : url, 'model.json'));
    const paths = manifestPaths(text);
    const buffers: Uint8Array[] = [];
    for (const p of paths) buffers.push(await read(at(p), 'weight shard'));
    return { json: text, buffers };
  }
  const base = typeof location !== 'undefined' ? new URL(url, location.href) : new URL(url);
  const get = async (u: URL, what: string): Promise<Response> => {
    let r: Response;
    try {
      r = await fetch(u);
    } catch (e) {
      throw new ValueError(`${OP}: cannot fetch ${what} ${u.href}: ${(e as Error).message}`);
    }
    if (!r.ok) throw new ValueError(`${OP}: fetching ${what} ${u.href} gave HTTP ${r.status} ${r.statusText}.`);
    return r;
  };
  const text = await (await get(base, 'model.json')).text();
  const paths = manifestPaths(text);
  const buffers: Uint8Array[] = [];
  for (const p of paths) buffers.push(new Uint8Array(await (await get(new URL(p, base), 'weight shard')).arrayBuffer()));
  return { json: text, buffers };
}

async function readFiles(files: File[]): Promise<{ json: unknown; buffers: Uint8Array[] }> {
  const jsons = files.filter((f) => f.name.endsWith('.json'));
  if (jsons.length !== 1) throw new ValueError(`${OP}: among the files (${files.map((f) => f.name).join(', ') || 'none'}) there must be exactly one .json (model.json), found ${jsons.length}.`);
  const text = await jsons[0].text();
  const buffers: Uint8Array[] = [];
  for (const p of manifestPaths(text)) {
    const base = p.replace(/^.*[/\\]/, '');
    const f = files.find((x) => x.name === base);
    if (!f) throw new WeightError(`${OP}: the weightsManifest names the shard '${p}', but no file '${base}' was given (files: ${files.map((x) => x.name).join(', ')}).`);
    buffers.push(new Uint8Array(await f.arrayBuffer()));
  }
  return { json: text, buffers };
}

/**
 * Node: writes `dir`/model.json and `dir`/weights.bin (creating `dir`). Returns
 * the paths written.
 */
export async function saveLayersModelFiles(artifacts: LayersModelArtifacts, dir: string): Promise<{ modelJSON: string; weights: string }> {
  if (!isNode()) throw new ValueError('saveLayersModelFiles: writes files in Node only; in a browser use downloadLayersModel().');
  const fs = (await import(/* @vite-ignore */ 'node:fs/promises' as string)) as {
    mkdir(p: string, o: { recursive: boolean }): Promise<unknown>;
    writeFile(p: string, d: string | Uint8Array): Promise<void>;
  };
  const { modelJSON, weights } = shardNamed(artifacts);
  const sep = dir.endsWith('/') || dir.endsWith('\\') ? '' : '/';
  await fs.mkdir(dir, { recursive: true });
  const paths = { modelJSON: `${dir}${sep}model.json`, weights: `${dir}${sep}weights.bin` };
  await fs.writeFile(paths.modelJSON, JSON.stringify(modelJSON));
  await fs.writeFile(paths.weights, new Uint8Array(weights));
  return paths;
}

/** Browser: offers `name`.json and weights.bin as downloads (the shard named as the manifest says). */
export function downloadLayersModel(artifacts: LayersModelArtifacts, name = 'model'): void {
  if (typeof document === 'undefined') throw new ValueError('downloadLayersModel: needs a browser page (document); in Node use saveLayersModelFiles().');
  const { modelJSON, weights } = shardNamed(artifacts);
  const save = (blob: Blob, file: string) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = file;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 0);
  };
  save(new Blob([JSON.stringify(modelJSON)], { type: 'application/json' }), `${name}.json`);
  save(new Blob([weights], { type: 'application/octet-stream' }), 'weights.bin');
}

function shardNamed(a: LayersModelArtifacts): { modelJSON: LayersModelJSON; weights: ArrayBuffer } {
  if (!a || typeof a !== 'object' || !a.modelJSON || !(a.weightData instanceof ArrayBuffer)) throw new ValueError('saving a Layers model: pass what toLayersModel() returned, { modelJSON, weightData }.');
  const groups = a.modelJSON.weightsManifest;
  const modelJSON: LayersModelJSON = { ...a.modelJSON, weightsManifest: [{ paths: ['weights.bin'], weights: groups.flatMap((g) => g.weights) }] };
  return { modelJSON, weights: a.weightData };
}
