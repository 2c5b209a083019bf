// The examples (examples/*.mjs, issue 11) run as a user runs them: a Node
// subprocess importing the BUILT library by its package name ('webgpu-rnn' →
// dist/webgpu-rnn.js), here with --quick (tiny settings) on the CPU backend, and
// one on the GPU backend. Each prints `result: {...}` as its last line; the test
// parses it and checks that what it measured is sane: learning happened (loss
// fell), the metric beats its baseline or chance, and the character model
// started from exactly PyTorch's initial weights (its held-out bits per
// character before training equal the figure austen_torch.py recorded).
// The library is built once first (npm run build:lib, as tests/dist.test.ts does).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/browser';

interface Run {
  code: number;
  out: string;
  result: Record<string, number | string | null>;
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: repoRoot, env: process.env, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

async function example(name: string, ...args: string[]): Promise<Run> {
  const r = await run(process.execPath, [join('examples', `${name}.mjs`), ...args]);
  const line = r.out.split('\n').find((l) => l.startsWith('result: '));
  expect(r.code, r.out.slice(-3000)).toBe(0);
  expect(line, r.out.slice(-3000)).toBeDefined();
  const result = JSON.parse(line!.slice('result: '.length)) as Run['result'];
  console.log(`${name} ${args.join(' ')}: ${line}`);
  return { ...r, result };
}

const num = (r: Run, k: string): number => {
  const v = r.result[k];
  expect(typeof v, `${k} in ${JSON.stringify(r.result)}`).toBe('number');
  expect(Number.isFinite(v), k).toBe(true);
  return v as number;
};

beforeAll(async () => {
  const b = await run('npm', ['run', 'build:lib']);
  expect(b.code, b.out.slice(-3000)).toBe(0);
});

describe('examples, --quick on the CPU backend', () => {
  it('char_austen: starts from PyTorch\'s weights (same held-out bpc and first loss), loss falls, generates text', async () => {
    const torch = JSON.parse(readFileSync(join(repoRoot, 'examples/data/austen_torch.json'), 'utf8')) as { bpc_init: number; train_loss: [number, number][] };
    const r = await example('char_austen', '--backend', 'cpu', '--quick');
    expect(r.out).toMatch(/^backend: cpu /m);
    // float64 CPU vs PyTorch float32 from the same float32 weights: measured equal to the 6 decimals stored
    expect(Math.abs(num(r, 'bpcInit') - torch.bpc_init)).toBeLessThan(1e-4);
    expect(Math.abs(num(r, 'firstLoss') - torch.train_loss[0][1])).toBeLessThan(1e-4);
    expect(num(r, 'lastLoss')).toBeLessThan(num(r, 'firstLoss'));
    expect(num(r, 'bpc')).toBeLessThan(num(r, 'bpcInit') - 0.5);
    expect(num(r, 'sampleChars')).toBe(40);
    expect(r.out).toMatch(/--- temperature 1 ---\nAnne [^\n]*[a-z]/); // sampled letters, not only spaces
  });

  it('sentiment: held-out accuracy above chance (50 %), training accuracy higher', async () => {
    const r = await example('sentiment', '--backend', 'cpu', '--quick');
    expect(num(r, 'testSize')).toBe(40);
    expect(num(r, 'lastLoss')).toBeLessThan(num(r, 'firstLoss'));
    expect(num(r, 'trainAccuracy')).toBeGreaterThanOrEqual(0.9);
    expect(num(r, 'testAccuracy')).toBeGreaterThan(0.55);
  });

  it('tagging: held-out token accuracy well above the one-token baseline', async () => {
    const r = await example('tagging', '--backend', 'cpu', '--quick');
    expect(num(r, 'baselineAccuracy')).toBeGreaterThan(0.5);
    expect(num(r, 'tokenAccuracy')).toBeGreaterThan(num(r, 'baselineAccuracy') + 0.15);
    expect(num(r, 'exactMatch')).toBeGreaterThan(0.2);
  });

  it('one_to_many: every digit spelled exactly', async () => {
    const r = await example('one_to_many', '--backend', 'cpu', '--quick');
    expect(num(r, 'exactMatch')).toBe(1);
    expect(r.out).toMatch(/7 → seven\. ok/);
  });

  it('timeseries: test MSE below the last-value baseline', async () => {
    const r = await example('timeseries', '--backend', 'cpu', '--quick');
    expect(num(r, 'testMse')).toBeLessThan(num(r, 'naiveMse'));
    expect(num(r, 'testMse')).toBeGreaterThan(num(r, 'noiseFloor') * 0.5); // no leak of the targets
  });

  it('gradient_flow: the SimpleRNN vanishes, ×4 explodes; clipping keeps SGD from diverging', async () => {
    const r = await example('gradient_flow', '--backend', 'cpu', '--steps', '20');
    expect(num(r, 'ratioSimpleRNN')).toBeLessThan(1e-3);
    expect(num(r, 'ratioSimpleRNNx4')).toBeGreaterThan(10);
    expect(num(r, 'ratioLSTMKeras')).toBeGreaterThan(num(r, 'ratioLSTM')); // the unit forget bias carries more back
    expect(num(r, 'lossClip')).toBeLessThan(num(r, 'lossNoClip'));
    expect(r.out).toMatch(/^ {2}h_0\/h_29/m);
  });

  it('seq2seq: loss falls and greedy decoding gets more characters right than chance', async () => {
    const r = await example('seq2seq', '--backend', 'cpu', '--quick');
    expect(num(r, 'lastLoss')).toBeLessThan(num(r, 'firstLoss'));
    expect(num(r, 'greedyCharAccuracy')).toBeGreaterThan(0.2); // 11 symbols: chance ≈ 0.09
    expect(num(r, 'beamExactMatch')).toBeGreaterThanOrEqual(0);
  });
});

describe('char_austen in full on the wasm backend (float32 SIMD, a few seconds)', () => {
  it('250 steps from the same weights and data order as PyTorch: the same held-out bits per character', async () => {
    const torch = JSON.parse(readFileSync(join(repoRoot, 'examples/data/austen_torch.json'), 'utf8')) as { bpc: number; config: { steps: number } };
    const r = await example('char_austen', '--backend', 'wasm', '--samples', '20');
    expect(r.result.backend).toBe('wasm');
    expect(num(r, 'steps')).toBe(torch.config.steps);
    // float32 kernels vs PyTorch's float32 over 250 Adam steps: measured 1e-6 apart; bar 0.01 bits
    expect(Math.abs(num(r, 'bpc') - torch.bpc)).toBeLessThan(0.01);
    expect(num(r, 'torchBpc')).toBe(torch.bpc);
  });
});

describe('examples: the command line', () => {
  it('one_to_many --quick on the GPU backend reports the adapter and spells every digit', async () => {
    const r = await example('one_to_many', '--backend', 'webgpu', '--quick');
    expect(r.result.backend).toBe('webgpu');
    expect(r.out).toMatch(/^backend: webgpu \(.+\)$/m);
    expect(num(r, 'exactMatch')).toBe(1);
  });

  it('a bad --backend or an unknown option exits 2 with the usage; --help exits 0; npm run example lists them', async () => {
    const bad = await run(process.execPath, ['examples/tagging.mjs', '--backend', 'tpu']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--backend must be one of cpu, webgpu, wasm, got 'tpu'/);
    const unknown = await run(process.execPath, ['examples/tagging.mjs', '--epoch', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/unknown option --epoch/);
    const nan = await run(process.execPath, ['examples/tagging.mjs', '--epochs', 'many']);
    expect(nan.code).toBe(2);
    expect(nan.out).toMatch(/--epochs must be a number, got 'many'/);
    const help = await run(process.execPath, ['examples/tagging.mjs', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/usage: node examples\/tagging\.mjs/);
    const list = await run(process.execPath, ['examples/_run.mjs', '--help']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/examples: char_austen, gradient_flow, one_to_many, sentiment, seq2seq, tagging, timeseries/);
  });
});
