// Sequence to sequence "translation", character by character: dates written as
// people write them → ISO 8601.
//   "tuesday, march 3, 2015" → "2015-03-03"     "3 mar 2015" → "2015-03-03"
//   "03.03.2015" → "2015-03-03"                  "march 3 2015" → "2015-03-03"
// rt.seq2seq: an Embedding + bidirectional GRU encoder over the source
// characters, a GRU decoder with Luong attention over the encoder's outputs,
// trained with teacher forcing (fit), then decoded greedily (translate) and with
// beam search (beamSearch). Prints the exact match (every character and the end
// token right) on held-out dates for both, and a few translations with their
// beams' log-probabilities.
//
//   node examples/seq2seq.mjs --backend cpu|webgpu [--epochs N] [--train N] [--quick]
import { Adam } from 'webgpu-rnn';
import { lcg, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('seq2seq', 'Seq2Seq with attention: human-written dates → ISO dates, greedy and beam search, held-out exact match.', {
  epochs: { default: 5, quick: 2, help: 'training epochs' },
  train: { default: 1200, quick: 300, help: 'training dates (200 more are held out)' },
  beam: { default: 4, help: 'beam width' },
});

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const two = (n) => String(n).padStart(2, '0');
const FORMATS = [
  (d, m, y) => `${d} ${MONTHS[m]} ${y}`,
  (d, m, y) => `${d} ${MONTHS[m].slice(0, 3)} ${y}`,
  (d, m, y) => `${MONTHS[m]} ${d}, ${y}`,
  (d, m, y) => `${MONTHS[m]} ${d} ${y}`,
  (d, m, y) => `${two(d)}.${two(m + 1)}.${y}`,
  (d, m, y, w) => `${DAYS[w]}, ${MONTHS[m]} ${d}, ${y}`,
  (d, m, y, w) => `${DAYS[w].slice(0, 3)} ${d} ${MONTHS[m].slice(0, 3)} ${y}`,
];

// vocabularies: source characters from 1 (0 pads); target: start, end, 0-9, '-'
const SRC = ['', ...' ,.0123456789abcdefghijklmnopqrstuvwxyz'];
const TGT = ['<s>', '</s>', ...'0123456789-'];
const [START, END] = [0, 1];
const enc = (s) => Array.from(s, (ch) => SRC.indexOf(ch));
const tgtIds = (s) => Array.from(s, (ch) => TGT.indexOf(ch));
const show = (ids) => ids.map((i) => TGT[i]).join('');

function dates(n, seed, exclude = new Set()) {
  const u = lcg(seed);
  const out = [];
  while (out.length < n) {
    const day = new Date(Date.UTC(1950, 0, 1) + Math.floor(u() * 100 * 365.25) * 86400e3); // 1950 … 2049
    const [d, m, y, w] = [day.getUTCDate(), day.getUTCMonth(), day.getUTCFullYear(), day.getUTCDay()];
    const src = FORMATS[Math.floor(u() * FORMATS.length)](d, m, y, w);
    if (exclude.has(src)) continue;
    exclude.add(src);
    out.push({ src, tgt: `${y}-${two(m + 1)}-${two(d)}` });
  }
  return out;
}
const seen = new Set();
const train = dates(args.train, 1, seen);
const test = dates(200, 2, seen); // no held-out source string occurs in training
console.log(`${train.length} training dates, ${test.length} held out; e.g. "${train[0].src}" → "${train[0].tgt}", "${train[1].src}" → "${train[1].tgt}"`);

const model = rt.seq2seq({
  srcVocabSize: SRC.length, tgtVocabSize: TGT.length, cell: 'gru', embeddingDim: 16, hiddenSize: 32,
  bidirectional: true, attention: true, startToken: START, endToken: END, seed: 1,
});
console.log(`parameters: ${model.paramCount}`);
const optimizer = new Adam(model.parameters(), { lr: 0.02 });
const hist = await model.fit(
  { src: train.map((r) => enc(r.src)), tgt: train.map((r) => tgtIds(r.tgt)) },
  {
    optimizer, epochs: args.epochs, batchSize: 64, clipNorm: 5, seed: 1,
    onEpochEnd: ({ epoch, logs }) => console.log(`epoch ${epoch + 1}  loss ${logs.loss.toFixed(4)}${logs.accuracy !== undefined ? `  token accuracy ${logs.accuracy.toFixed(4)}` : ''}`),
  },
);

const src = test.map((r) => enc(r.src));
const greedy = await model.translate(src, { maxLength: 12 });
const beams = await model.beamSearch(src, { beamWidth: args.beam, maxLength: 12 });
const exact = (outs) => outs.filter((o, i) => show(o) === test[i].tgt).length / test.length;
const greedyExact = exact(greedy);
const beamExact = exact(beams.map((h) => h[0].tokens));
const charAcc = greedy.reduce((s, o, i) => s + [...test[i].tgt].filter((ch, k) => show(o)[k] === ch).length, 0) / (test.length * 10);

console.log('\nheld-out translations (greedy | beam best, with the top beams\' log-probabilities):');
for (let i = 0; i < 8; i++) {
  const b = beams[i];
  console.log(`  ${test[i].src.padEnd(30)} → ${show(greedy[i]).padEnd(11)}| ${show(b[0].tokens).padEnd(11)} ${show(b[0].tokens) === test[i].tgt ? 'ok ' : 'bad'}  [${b.slice(0, 3).map((h) => `${show(h.tokens)} ${h.logProb.toFixed(2)}`).join(', ')}]`);
}
const wrong = test.map((r, i) => ({ r, o: show(beams[i][0].tokens) })).filter(({ r, o }) => o !== r.tgt);
if (wrong.length) console.log(`\nbeam-search errors (${wrong.length}): ${wrong.slice(0, 6).map(({ r, o }) => `"${r.src}" → ${o} (want ${r.tgt})`).join('; ')}`);
console.log(`\nheld-out exact match: greedy ${(100 * greedyExact).toFixed(1)} %, beam search (width ${args.beam}) ${(100 * beamExact).toFixed(1)} % of ${test.length}; greedy character accuracy ${(100 * charAcc).toFixed(1)} %\n`);

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  epochs: args.epochs,
  firstLoss: hist.history.loss[0],
  lastLoss: hist.history.loss.at(-1),
  greedyExactMatch: greedyExact,
  beamExactMatch: beamExact,
  greedyCharAccuracy: charAcc,
  beamWidth: args.beam,
});
rt.dispose();
