// A toy translation task for the seq2seq tests: English number words → digits,
// e.g. "three hundred forty two" → "3 4 2", for 0 … 999.
export const WORDS = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
  'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety', 'hundred',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** Source ids: 0 is padding, word w is WORDS.indexOf(w) + 1. */
export const SRC_VOCAB = WORDS.length + 1;
/** Target ids: 0 unused, 1 start, 2 end, digit d is d + 3. */
export const TGT_VOCAB = 13;
export const START = 1;
export const END = 2;

export function spell(n: number): string[] {
  const out: string[] = [];
  const h = Math.floor(n / 100);
  const r = n % 100;
  if (h) out.push(WORDS[h], 'hundred');
  if (r >= 20) {
    out.push(TENS[Math.floor(r / 10)]);
    if (r % 10) out.push(WORDS[r % 10]);
  } else if (r || !h) out.push(WORDS[r]);
  return out;
}

export function sourceIds(n: number): number[] {
  return spell(n).map((w) => WORDS.indexOf(w) + 1);
}

export function targetIds(n: number): number[] {
  return String(n).split('').map((d) => Number(d) + 3);
}
