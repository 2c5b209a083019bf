// The sentiment panel's toy reviews (1 = positive, 0 = negative) and its
// word tokenizer: lower-case words, id 0 = <pad>, id 1 = <oov> (a word not seen
// in training), padded to the longest review with the true lengths kept.
export const REVIEWS: [string, number][] = [
  ['movie was good', 1],
  ['movie was bad', 0],
  ['movie was not good', 0],
  ['movie was not bad', 1],
  ['the film was good', 1],
  ['the film was bad', 0],
  ['film was not good at all', 0],
  ['film was not bad at all', 1],
  ['great acting and a good story', 1],
  ['boring story and bad acting', 0],
  ['i loved this movie', 1],
  ['i hated this film', 0],
  ['the story was great', 1],
  ['the acting was boring', 0],
  ['not boring at all', 1],
  ['not great', 0],
];

export const PAD = '<pad>';
export const OOV = '<oov>';

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** The characters of a text that words() drops (not letters, apostrophes or white space), each once. */
export function ignoredChars(text: string): string {
  return [...new Set([...text].filter((c) => !/[a-z'\s]/.test(c.toLowerCase())))].join('');
}

export function buildVocab(rows: readonly [string, number][]): string[] {
  return [PAD, OOV, ...new Set(rows.flatMap(([s]) => words(s)))];
}

/** Ids of a text (unknown words → <oov>); an empty text becomes one <oov>. */
export function tokenize(vocab: readonly string[], text: string): number[] {
  const ids = words(text).map((w) => {
    const i = vocab.indexOf(w);
    return i < 0 ? 1 : i;
  });
  return ids.length > 0 ? ids : [1];
}

/** Batch-first ids (N·T) padded with <pad>, the lengths, and the labels. */
export function encode(vocab: readonly string[], rows: readonly [string, number][]): { x: number[]; lengths: number[]; y: number[]; seqLen: number } {
  const seqs = rows.map(([s]) => tokenize(vocab, s));
  const seqLen = Math.max(...seqs.map((s) => s.length));
  const x = seqs.flatMap((s) => [...s, ...new Array<number>(seqLen - s.length).fill(0)]);
  return { x, lengths: seqs.map((s) => s.length), y: rows.map(([, v]) => v), seqLen };
}
