// JSON as Python's json module writes and reads it, for Keras's tokenizer files.
//
// Keras's `tokenizer.to_json()` is `json.dumps` with its defaults: separators
// ', ' and ': ', and ensure_ascii, so every character outside ' '…'~' is
// written as \uXXXX (lowercase hex, UTF-16 code units: an astral character is
// a surrogate pair, DEL is \u007f), except the short escapes \" \\ \n \r \t
// \b \f. JSON.stringify differs on all of those, so the writer is here.
//
// The reader keeps key order: a JS object puts integer-like keys ('0', '10')
// first, in ascending order, whatever order the file has, and Keras's word
// counts ('1', '2024' as words) and index maps need the file's order to be
// written back unchanged. Only what the tokenizer format holds is read: a flat
// object whose values are strings, numbers, booleans or null. A key given twice
// keeps its first position and its last value, as Python's dict does.
import { ValueError } from '../errors';

/** A value of a flat object: what the tokenizer's inner JSON strings hold. */
export type FlatValue = string | number | boolean | null;

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A string literal exactly as Python's json.dumps (ensure_ascii=True) writes it. */
export function pyString(s: string): string {
  let out = '"';
  let run = 0; // start of the current run of characters written as they are
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(run, i);
    out += SHORT_ESCAPES[s[i]] ?? '\\u' + c.toString(16).padStart(4, '0');
    run = i + 1;
  }
  return out + s.slice(run) + '"';
}

/** A scalar as json.dumps writes it (the tokenizer's numbers are integers). */
export function pyValue(v: FlatValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return pyString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new ValueError(`pyjson: cannot write ${v} as JSON.`);
  return String(v);
}

/**
 * An object as json.dumps writes it: `{"k": v, "k2": v2}`, keys in the given
 * order (integer keys as their decimal text, as Python's int keys are). Values
 * are scalars, or `{ raw }` for text that is already JSON (a nested object).
 */
export function pyObject(entries: Iterable<readonly [string | number, FlatValue | { raw: string }]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) {
    const text = v !== null && typeof v === 'object' ? v.raw : pyValue(v);
    parts.push(`${pyString(String(k))}: ${text}`);
  }
  return `{${parts.join(', ')}}`;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /true|false|null/y;

/**
 * Reads a flat JSON object into its entries, in the file's order. Throws a
 * ValueError naming `what` (the field being read) and the character offset.
 */
export function parseFlatObject(op: string, what: string, text: string): [string, FlatValue][] {
  let i = 0;
  const fail = (expected: string): never => {
    const near = JSON.stringify(text.slice(i, i + 12));
    throw new ValueError(`${op}: ${what} is not a flat JSON object: expected ${expected} at character ${i}, found ${i < text.length ? near : 'the end'}.`);
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const string = (): string => {
    if (text[i] !== '"') fail('a string');
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) {
      i = start;
      fail('a closed string');
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('a valid string literal');
    }
  };
  const value = (): FlatValue => {
    if (text[i] === '"') return string();
    for (const re of [NUMBER, WORD]) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m) {
        i += m[0].length;
        return JSON.parse(m[0]) as FlatValue;
      }
    }
    return fail('a string, number, true, false or null');
  };

  const entries: [string, FlatValue][] = [];
  space();
  if (text[i] !== '{') fail("'{'");
  i++;
  space();
  if (text[i] === '}') i++;
  else {
    for (;;) {
      space();
      const key = string();
      space();
      if (text[i] !== ':') fail("':'");
      i++;
      space();
      entries.push([key, value()]);
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        break;
      }
      fail("',' or '}'");
    }
  }
  space();
  if (i !== text.length) fail('the end of the object');
  return entries;
}
