// Page entry (bundled by Vite): the checks on the page (WebGPU, then the wasm
// backend), then the WebGPU checks in a module Web Worker; both reports go to window.__result, then __done is set.
import { runChecks, type Report } from './app.js';

type Outcome = Report | { error: string };

const w = window as unknown as { __result?: { page: Outcome; pageWasm: Outcome; worker: Outcome }; __done?: boolean };

function failure(err: unknown): { error: string } {
  return { error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) };
}

function inWorker(): Promise<Outcome> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<Outcome>) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => resolve({ error: `worker error: ${e.message}` });
  });
}

async function main(): Promise<void> {
  const page = await runChecks('webgpu').catch(failure);
  const pageWasm = await runChecks('wasm').catch(failure);
  const worker = await inWorker();
  w.__result = { page, pageWasm, worker };
  w.__done = true;
}

void main();
