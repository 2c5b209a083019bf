// A character LSTM on Jane Austen's "Persuasion" (examples/data/persuasion.txt,
// exported from Debian's r-cran-janeaustenr by examples/data/make_austen.sh),
// trained with fit(), measured in bits per character on the held-out last
// chapter next to PyTorch's figure for the same model trained on the same data
// in the same order from the same initial weights for the same number of steps
// (examples/data/austen_torch.py wrote it to examples/data/austen_torch.json;
// its docstring states the protocol this file follows), then samples from
// model.generate at a few temperatures.
//
//   node examples/char_austen.mjs --backend cpu|webgpu [--steps N] [--quick]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Adam } from 'webgpu-rnn';
import { dataDir, fmt, lcg, report, setup } from './_common.mjs';

const torchRef = JSON.parse(readFileSync(join(dataDir, 'austen_torch.json'), 'utf8'));
const C = torchRef.config;

const { args, rt, t0 } = await setup('char_austen', 'Character LSTM on Persuasion: held-out bits per character next to PyTorch, and samples.', {
  steps: { default: C.steps, quick: 20, help: 'training steps (PyTorch ran ' + C.steps + ')' },
  samples: { default: 200, quick: 40, help: 'characters per sample' },
});

// --- data: the text, its held-out last chapter, the vocabulary ---------------
const text = readFileSync(join(dataDir, 'persuasion.txt'), 'utf8');
const cut = [...text.matchAll(/^Chapter \d+/gm)].at(-1).index;
const vocab = [...new Set(text)].sort();
const index = new Map(vocab.map((ch, i) => [ch, i]));
const ids = Array.from(text, (ch) => index.get(ch));
const train = ids.slice(0, cut);
const test = ids.slice(cut);
const V = vocab.length;
const { embed: E, hidden: H, seq_len: T, batch: B, eval_len: L } = C;
console.log(`text: ${text.length} characters, vocabulary ${V}; training on the ${train.length} before "${text.slice(cut, cut + 10)}", held out: the last chapter, ${test.length}`);

// --- model, with PyTorch's state-dict names and the LCG initial weights -------
const model = rt.sequential([
  rt.embedding({ vocabSize: V, dim: E }),
  rt.lstm({ inputSize: E, hiddenSize: H, returnSequences: true }),
  rt.dense({ inputSize: H, units: V }),
]);
{
  const u = lcg(C.init_seed);
  const fill = (shape, a) => ({ shape, data: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (2 * u() - 1) * a) });
  const k = 1 / Math.sqrt(H);
  const sd = {}; // nn.Sequential names: 0 = embedding, 1 = lstm, 2 = fc, in the order the Python fills them
  sd['0.weight'] = fill([V, E], 1);
  sd['1.weight_ih_l0'] = fill([4 * H, E], k);
  sd['1.weight_hh_l0'] = fill([4 * H, H], k);
  sd['1.bias_ih_l0'] = fill([4 * H], k);
  sd['1.bias_hh_l0'] = fill([4 * H], k);
  sd['2.weight'] = fill([V, H], k);
  sd['2.bias'] = fill([V], k);
  model.loadTorchStateDict(sd);
}
console.log(model.summary());

// the held-out chapter in chunks of L + 1 characters, each from a zero state
const chunks = Math.floor((test.length - 1) / L);
const evalX = [];
const evalY = [];
for (let k = 0; k < chunks; k++) {
  evalX.push(...test.slice(k * L, k * L + L));
  evalY.push(...test.slice(k * L + 1, k * L + L + 1));
}
async function heldOutBpc() {
  const logs = await model.evaluate({ x: evalX, y: evalY, seqLen: L }, { loss: 'softmaxCrossEntropy', batchSize: chunks });
  return logs.loss / Math.LN2;
}

const bpcInit = await heldOutBpc();
console.log(`held-out bits per character before training: ${bpcInit.toFixed(4)} (PyTorch from the same weights: ${torchRef.bpc_init.toFixed(4)})`);

// --- training: the windows in PyTorch's order, one fit() epoch without shuffling
const u = lcg(C.data_seed);
const x = [];
const y = [];
for (let s = 0; s < args.steps * B; s++) {
  const o = Math.floor(u() * (train.length - T));
  for (let t = 0; t < T; t++) {
    x.push(train[o + t]);
    y.push(train[o + t + 1]);
  }
}
const optimizer = new Adam(model.parameters(), { lr: C.lr });
const torchLoss = new Map(torchRef.train_loss);
const tTrain = performance.now();
const curve = [];
await model.fit(
  { x, y, seqLen: T },
  {
    loss: 'softmaxCrossEntropy', optimizer, epochs: 1, batchSize: B, shuffle: false, clipNorm: C.clip,
    onBatchEnd: ({ batch, loss }) => {
      const step = batch + 1;
      if (step === 1 || step % 25 === 0 || step === args.steps) {
        curve.push([step, loss]);
        const ref = torchLoss.get(step);
        console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(4)}${ref !== undefined ? `  (PyTorch ${ref.toFixed(4)})` : ''}`);
      }
    },
  },
);
const trainSeconds = (performance.now() - tTrain) / 1000;
const bpc = await heldOutBpc();
const same = args.steps === C.steps;
console.log(`\nheld-out bits per character after ${args.steps} steps (${trainSeconds.toFixed(1)} s of training): ours ${bpc.toFixed(4)}` +
  (same ? `, PyTorch ${torchRef.bpc.toFixed(4)} (${torchRef.source}, ${torchRef.train_seconds} s)` : ` (PyTorch's ${torchRef.bpc.toFixed(4)} is for ${C.steps} steps)`));

// --- samples ---------------------------------------------------------------
const prompt = Array.from('Anne ', (ch) => index.get(ch));
const samples = {};
for (const temperature of [0, 0.5, 1]) {
  const out = await model.generate(prompt, { maxNewTokens: args.samples, temperature, seed: 7 });
  samples[temperature] = 'Anne ' + out.map((i) => vocab[i]).join('');
  console.log(`\n--- temperature ${temperature}${temperature === 0 ? ' (greedy)' : ''} ---\n${samples[temperature]}`);
}
console.log('');

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  steps: args.steps,
  bpcInit: Number(bpcInit.toFixed(6)),
  torchBpcInit: torchRef.bpc_init,
  bpc: Number(bpc.toFixed(6)),
  torchBpc: same ? torchRef.bpc : null,
  firstLoss: curve[0]?.[1] ?? null,
  lastLoss: curve.at(-1)?.[1] ?? null,
  trainSeconds: Number(trainSeconds.toFixed(2)),
  sampleChars: samples[1].length - 5,
});
rt.dispose();
