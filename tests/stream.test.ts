// Stateful streaming: step()/forward() continue from the state kept on the
// backend, match one full forward pass, and cost no readback per step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/index';
import { compare } from './parity/compare';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';
import { data } from './helpers/data';

// float32 GPU vs itself in another schedule (per-step calls vs one call): the
// same kernels and order of operations, so agreement is near-exact; 1e-6 leaves
// room for a different path (persistent vs per-step) being chosen.
const TOL = { atol: 1e-6 };


for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  describe(`streams on ${backend}`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = backend === 'webgpu' ? await gpuRuntime() : backend === 'wasm' ? await wasmRuntime() : await cpuRuntime();
    });
    afterAll(() => rt.dispose());

    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      it(`${cell}: T single steps equal one forward over T steps, 2 layers`, async () => {
        const B = 3, T = 6, I = 5, H = 7;
        const opts = { inputSize: I, hiddenSize: H, numLayers: 2, seed: 3 };
        const layer = cell === 'rnn' ? rt.simpleRNN(opts) : cell === 'gru' ? rt.gru(opts) : rt.lstm(opts);
        const x = data(B * T * I, 11);
        const full = await layer.forward(x, { batch: B, seqLen: T });
        const ref = await full.output.read();
        const stream = layer.stream(B);
        const before = rt.stats();
        const steps = [];
        for (let t = 0; t < T; t++) {
          const xt = new Float32Array(B * I);
          for (let b = 0; b < B; b++) xt.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), b * I);
          steps.push(await stream.step(xt));
        }
        if (backend === 'webgpu') expect(rt.stats().readbacks - before.readbacks).toBe(0);
        for (let t = 0; t < T; t++) {
          const got = await steps[t].read();
          const want = new Float64Array(B * H);
          for (let b = 0; b < B; b++) want.set(ref.subarray((b * T + t) * H, (b * T + t + 1) * H), b * H);
          const c = compare(`${cell}.stream.y[t=${t}]`, want, got, TOL);
          expect(c.ok, c.detail).toBe(true);
          steps[t].dispose();
        }
        const h = compare(`${cell}.stream.h`, await full.h.read(), await stream.state.h!.read(), TOL);
        expect(h.ok, h.detail).toBe(true);
        if (cell === 'lstm') {
          const c = compare('lstm.stream.c', await full.c!.read(), await stream.state.c!.read(), TOL);
          expect(c.ok, c.detail).toBe(true);
        }
        // forward() of a chunk continues too: steps 0..2 then a chunk of 3..5
        stream.resetState();
        expect(stream.state.h).toBeNull();
        const first = new Float32Array(B * 3 * I);
        const second = new Float32Array(B * 3 * I);
        for (let b = 0; b < B; b++) {
          first.set(x.subarray(b * T * I, (b * T + 3) * I), b * 3 * I);
          second.set(x.subarray((b * T + 3) * I, (b * T + 6) * I), b * 3 * I);
        }
        (await stream.forward(first, 3)).dispose();
        const y2 = await (await stream.forward(second, 3)).read();
        const want2 = new Float64Array(B * 3 * H);
        for (let b = 0; b < B; b++) want2.set(ref.subarray((b * T + 3) * H, (b * T + 6) * H), b * 3 * H);
        const c2 = compare(`${cell}.stream.chunk`, want2, y2, TOL);
        expect(c2.ok, c2.detail).toBe(true);
        stream.dispose();
        full.output.dispose();
        full.h.dispose();
        full.c?.dispose();
        layer.dispose();
      });
    }
  });
}

describe('GPU memory is owned', () => {
  it('a thousand streaming steps and many forwards leave live buffers and bytes unchanged', async () => {
    const rt = await gpuRuntime();
    const layer = rt.lstm({ inputSize: 4, hiddenSize: 8, numLayers: 2 });
    const stream = layer.stream(2);
    (await stream.step(data(8, 1))).dispose(); // warm: state buffers exist from here on
    const before = rt.memory();
    for (let i = 0; i < 1000; i++) (await stream.step(data(8, i))).dispose();
    for (let i = 0; i < 50; i++) {
      const r = await layer.forward(data(2 * 5 * 4, i), { batch: 2, seqLen: 5, lengths: [5, 3], path: i % 2 ? 'step' : 'persistent' });
      r.output.dispose();
      r.h.dispose();
      r.c?.dispose();
    }
    const after = rt.memory();
    console.log('live GPU buffers before/after 1000 steps + 50 forwards:', before, after);
    expect(after).toEqual(before);
    stream.dispose();
    layer.dispose();
    // with the layer and stream gone, nothing is left
    expect(rt.memory()).toEqual({ buffers: 0, bytes: 0 });
    rt.dispose();
  });
});
