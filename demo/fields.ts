// The limits of every number and text the demo takes, in one table: the page
// (main.ts) sets the inputs' min/max from it and marks a bad field with its
// message before anything is sent; the worker (worker.ts) checks each request
// against it again before it touches a model, so a request that slips past the
// page (or comes from a test) is refused with the same words.

export interface Rule {
  label: string;
  min: number;
  max: number;
  integer: boolean;
  /** What the edge values mean, shown with the range. */
  hint?: string;
}

const int = (label: string, min: number, max: number, hint?: string): Rule => ({ label, min, max, integer: true, hint });
const real = (label: string, min: number, max: number, hint?: string): Rule => ({ label, min, max, integer: false, hint });

const lr = real('Learning rate', 0.0001, 1);
const seed = int('Seed', 0, 2 ** 31 - 1);

/** Per request, the rule of each numeric argument (an absent optional one is not checked). */
export const RULES = {
  trainChar: {
    hidden: int('Hidden size', 1, 512),
    layers: int('Layers', 1, 4),
    seqLen: int('Sequence length', 2, 256),
    lr,
    epochs: int('Epochs', 1, 1000),
    batchSize: int('Batch size', 1, 256),
    seed,
  },
  generate: {
    length: int('Characters', 1, 2000),
    temperature: real('Temperature', 0, 3, '0 always picks the likeliest character'),
    topK: int('Top-k', 0, 256, '0 samples from every character'),
    seed,
  },
  trainSentiment: { hidden: int('Hidden size', 1, 256), lr, epochs: int('Epochs', 1, 2000), seed },
  trainSeries: {
    hidden: int('Hidden size', 1, 256),
    seqLen: int('Window', 2, 200),
    lr,
    epochs: int('Epochs', 1, 2000),
    noise: real('Noise', 0, 2),
    seed,
  },
  gradFlow: {
    seqLen: int('Steps T', 2, 200),
    hidden: int('Hidden size', 1, 64),
    scale: real('Recurrent-weight scale', 0.5, 3),
    forgetBias: real('LSTM forget bias', -5, 5),
    steps: int('Training steps', 0, 200),
    lr: real('Learning rate', 0.0001, 10),
    clipNorm: real('Clip norm', 0.001, 1000),
    seed,
  },
  streamSeries: { steps: int('Steps', 1, 1e9), delayMs: real('Delay (ms)', 0, 10_000), noise: real('Noise', 0, 2) },
} as const satisfies Record<string, Record<string, Rule>>;

/** Training text (characters), prompt and review: longest accepted. */
export const MAX_TEXT = 20_000;
export const MAX_PROMPT = 500;
export const MAX_REVIEW = 1_000;
/** Distinct characters of the training text (the model's vocabulary: its logits are (B·T, vocabulary)). */
export const MAX_VOCAB = 1_000;

/** The training text's problem ('' if none): too short for the sequence length, too long, too many distinct characters. */
export function checkTrainingText(text: unknown, seqLen: number): string {
  const need = Number.isInteger(seqLen) && seqLen > 1 ? seqLen + 1 : 1;
  const m = checkText('Training text', text, need, MAX_TEXT);
  if (m) return need > 1 && m.includes('at least') ? `${m} (sequence length + 1)` : m;
  const distinct = new Set(text as string).size;
  return distinct > MAX_VOCAB ? `Training text has ${distinct} distinct characters; at most ${MAX_VOCAB} are supported.` : '';
}

const show = (v: number) => (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4) ? v.toExponential() : String(v));

/** '' when v keeps the rule, else what is wrong, e.g. 'Window must be at most 200 (got 10000000).' */
export function checkValue(rule: Rule, v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${rule.label} must be a number.`;
  if (rule.integer && !Number.isInteger(v)) return `${rule.label} must be a whole number (got ${show(v)}).`;
  const range = `${show(rule.min)}–${show(rule.max)}${rule.hint ? `; ${rule.hint}` : ''}`;
  if (v < rule.min) return `${rule.label} must be at least ${show(rule.min)} (got ${show(v)}; range ${range}).`;
  if (v > rule.max) return `${rule.label} must be at most ${show(rule.max)} (got ${show(v)}; range ${range}).`;
  return '';
}

/** Arguments a request may leave out (the page has no field for them; tests pass them). */
const OPTIONAL = ['batchSize', 'seed'];

/** Every problem of a request's numeric arguments, one message each; [] when all keep their rules. */
export function checkArgs(rules: Record<string, Rule>, args: object): string[] {
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const v = (args as Record<string, unknown>)[name];
    if (v === undefined && OPTIONAL.includes(name)) continue;
    const m = checkValue(rule, v);
    if (m) problems.push(m);
  }
  return problems;
}

/** Problems of a text argument: not a string, too short, too long. */
export function checkText(label: string, v: unknown, min: number, max: number): string {
  if (typeof v !== 'string') return `${label} must be text.`;
  if (v.length < min) return min <= 1 ? `${label} is empty.` : `${label} has ${v.length} characters; it needs at least ${min}.`;
  if (v.length > max) return `${label} has ${v.length} characters; at most ${max} are accepted.`;
  return '';
}

/** Thrown (and shown) when a request's input is refused before anything runs. */
export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join(' '));
    this.name = 'InputError';
  }
}
