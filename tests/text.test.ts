// Text in, padded id batches out: Tokenizer against Keras's
// keras.preprocessing.text.Tokenizer and padSequences against pad_sequences.
//
// Where the expectations come from:
//   - published Keras outputs: the pad_sequences examples of the tf.keras API
//     docs, and word indices and sequences printed by tf.keras in public
//     tutorial notebooks (each case names its source);
//   - small worked examples, derived by hand from Keras's source
//     (keras_preprocessing 1.1 text.py: lower, filters → split, split, drop
//     empty tokens; stable sort by count, descending; OOV first; indices
//     ≥ num_words dropped or OOV);
//   - tests/fixtures/keras_tokenizer.json, a to_json() string written by hand in
//     Keras's exact format (json.dumps defaults: ', ' and ': ' separators,
//     non-ASCII as \uXXXX, the five maps as JSON strings inside the JSON;
//     word_docs in a scrambled order, as Python's set order makes it).
// No Python runs here.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LimitError, Tokenizer, ValueError, padSequences } from '../src/index';

const fixture = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/keras_tokenizer.json'), 'utf8').trimEnd();

const CLASSIC = ['The cat sat on the mat.', 'The dog ate my homework.'];

function fit(texts: string[], options?: ConstructorParameters<typeof Tokenizer>[0]): Tokenizer {
  const tok = new Tokenizer(options);
  tok.fitOnTexts(texts);
  return tok;
}

/** Calls `call`, expects a ValueError (or `cls`) whose message contains every part. */
function expectError(call: () => unknown, parts: (string | RegExp)[], cls: new (m: string) => Error = ValueError): void {
  let err: unknown;
  try {
    call();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(cls);
  for (const p of parts) expect((err as Error).message).toMatch(p);
}

describe('Tokenizer: published Keras outputs', () => {
  // tf.keras output printed in the "NLP Zero to Hero" sentences notebooks, e.g.
  // github.com/Nourhan-Adell/DeepLearning, Tokenize_Basics(Out__of_vocabulary_problem).ipynb.
  const sentences = ['I love my dog', 'I love my cat', 'You love my dog!', 'Do you think my dog is amazing?'];
  const test = ['I really love my dog', 'My dog loves my manatee'];

  it('counts ties by first occurrence, drops punctuation and unknown words', () => {
    const tok = fit(sentences, { numWords: 100 });
    expect(tok.wordIndex).toEqual({ my: 1, love: 2, dog: 3, i: 4, you: 5, cat: 6, do: 7, think: 8, is: 9, amazing: 10 });
    expect(Object.keys(tok.wordIndex)).toEqual(['my', 'love', 'dog', 'i', 'you', 'cat', 'do', 'think', 'is', 'amazing']);
    expect(tok.textsToSequences(sentences)).toEqual([[4, 2, 1, 3], [4, 2, 1, 6], [5, 2, 1, 3], [7, 5, 8, 1, 3, 9, 10]]);
    expect(tok.textsToSequences(test)).toEqual([[4, 2, 1, 3], [1, 3, 1]]);
  });

  it('oovToken takes index 1 and stands for unknown words', () => {
    const tok = fit(sentences, { numWords: 100, oovToken: '<OOV>' });
    expect(Object.entries(tok.wordIndex)).toEqual(Object.entries({ '<OOV>': 1, my: 2, love: 3, dog: 4, i: 5, you: 6, cat: 7, do: 8, think: 9, is: 10, amazing: 11 }));
    expect(tok.textsToSequences(test)).toEqual([[5, 1, 3, 2, 4], [2, 4, 1, 2, 1]]);
  });

  // github.com/AlirezaKamyab/Tensorflow_RNN (tf.keras, num_words=50, with and without OOV).
  it('a second published vocabulary, with and without OOV', () => {
    const texts = ['I really love progarmming', 'It is often seen as something difficult but beautiful', 'This is another text!', 'Do you like something else?'];
    const tests = ['I would like another cup of coffee', 'I really like something beautiful'];
    const tok = fit(texts, { numWords: 50 });
    expect(Object.keys(tok.wordIndex)).toEqual(['is', 'something', 'i', 'really', 'love', 'progarmming', 'it', 'often', 'seen', 'as', 'difficult', 'but', 'beautiful', 'this', 'another', 'text', 'do', 'you', 'like', 'else']);
    expect(tok.textsToSequences(texts)).toEqual([[3, 4, 5, 6], [7, 1, 8, 9, 10, 2, 11, 12, 13], [14, 1, 15, 16], [17, 18, 19, 2, 20]]);
    expect(tok.textsToSequences(tests)).toEqual([[3, 19, 15], [3, 4, 19, 2, 13]]);
    expect(fit(texts, { numWords: 50, oovToken: '<OOV>' }).textsToSequences(tests)).toEqual([[4, 1, 20, 16, 1, 1, 1], [4, 5, 20, 3, 14]]);
  });

  // github.com/BrambleXu/nlp-beginner-guide-keras: num_words=3 keeps indices 1 and 2 only.
  it('numWords keeps the numWords − 1 most frequent in sequences, all words in wordIndex', () => {
    const texts = ['my name is far faraway asdasd', 'my name is', 'your name is'];
    const tok = fit(texts, { numWords: 3 });
    expect(tok.wordIndex).toEqual({ name: 1, is: 2, my: 3, far: 4, faraway: 5, asdasd: 6, your: 7 });
    expect(tok.textsToSequences(texts)).toEqual([[1, 2], [1, 2], [1, 2]]);
  });
});

describe('Tokenizer: worked examples', () => {
  it('the classic pair: index, counts, docs, sequences', () => {
    const tok = fit(CLASSIC);
    expect(Object.entries(tok.wordIndex)).toEqual(['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ate', 'my', 'homework'].map((w, i) => [w, i + 1]));
    expect(Object.entries(tok.wordCounts)).toEqual([['the', 3], ['cat', 1], ['sat', 1], ['on', 1], ['mat', 1], ['dog', 1], ['ate', 1], ['my', 1], ['homework', 1]]);
    expect(tok.wordDocs).toEqual({ the: 2, cat: 1, sat: 1, on: 1, mat: 1, dog: 1, ate: 1, my: 1, homework: 1 });
    expect(tok.indexDocs).toEqual({ 1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1 });
    expect(tok.indexWord).toEqual({ 1: 'the', 2: 'cat', 3: 'sat', 4: 'on', 5: 'mat', 6: 'dog', 7: 'ate', 8: 'my', 9: 'homework' });
    expect(tok.documentCount).toBe(2);
    expect(tok.textsToSequences(CLASSIC)).toEqual([[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]);
    expect(tok.textsToSequences(['The cat ate a fish'])).toEqual([[1, 2, 7]]);
    expect(tok.sequencesToTexts([[1, 2, 3, 4, 1, 5], [9, 0, 42, 6]])).toEqual(['the cat sat on the mat', 'homework dog']);
  });

  it('the classic pair with oovToken and numWords', () => {
    const oov = fit(CLASSIC, { oovToken: '<OOV>' });
    expect(oov.wordIndex['<OOV>']).toBe(1);
    expect(oov.wordIndex.the).toBe(2);
    expect(oov.textsToSequences(CLASSIC)).toEqual([[2, 3, 4, 5, 2, 6], [2, 7, 8, 9, 10]]);
    expect(oov.textsToSequences(['The cat ate a fish'])).toEqual([[2, 3, 8, 1, 1]]);
    expect(oov.sequencesToTexts([[2, 3, 0, 42]])).toEqual(['the cat <OOV> <OOV>']);

    // numWords 5: indices 1…4 only. Without OOV the rest is dropped…
    const five = fit(CLASSIC, { numWords: 5 });
    expect(five.textsToSequences(CLASSIC)).toEqual([[1, 2, 3, 4, 1], [1]]);
    expect(five.sequencesToTexts([[1, 5, 9, 2]])).toEqual(['the cat']);
    expect(Object.keys(five.wordIndex)).toHaveLength(9); // wordIndex keeps every word
    // …with OOV (index 1) it becomes the OOV index.
    const both = fit(CLASSIC, { numWords: 5, oovToken: '<OOV>' });
    expect(both.textsToSequences(CLASSIC)).toEqual([[2, 3, 4, 1, 2, 1], [2, 1, 1, 1, 1]]);
    expect(both.sequencesToTexts([[2, 3, 4, 5, 9]])).toEqual(['the cat sat <OOV> <OOV>']);
    // numWords 1 with OOV: everything is the OOV index (Keras's `i >= num_words` test).
    expect(fit(CLASSIC, { numWords: 1, oovToken: '<OOV>' }).textsToSequences(['the cat dog'])).toEqual([[1, 1, 1]]);
    expect(fit(CLASSIC, { numWords: 1 }).textsToSequences(['the cat dog'])).toEqual([[]]);
  });

  it('charLevel: every character of the lowered text is a token; filters and split are not used', () => {
    const tok = fit(['Hi, hi!'], { charLevel: true });
    expect(Object.entries(tok.wordIndex)).toEqual([['h', 1], ['i', 2], [',', 3], [' ', 4], ['!', 5]]);
    expect(tok.textsToSequences(['hi there'])).toEqual([[1, 2, 4, 1]]);
    expect(tok.sequencesToTexts([[1, 2, 5]])).toEqual(['h i !']); // Keras joins with ' ' here too
    const cased = fit(['Hi, hi!'], { charLevel: true, lower: false });
    expect(Object.entries(cased.wordIndex)).toEqual([['i', 1], ['H', 2], [',', 3], [' ', 4], ['h', 5], ['!', 6]]);
    // Characters are code points: an emoji is one token.
    expect(fit(['a😀a'], { charLevel: true }).wordIndex).toEqual({ a: 1, '😀': 2 });
  });

  it('filters become split, runs of separators give no empty tokens, lower comes first', () => {
    const tok = new Tokenizer();
    expect(tok.tokenize("  Don't\tSTOP,\n\nme-now!! ")).toEqual(["don't", 'stop', 'me', 'now']);
    expect(new Tokenizer({ filters: '' }).tokenize('The cat.')).toEqual(['the', 'cat.']);
    expect(new Tokenizer({ filters: 'A' }).tokenize('bAnAnA')).toEqual(['banana']); // lowered before filtering
    expect(new Tokenizer({ filters: 'a', lower: false }).tokenize('bAnana')).toEqual(['bAn', 'n']);
    expect(new Tokenizer({ split: ',' }).tokenize('a b,c;d')).toEqual(['a b', 'c', 'd']); // ';' → ',' too
    expect(new Tokenizer({ split: '::', filters: '.' }).tokenize('x::y.z::::w')).toEqual(['x', 'y', 'z', 'w']);
    expect(new Tokenizer({ lower: false }).tokenize('The THE the')).toEqual(['The', 'THE', 'the']);
  });

  it('a text given as an array is its tokens (lowered, not filtered)', () => {
    const tok = fit([]);
    tok.fitOnTexts([['Hello!', 'World'], 'hello world']);
    expect(Object.entries(tok.wordIndex)).toEqual([['world', 1], ['hello!', 2], ['hello', 3]]); // world: 2
    expect(tok.textsToSequences([['WORLD', 'hello!']])).toEqual([[1, 2]]);
  });

  it('fits accumulate over calls, and the index is rebuilt', () => {
    const tok = fit(['b a']);
    expect(tok.wordIndex).toEqual({ b: 1, a: 2 });
    tok.fitOnTexts(['a c', 'c c']);
    expect(tok.documentCount).toBe(3);
    expect(Object.entries(tok.wordCounts)).toEqual([['b', 1], ['a', 2], ['c', 3]]);
    expect(Object.entries(tok.wordIndex)).toEqual([['c', 1], ['a', 2], ['b', 3]]);
    expect(tok.wordDocs).toEqual({ b: 1, a: 2, c: 2 });
    expect(tok.indexDocs).toEqual({ 1: 2, 2: 2, 3: 1 });
  });

  it('an OOV token that is also a word keeps its first place and takes its later index, as dict(zip(...)) does', () => {
    // Keras: sorted_voc = ['x', 'y', 'x'] → word_index {'x': 3, 'y': 2}; index 1 is unused.
    const tok = fit(['x y y'], { oovToken: 'x' });
    expect(Object.entries(tok.wordIndex)).toEqual([['x', 3], ['y', 2]]);
    expect(tok.textsToSequences(['x y z'])).toEqual([[3, 2, 3]]);
    expect(tok.toJSON()).toContain('"index_word": "{\\"3\\": \\"x\\", \\"2\\": \\"y\\"}"');
  });

  it('wordIndex and friends are frozen plain objects; integer-like words come first in JS key order', () => {
    const tok = fit(['b 10 a 2 __proto__'], { filters: '' }); // the default filters would cut '_'
    expect(Object.isFrozen(tok.wordIndex)).toBe(true);
    expect(Object.getPrototypeOf(tok.wordIndex)).toBe(Object.prototype);
    expect(Object.hasOwn(tok.wordIndex, '__proto__')).toBe(true);
    expect(tok.wordIndex['__proto__']).toBe(5);
    expect(Object.keys(tok.wordIndex)).toEqual(['2', '10', 'b', 'a', '__proto__']); // JS's order, not Keras's…
    expect(tok.toJSON()).toContain('"word_index": "{\\"b\\": 1, \\"10\\": 2, \\"a\\": 3, \\"2\\": 4, \\"__proto__\\": 5}"'); // …which toJSON keeps
  });
});

describe('Tokenizer: Keras JSON', () => {
  // Character for character Keras's format; word_docs (and index_docs, which follows it) in first-occurrence
  // order, where Python writes its set order (which changes with PYTHONHASHSEED).
  it('toJSON writes what Keras to_json() writes', () => {
    const tok = fit(CLASSIC);
    const want =
      '{"class_name": "Tokenizer", "config": {"num_words": null, "filters": "!\\"#$%&()*+,-./:;<=>?@[\\\\]^_`{|}~\\t\\n", "lower": true, "split": " ", ' +
      '"char_level": false, "oov_token": null, "document_count": 2, ' +
      '"word_counts": "{\\"the\\": 3, \\"cat\\": 1, \\"sat\\": 1, \\"on\\": 1, \\"mat\\": 1, \\"dog\\": 1, \\"ate\\": 1, \\"my\\": 1, \\"homework\\": 1}", ' +
      '"word_docs": "{\\"the\\": 2, \\"cat\\": 1, \\"sat\\": 1, \\"on\\": 1, \\"mat\\": 1, \\"dog\\": 1, \\"ate\\": 1, \\"my\\": 1, \\"homework\\": 1}", ' +
      '"index_docs": "{\\"1\\": 2, \\"2\\": 1, \\"3\\": 1, \\"4\\": 1, \\"5\\": 1, \\"6\\": 1, \\"7\\": 1, \\"8\\": 1, \\"9\\": 1}", ' +
      '"index_word": "{\\"1\\": \\"the\\", \\"2\\": \\"cat\\", \\"3\\": \\"sat\\", \\"4\\": \\"on\\", \\"5\\": \\"mat\\", \\"6\\": \\"dog\\", \\"7\\": \\"ate\\", \\"8\\": \\"my\\", \\"9\\": \\"homework\\"}", ' +
      '"word_index": "{\\"the\\": 1, \\"cat\\": 2, \\"sat\\": 3, \\"on\\": 4, \\"mat\\": 5, \\"dog\\": 6, \\"ate\\": 7, \\"my\\": 8, \\"homework\\": 9}"}}';
    expect(tok.toJSON()).toBe(want);
    expect(new Tokenizer({ numWords: 10 }).toJSON()).toBe(
      '{"class_name": "Tokenizer", "config": {"num_words": 10, "filters": "!\\"#$%&()*+,-./:;<=>?@[\\\\]^_`{|}~\\t\\n", "lower": true, "split": " ", "char_level": false, ' +
        '"oov_token": null, "document_count": 0, "word_counts": "{}", "word_docs": "{}", "index_docs": "{}", "index_word": "{}", "word_index": "{}"}}',
    );
  });

  it('escapes as Python json.dumps does: non-ASCII and DEL as \\uXXXX, astral as surrogate pairs', () => {
    const tok = fit(['Café ΣΑΣ 😀 del\u007f'], { filters: '' });
    expect(tok.toJSON()).toContain('"word_index": "{\\"caf\\\\u00e9\\": 1, \\"\\\\u03c3\\\\u03b1\\\\u03c2\\": 2, \\"\\\\ud83d\\\\ude00\\": 3, \\"del\\\\u007f\\": 4}"');
  });

  it('fromJSON reads a Keras to_json() string: same sequences, and toJSON gives the string back unchanged', () => {
    const tok = Tokenizer.fromJSON(fixture);
    expect(tok.numWords).toBe(6);
    expect(tok.oovToken).toBe('<OOV>');
    expect(tok.documentCount).toBe(3);
    expect(tok.wordIndex['café']).toBe(11);
    expect(tok.indexWord[14]).toBe('1');
    // numWords 6: indices 1…5 (<OOV>, the, dog, cat, sat); the rest become 1.
    expect(tok.textsToSequences(['The cat and the dog', 'café 2 1 cats'])).toEqual([[2, 4, 1, 2, 3], [1, 1, 1, 1]]);
    expect(tok.sequencesToTexts([[2, 3, 11, 99]])).toEqual(['the dog <OOV> <OOV>']);
    expect(tok.toJSON()).toBe(fixture); // word_docs' scrambled order and the integer-like words' places kept
    expect(Tokenizer.fromJSON(tok.toJSON()).toJSON()).toBe(fixture);
  });

  it('a fresh fit on the same texts writes the same file, up to word_docs order (Python set order)', () => {
    const tok = fit(['The cat sat on the mat.', 'The dog ate my homework.', 'Café: 2 cats, 1 dog'], { numWords: 6, oovToken: '<OOV>' });
    const ours = JSON.parse(tok.toJSON()).config;
    const keras = JSON.parse(fixture).config;
    for (const k of Object.keys(keras)) {
      if (k === 'word_docs' || k === 'index_docs') expect(JSON.parse(ours[k]), k).toEqual(JSON.parse(keras[k]));
      else expect(ours[k], k).toBe(keras[k]);
    }
  });

  it('a tokenizer read from JSON fits on', () => {
    const tok = Tokenizer.fromJSON(fit(CLASSIC).toJSON());
    tok.fitOnTexts(['cat cat cat']);
    expect(tok.documentCount).toBe(3);
    expect(Object.keys(tok.wordIndex).slice(0, 2)).toEqual(['cat', 'the']);
  });

  it('accepts indented JSON (to_json(indent=2)) and writes Keras default format back', () => {
    const pretty = JSON.stringify(JSON.parse(fixture), null, 2);
    expect(Tokenizer.fromJSON(pretty).toJSON()).toBe(fixture);
  });

  it('malformed JSON is a ValueError naming the field', () => {
    const config = JSON.parse(fixture).config;
    const withConfig = (patch: Record<string, unknown>) => JSON.stringify({ class_name: 'Tokenizer', config: { ...config, ...patch } });
    expectError(() => Tokenizer.fromJSON(42 as unknown as string), ['Tokenizer.fromJSON', 'json must be the string', 'a number']);
    expectError(() => Tokenizer.fromJSON('{"class_name": "Tokenizer", '), ['Tokenizer.fromJSON', 'not valid JSON']);
    expectError(() => Tokenizer.fromJSON('[1, 2]'), ['expected {"class_name": "Tokenizer", "config"', 'an array']);
    expectError(() => Tokenizer.fromJSON('{"class_name": "Tokenizer"}'), ['no config object']);
    expectError(() => Tokenizer.fromJSON(withConfig({ word_counts: '{"a": }' })), ['config.word_counts is not a flat JSON object', 'character 6']);
    expectError(() => Tokenizer.fromJSON(withConfig({ word_counts: '{"a": 1} x' })), ['config.word_counts', 'the end of the object']);
    expectError(() => Tokenizer.fromJSON(withConfig({ word_counts: { a: 1 } })), ['config.word_counts must be a JSON-encoded string', 'Object']);
    expectError(() => Tokenizer.fromJSON(withConfig({ word_index: undefined })), ['config.word_index must be a JSON-encoded string', 'nothing']);
    expectError(() => Tokenizer.fromJSON(withConfig({ word_index: '{"a": -1}' })), ['config.word_index["a"] is -1', 'an integer index']);
    expectError(() => Tokenizer.fromJSON(withConfig({ index_word: '{"one": "a"}' })), ['config.index_word has the key "one"', 'an integer index']);
    expectError(() => Tokenizer.fromJSON(withConfig({ index_word: '{"1": 2}' })), ['config.index_word["1"] is 2', 'a word']);
    expectError(() => Tokenizer.fromJSON(withConfig({ lower: 'yes' })), ['config.lower must be a boolean', 'a string']);
    expectError(() => Tokenizer.fromJSON(withConfig({ num_words: 2.5 })), ['config.num_words must be null or a non-negative integer', '2.5']);
    expectError(() => Tokenizer.fromJSON(withConfig({ analyzer: null })), ["unknown config field 'analyzer'"]);
  });
});

describe('Tokenizer: bad inputs', () => {
  it('options are checked, naming the option', () => {
    expectError(() => new Tokenizer({ numWords: 0 }), ['Tokenizer', 'numWords must be a positive integer, got 0']);
    expectError(() => new Tokenizer({ numWords: 2.5 }), ['numWords must be a positive integer, got 2.5']);
    expectError(() => new Tokenizer({ numWords: '5' as unknown as number }), ['numWords must be a positive integer']);
    expectError(() => new Tokenizer({ num_words: 5 } as never), ["unknown option 'num_words'", "Keras's num_words is numWords here"]);
    expectError(() => new Tokenizer({ split: '' }), ["split must be a non-empty string, got ''"]);
    expectError(() => new Tokenizer({ filters: 5 as unknown as string }), ['filters must be a string', 'a number']);
    expectError(() => new Tokenizer({ lower: 1 as unknown as boolean }), ['lower must be a boolean']);
    expectError(() => new Tokenizer({ charLevel: 'yes' as unknown as boolean }), ['charLevel must be a boolean']);
    expectError(() => new Tokenizer({ oovToken: 3 as unknown as string }), ['oovToken must be a string or null']);
    expectError(() => new Tokenizer(null as never), ['Tokenizer: options must be an object, got null']);
  });

  it('texts must be an array of strings; a refused fit changes nothing', () => {
    const tok = new Tokenizer();
    expectError(() => tok.fitOnTexts('the cat' as never), ['tokenizer.fitOnTexts', 'got a single string', 'Hint: wrap it']);
    expectError(() => tok.fitOnTexts(undefined as never), ['texts must be an array of strings, got undefined']);
    expectError(() => tok.fitOnTexts(['a', 5] as never), ['texts[1] must be a string', 'a number']);
    expectError(() => tok.fitOnTexts([['a', null]] as never), ['texts[0][1] is null', 'all strings']);
    expect(tok.documentCount).toBe(0);
    expect(tok.wordIndex).toEqual({});
    expectError(() => fit(CLASSIC).textsToSequences([null] as never), ['tokenizer.textsToSequences', 'texts[0] must be a string', 'null']);
    expectError(() => new Tokenizer().tokenize(7 as never), ['tokenizer.tokenize', 'text must be a string']);
  });

  it('an OOV tokenizer that was never fitted refuses to write sequences (Keras would write None)', () => {
    expectError(() => new Tokenizer({ oovToken: '<OOV>' }).textsToSequences(['a']), ['no word index yet', 'fitOnTexts']);
    expect(new Tokenizer().textsToSequences(['a'])).toEqual([[]]);
  });

  it('sequencesToTexts takes arrays of integer indices', () => {
    const tok = fit(CLASSIC);
    expect(tok.sequencesToTexts([Int32Array.from([1, 2])])).toEqual(['the cat']);
    expectError(() => tok.sequencesToTexts('1 2' as never), ['sequences must be an array of arrays']);
    expectError(() => tok.sequencesToTexts(['ab'] as never), ['sequences[0] must be an array of numbers', 'a string']);
    expectError(() => tok.sequencesToTexts([[1, 1.5]]), ['sequences[0][1] is 1.5', 'integers']);
  });
});

describe('padSequences', () => {
  // The examples of tf.keras.preprocessing.sequence.pad_sequences's API docs.
  const docs = [[1], [2, 3], [4, 5, 6]];

  it("Keras's documented examples", () => {
    const rows = (p: { ids: ArrayLike<number>; shape: [number, number] }) =>
      Array.from({ length: p.shape[0] }, (_, n) => Array.from(p.ids).slice(n * p.shape[1], (n + 1) * p.shape[1]));
    expect(rows(padSequences(docs))).toEqual([[0, 0, 1], [0, 2, 3], [4, 5, 6]]);
    expect(rows(padSequences(docs, { value: -1 }))).toEqual([[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]);
    expect(rows(padSequences(docs, { padding: 'post' }))).toEqual([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
    expect(rows(padSequences(docs, { maxlen: 2 }))).toEqual([[0, 1], [2, 3], [5, 6]]);
  });

  it('pre padding (default): ids, shape, lengths, mask', () => {
    const p = padSequences(docs);
    expect(p.ids).toBeInstanceOf(Int32Array);
    expect(p.shape).toEqual([3, 3]);
    expect(Array.from(p.lengths)).toEqual([1, 2, 3]);
    expect(Array.from(p.mask)).toEqual([0, 0, 1, 0, 1, 1, 1, 1, 1]);
  });

  it('post padding: the mask is the first `length` steps, as the runtime`s lengths option reads them', () => {
    const p = padSequences(docs, { padding: 'post', maxlen: 4 });
    expect(p.shape).toEqual([3, 4]);
    expect(Array.from(p.ids)).toEqual([1, 0, 0, 0, 2, 3, 0, 0, 4, 5, 6, 0]);
    expect(Array.from(p.lengths)).toEqual([1, 2, 3]);
    expect(Array.from(p.mask)).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
  });

  it('truncating: pre keeps the end, post keeps the start; with either padding', () => {
    const long = [[1, 2, 3, 4, 5], [6]];
    expect(Array.from(padSequences(long, { maxlen: 3 }).ids)).toEqual([3, 4, 5, 0, 0, 6]);
    expect(Array.from(padSequences(long, { maxlen: 3, truncating: 'post' }).ids)).toEqual([1, 2, 3, 0, 0, 6]);
    const p = padSequences(long, { maxlen: 3, truncating: 'post', padding: 'post' });
    expect(Array.from(p.ids)).toEqual([1, 2, 3, 6, 0, 0]);
    expect(Array.from(p.lengths)).toEqual([3, 1]);
    expect(Array.from(p.mask)).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('the mask is by position: a real token equal to `value` is still marked', () => {
    const p = padSequences([[0, 5]], { maxlen: 3 });
    expect(Array.from(p.ids)).toEqual([0, 0, 5]);
    expect(Array.from(p.mask)).toEqual([0, 1, 1]);
  });

  it('empty sequences are rows of value with length 0; no sequences is (0, 0)', () => {
    const p = padSequences([[], [7]], { value: 9 });
    expect(p.shape).toEqual([2, 1]);
    expect(Array.from(p.ids)).toEqual([9, 7]);
    expect(Array.from(p.lengths)).toEqual([0, 1]);
    expect(Array.from(p.mask)).toEqual([0, 1]);
    expect(padSequences([[], []]).shape).toEqual([2, 0]);
    const none = padSequences([]);
    expect(none.shape).toEqual([0, 0]);
    expect(none.ids.length).toBe(0);
    expect(padSequences([], { maxlen: 4 }).shape).toEqual([0, 4]);
  });

  it("dtype 'float32' gives a Float32Array and takes real values; typed arrays are sequences too", () => {
    const p = padSequences([Float64Array.from([0.5, -1.25]), [3]], { dtype: 'float32', value: 0.25, padding: 'post' });
    expect(p.ids).toBeInstanceOf(Float32Array);
    expect(Array.from(p.ids)).toEqual([0.5, -1.25, 3, 0.25]);
    expect(Array.from(padSequences([Uint16Array.from([4, 5])], { maxlen: 3 }).ids)).toEqual([0, 4, 5]);
  });

  it('chains with the tokenizer', () => {
    const tok = fit(CLASSIC, { oovToken: '<OOV>' });
    const p = padSequences(tok.textsToSequences(['the cat', 'my homework is done']), { maxlen: 3, padding: 'post', truncating: 'post' });
    expect(Array.from(p.ids)).toEqual([2, 3, 0, 9, 10, 1]);
    expect(Array.from(p.lengths)).toEqual([2, 3]);
  });

  it('bad inputs get typed errors naming the argument', () => {
    expectError(() => padSequences(docs, { maxlen: 0 }), ['padSequences', 'maxlen must be a positive integer, got 0']);
    expectError(() => padSequences(docs, { maxlen: 2.5 }), ['maxlen must be a positive integer, got 2.5']);
    expectError(() => padSequences(docs, { maxlen: '3' as unknown as number }), ['maxlen must be a positive integer']);
    expectError(() => padSequences(docs, { padding: 'middle' as never }), ["padding must be 'pre' or 'post', got 'middle'"]);
    expectError(() => padSequences(docs, { truncating: 'both' as never }), ["truncating must be 'pre' or 'post', got 'both'"]);
    expectError(() => padSequences(docs, { dtype: 'int64' as never }), ["dtype must be 'int32' or 'float32', got 'int64'"]);
    expectError(() => padSequences(docs, { maxLen: 3 } as never), ["unknown option 'maxLen'"]);
    expectError(() => padSequences(docs, { value: 0.5 }), ['value is 0.5, not an int32 integer', "dtype: 'float32'"]);
    expectError(() => padSequences(docs, { value: NaN, dtype: 'float32' }), ['value is NaN; expected a finite number']);
    expectError(() => padSequences(Int32Array.from([1, 2]) as never), ['sequences must be an array of sequences', 'Hint: one sequence is [ids]']);
    expectError(() => padSequences([[1], null] as never), ['sequences[1] must be an array of numbers', 'null']);
    expectError(() => padSequences([[1, 'a']] as never), ['sequences[0][1] is a string; expected a finite number']);
    expectError(() => padSequences([[1.5]]), ['sequences[0][0] is 1.5, not an int32 integer']);
    expectError(() => padSequences([[2 ** 31]]), ['sequences[0][0] is 2147483648, not an int32 integer']);
    expectError(() => padSequences([[1e39]], { dtype: 'float32' }), ["outside float32's range"]);
    expectError(() => padSequences([[1]], { maxlen: 2 ** 29 }), ['(N, T) = (1, 536870912)', 'over the limit'], LimitError);
    expectError(() => padSequences(docs, null as never), ['padSequences: options must be an object, got null']);
  });
});
