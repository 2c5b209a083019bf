// Tokenizer: Keras's `keras.preprocessing.text.Tokenizer` (keras_preprocessing
// 1.1, the tf.keras 2.x one, kept in Keras 3 as keras.src.legacy), step for step.
//
//   fitOnTexts: each text is lowered (lower), every character of `filters`
//     becomes `split`, the text is cut at `split` and empty pieces are dropped
//     (text_to_word_sequence); with charLevel every character (code point) of
//     the lowered text is a token, spaces and punctuation included, and filters
//     and split are not used. A text given as an array of strings is taken as
//     its tokens (lowered when lower). Counts accumulate over calls.
//   wordIndex: index 1… by count, descending; equal counts keep first-occurrence
//     order (Python's sort is stable, reverse=True included). oovToken, when
//     set, is put first, so it takes 1 and the words start at 2. Index 0 is
//     never assigned (it is the padding value).
//   textsToSequences: a word whose index is ≥ numWords is dropped, or written
//     as the OOV index when there is an oovToken; so with numWords only the
//     numWords − 1 first indices (the OOV index among them) appear. An unknown
//     word is dropped, or the OOV index. wordIndex itself keeps every word.
//   toJSON / fromJSON: Keras's `to_json()` text, byte for byte (see pyjson.ts).
//
// Where Keras's own output depends on Python's string hashing: `word_docs` is
// filled from `set(tokens)`, whose order changes with PYTHONHASHSEED, so its key
// order (and index_docs', which follows it) differs between Python runs. Here
// it is the order of first occurrence; the counts are the same. A file read by
// fromJSON keeps its order.
//
// No import of the runtime: text preprocessing runs without a backend.
import { ValueError } from '../errors';
import { assertNumbers, assertPositiveInt, checkOptions, describe } from '../validate';
import { parseFlatObject, pyObject, type FlatValue } from './pyjson';

/** Keras's default `filters`: all ASCII punctuation except `'`, plus tab and newline. */
export const DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface TokenizerOptions {
  /** Keep only indices below numWords in textsToSequences (the numWords − 1 most frequent). Default: all. */
  numWords?: number | null;
  /** Characters replaced by `split` before splitting. Default: DEFAULT_FILTERS. */
  filters?: string;
  /** Lower-case texts first. Default: true. */
  lower?: boolean;
  /** Word separator (a non-empty string). Default: ' '. */
  split?: string;
  /** Every character is a token. Default: false. */
  charLevel?: boolean;
  /** Token for unknown words; takes index 1. Default: none (unknown words are dropped). */
  oovToken?: string | null;
}

/** A text: a string, or an array of strings taken as its tokens (as Keras takes a list). */
export type TextInput = string | readonly string[];

const OPTION_NAMES = ['numWords', 'filters', 'lower', 'split', 'charLevel', 'oovToken'] as const;
const KERAS_NAMES: Record<string, string> = { num_words: 'numWords', char_level: 'charLevel', oov_token: 'oovToken' };
const CONFIG_NAMES = ['num_words', 'filters', 'lower', 'split', 'char_level', 'oov_token', 'document_count', 'word_counts', 'word_docs', 'index_docs', 'index_word', 'word_index'];

export class Tokenizer {
  /** null: no limit. (0, possible only from a Keras file, also means no limit, as in Keras.) */
  readonly numWords: number | null;
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  readonly charLevel: boolean;
  readonly oovToken: string | null;

  private docCount = 0;
  // Keras's dicts, in their insertion order (a Map keeps it for every key).
  private counts = new Map<string, number>(); // word_counts
  private docs = new Map<string, number>(); // word_docs
  private idxDocs = new Map<number, number>(); // index_docs
  private index = new Map<string, number>(); // word_index
  private words = new Map<number, string>(); // index_word
  private filterSet: Set<string>;
  private views: { wordIndex?: Record<string, number>; wordCounts?: Record<string, number>; wordDocs?: Record<string, number>; indexWord?: Record<number, string>; indexDocs?: Record<number, number> } = {};

  constructor(options?: TokenizerOptions) {
    const op = 'Tokenizer';
    const o = checkOptions(op, 'options', options);
    for (const k of Object.keys(o)) {
      if (!(OPTION_NAMES as readonly string[]).includes(k)) {
        const hint = KERAS_NAMES[k] ? ` Hint: Keras's ${k} is ${KERAS_NAMES[k]} here.` : '';
        throw new ValueError(`${op}: unknown option '${k}'; the options are ${OPTION_NAMES.join(', ')}.${hint}`);
      }
    }
    if (o.numWords !== undefined && o.numWords !== null) assertPositiveInt(op, 'numWords', o.numWords);
    if (o.filters !== undefined && typeof o.filters !== 'string') throw new ValueError(`${op}: filters must be a string of characters to remove, got ${describe(o.filters)}.`);
    if (o.lower !== undefined && typeof o.lower !== 'boolean') throw new ValueError(`${op}: lower must be a boolean, got ${describe(o.lower)}.`);
    if (o.split !== undefined && (typeof o.split !== 'string' || o.split === '')) {
      throw new ValueError(`${op}: split must be a non-empty string, got ${typeof o.split === 'string' ? "''" : describe(o.split)}.`);
    }
    if (o.charLevel !== undefined && typeof o.charLevel !== 'boolean') throw new ValueError(`${op}: charLevel must be a boolean, got ${describe(o.charLevel)}.`);
    if (o.oovToken !== undefined && o.oovToken !== null && typeof o.oovToken !== 'string') {
      throw new ValueError(`${op}: oovToken must be a string or null, got ${describe(o.oovToken)}.`);
    }
    this.numWords = o.numWords ?? null;
    this.filters = o.filters ?? DEFAULT_FILTERS;
    this.lower = o.lower ?? true;
    this.split = o.split ?? ' ';
    this.charLevel = o.charLevel ?? false;
    this.oovToken = o.oovToken ?? null;
    this.filterSet = new Set(this.filters);
  }

  /** How many texts fitOnTexts has seen (Keras's document_count). */
  get documentCount(): number {
    return this.docCount;
  }

  /** word → index, in Keras's order (see the note on integer-like keys in the README). A frozen copy. */
  get wordIndex(): Readonly<Record<string, number>> {
    return (this.views.wordIndex ??= toObject(this.index));
  }

  /** index → word. A frozen copy. */
  get indexWord(): Readonly<Record<number, string>> {
    return (this.views.indexWord ??= toObject(this.words));
  }

  /** word → how many times it occurred, in first-occurrence order. A frozen copy. */
  get wordCounts(): Readonly<Record<string, number>> {
    return (this.views.wordCounts ??= toObject(this.counts));
  }

  /** word → in how many texts it occurred. A frozen copy. */
  get wordDocs(): Readonly<Record<string, number>> {
    return (this.views.wordDocs ??= toObject(this.docs));
  }

  /** index → in how many texts its word occurred. A frozen copy. */
  get indexDocs(): Readonly<Record<number, number>> {
    return (this.views.indexDocs ??= toObject(this.idxDocs));
  }

  /** The tokens of one text, as fitOnTexts and textsToSequences see them. */
  tokenize(text: TextInput): string[] {
    checkText('tokenizer.tokenize', 'text', text);
    return this.tokens(text);
  }

  /** Counts the words of `texts` and rebuilds wordIndex (Keras's fit_on_texts). */
  fitOnTexts(texts: readonly TextInput[]): void {
    checkTexts('tokenizer.fitOnTexts', texts);
    for (const text of texts) {
      this.docCount++;
      const seq = this.tokens(text);
      for (const w of seq) this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
      for (const w of new Set(seq)) this.docs.set(w, (this.docs.get(w) ?? 0) + 1);
    }
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1]); // stable: ties keep first occurrence
    const vocab = this.oovToken === null ? [] : [this.oovToken];
    for (const [w] of sorted) vocab.push(w);
    // dict(zip(vocab, 1…)): a word listed twice (the OOV token also seen in a
    // text) keeps its first position and takes its last index, as in Python.
    this.index = new Map();
    vocab.forEach((w, i) => this.index.set(w, i + 1));
    this.words = new Map();
    for (const [w, i] of this.index) this.words.set(i, w);
    for (const [w, c] of this.docs) this.idxDocs.set(this.index.get(w)!, c);
    this.views = {};
  }

  /** Each text as word indices (Keras's texts_to_sequences). */
  textsToSequences(texts: readonly TextInput[]): number[][] {
    const op = 'tokenizer.textsToSequences';
    checkTexts(op, texts);
    const oov = this.oovIndex(op);
    const limit = this.numWords;
    return texts.map((text) => {
      const seq: number[] = [];
      for (const w of this.tokens(text)) {
        const i = this.index.get(w);
        if (i !== undefined && !(limit && i >= limit)) seq.push(i);
        else if (oov !== undefined) seq.push(oov);
      }
      return seq;
    });
  }

  /** Each sequence of indices as its words joined by ' ' (Keras's sequences_to_texts). */
  sequencesToTexts(sequences: readonly ArrayLike<number>[]): string[] {
    const op = 'tokenizer.sequencesToTexts';
    if (!Array.isArray(sequences)) throw new ValueError(`${op}: sequences must be an array of arrays of word indices, got ${describe(sequences)}.`);
    sequences.forEach((seq, n) => {
      assertNumbers(op, `sequences[${n}]`, seq);
      for (let t = 0; t < seq.length; t++) {
        if (!Number.isInteger(seq[t])) throw new ValueError(`${op}: sequences[${n}][${t}] is ${typeof seq[t] === 'number' ? seq[t] : describe(seq[t])}; word indices are integers.`);
      }
    });
    const oov = this.oovIndex(op);
    const oovWord = oov === undefined ? undefined : this.words.get(oov);
    if (oov !== undefined && oovWord === undefined) {
      throw new ValueError(`${op}: the OOV index ${oov} has no entry in indexWord (a hand-edited tokenizer file?).`);
    }
    const limit = this.numWords;
    return sequences.map((seq) => {
      const out: string[] = [];
      for (let t = 0; t < seq.length; t++) {
        const i = seq[t];
        const w = this.words.get(i);
        if (w !== undefined && !(limit && i >= limit)) out.push(w);
        else if (oovWord !== undefined) out.push(oovWord);
      }
      return out.join(' ');
    });
  }

  /**
   * The tokenizer as Keras's `tokenizer.to_json()` writes it, character for
   * character: `{"class_name": "Tokenizer", "config": {...}}` with word_counts,
   * word_docs, index_docs, index_word and word_index as JSON-encoded strings.
   * (A method of this name is also what JSON.stringify(tokenizer) calls; it
   * then writes this text as one JSON string.)
   */
  toJSON(): string {
    const config = pyObject([
      ['num_words', this.numWords],
      ['filters', this.filters],
      ['lower', this.lower],
      ['split', this.split],
      ['char_level', this.charLevel],
      ['oov_token', this.oovToken],
      ['document_count', this.docCount],
      ['word_counts', pyObject(this.counts)],
      ['word_docs', pyObject(this.docs)],
      ['index_docs', pyObject(this.idxDocs)],
      ['index_word', pyObject(this.words)],
      ['word_index', pyObject(this.index)],
    ]);
    return pyObject([
      ['class_name', 'Tokenizer'],
      ['config', { raw: config }],
    ]);
  }

  /** A tokenizer from the text of Keras's `tokenizer.to_json()` (Keras's tokenizer_from_json). */
  static fromJSON(json: string): Tokenizer {
    const op = 'Tokenizer.fromJSON';
    if (typeof json !== 'string') throw new ValueError(`${op}: json must be the string that tokenizer.to_json() wrote, got ${describe(json)}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new ValueError(`${op}: json is not valid JSON (${(e as Error).message}).`);
    }
    const config = isObject(parsed) ? parsed.config : undefined;
    if (!isObject(config)) throw new ValueError(`${op}: expected {"class_name": "Tokenizer", "config": {...}} as written by tokenizer.to_json(), got ${isObject(parsed) ? 'no config object' : describe(parsed)}.`);
    for (const k of Object.keys(config)) {
      if (!CONFIG_NAMES.includes(k)) throw new ValueError(`${op}: unknown config field '${k}'; Keras's Tokenizer has ${CONFIG_NAMES.join(', ')}.`);
    }
    const field = (name: string, ok: (v: unknown) => boolean, expected: string): unknown => {
      const v = config[name];
      if (v !== undefined && !ok(v)) throw new ValueError(`${op}: config.${name} must be ${expected}, got ${describe(v)}${typeof v === 'number' ? ` ${v}` : ''}.`);
      return v;
    };
    const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    const numWords = field('num_words', (v) => v === null || count(v), 'null or a non-negative integer') as number | null | undefined;
    const filters = field('filters', (v) => typeof v === 'string', 'a string') as string | undefined;
    const lower = field('lower', (v) => typeof v === 'boolean', 'a boolean') as boolean | undefined;
    const split = field('split', (v) => typeof v === 'string' && v !== '', 'a non-empty string') as string | undefined;
    const charLevel = field('char_level', (v) => typeof v === 'boolean', 'a boolean') as boolean | undefined;
    const oovToken = field('oov_token', (v) => v === null || typeof v === 'string', 'null or a string') as string | null | undefined;
    const documentCount = field('document_count', count, 'a non-negative integer') as number | undefined;

    // The five maps are JSON text inside the JSON, as Keras writes (and requires) them.
    const map = <K, V>(name: string, key: (k: string) => K | undefined, keyWhat: string, value: (v: FlatValue) => boolean, valueWhat: string): Map<K, V> => {
      const text = config[name];
      if (typeof text !== 'string') throw new ValueError(`${op}: config.${name} must be a JSON-encoded string, as tokenizer.to_json() writes it, got ${text === undefined ? 'nothing' : describe(text)}.`);
      const out = new Map<K, V>();
      for (const [k, v] of parseFlatObject(op, `config.${name}`, text)) {
        const kk = key(k);
        if (kk === undefined) throw new ValueError(`${op}: config.${name} has the key ${JSON.stringify(k)}; expected ${keyWhat}.`);
        if (!value(v)) throw new ValueError(`${op}: config.${name}[${JSON.stringify(k)}] is ${JSON.stringify(v)}; expected ${valueWhat}.`);
        out.set(kk, v as V);
      }
      return out;
    };
    const word = (k: string) => k;
    const int = (k: string) => (/^[0-9]+$/.test(k) && Number.isSafeInteger(Number(k)) ? Number(k) : undefined);
    const counts = map<string, number>('word_counts', word, 'a word', count, 'a count');
    const docs = map<string, number>('word_docs', word, 'a word', count, 'a count');
    const idxDocs = map<number, number>('index_docs', int, 'an integer index', count, 'a count');
    const words = map<number, string>('index_word', int, 'an integer index', (v) => typeof v === 'string', 'a word');
    const index = map<string, number>('word_index', word, 'a word', count, 'an integer index');

    const tok = new Tokenizer({ numWords: numWords || null, filters, lower, split, charLevel, oovToken });
    // Keras writes num_words 0 for Tokenizer(num_words=0), which limits nothing; kept to be written back.
    if (numWords === 0) (tok as { numWords: number | null }).numWords = 0;
    tok.docCount = documentCount ?? 0;
    tok.counts = counts;
    tok.docs = docs;
    tok.idxDocs = idxDocs;
    tok.words = words;
    tok.index = index;
    return tok;
  }

  /** The OOV token's index, or undefined without one; throws where Keras would write None. */
  private oovIndex(op: string): number | undefined {
    if (this.oovToken === null) return undefined;
    const i = this.index.get(this.oovToken);
    if (i === undefined) throw new ValueError(`${op}: the tokenizer has an oovToken but no word index yet. Hint: call fitOnTexts first.`);
    return i;
  }

  private tokens(text: TextInput): string[] {
    if (typeof text !== 'string') return this.lower ? text.map((w) => w.toLowerCase()) : [...text];
    const s = this.lower ? text.toLowerCase() : text;
    if (this.charLevel) return Array.from(s);
    let cut = s;
    if (this.filterSet.size > 0) {
      const parts: string[] = [];
      for (const ch of s) parts.push(this.filterSet.has(ch) ? this.split : ch);
      cut = parts.join('');
    }
    return cut.split(this.split).filter((w) => w !== '');
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkText(op: string, arg: string, t: unknown): asserts t is TextInput {
  if (typeof t === 'string') return;
  if (Array.isArray(t)) {
    const bad = t.findIndex((w) => typeof w !== 'string');
    if (bad < 0) return;
    throw new ValueError(`${op}: ${arg}[${bad}] is ${describe(t[bad])}; a text given as an array holds its tokens, all strings.`);
  }
  throw new ValueError(`${op}: ${arg} must be a string (or an array of token strings), got ${describe(t)}.`);
}

function checkTexts(op: string, texts: unknown): asserts texts is readonly TextInput[] {
  if (typeof texts === 'string') throw new ValueError(`${op}: texts must be an array of strings, got a single string. Hint: wrap it, [text].`);
  if (!Array.isArray(texts)) throw new ValueError(`${op}: texts must be an array of strings, got ${describe(texts)}.`);
  texts.forEach((t, i) => checkText(op, `texts[${i}]`, t));
}

/**
 * A frozen plain object with the map's entries. JS orders integer-like keys
 * ascending before the others, so the map's order holds for the rest only.
 */
function toObject<K extends string | number, V>(m: Map<K, V>): Record<K, V> {
  const o = {} as Record<K, V>;
  for (const [k, v] of m) {
    // '__proto__' as a word: a data property, not the prototype setter.
    if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    else o[k] = v;
  }
  return Object.freeze(o);
}
