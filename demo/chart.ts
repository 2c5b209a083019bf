// A small line chart on a <canvas>: one or more series, an auto-scaled y axis
// (linear, or logarithmic with a label per decade), and a legend that wraps
// onto more rows when the lines do not fit on one. Sized to the canvas's CSS width
// and the device pixel ratio, so it stays sharp on phones.
//
// A draw costs one pass over the values and strokes at most two vertices per
// pixel column and line (the column's lowest and highest value), so a line of a
// million points is drawn as cheaply as one of a few hundred, and nothing
// spreads the values into a call's arguments (Math.min(...v) throws past ~1e5).

export interface Line {
  label: string;
  color: string;
  values: readonly number[];
  /** x of values[0] (default 0): lines of different lengths share the x axis. */
  x0?: number;
  /** x of each value (ascending), for a line sampled at uneven steps; overrides x0. */
  xs?: readonly number[];
  /** The value the legend shows (default: the last one; NaN shows none). */
  latest?: number;
  /** Dash pattern in CSS pixels (canvas setLineDash), e.g. [5, 3]; solid by default. */
  dash?: number[];
}

export interface ChartDraw {
  /** Vertices stroked over all lines (at most about 2 per pixel column and line). */
  vertices: number;
  /** The y axis's labels, bottom to top, as drawn. */
  yTicks: string[];
  /** The legend's entries, as drawn. */
  legend: string[];
}

export interface ChartOptions {
  /** Text under the legend, e.g. 'loss per step'. */
  title?: string;
  /** Fixed x range; default: the longest line. */
  xMin?: number;
  xMax?: number;
  /** Shown when there is nothing to draw yet. */
  empty?: string;
  /** A logarithmic y axis: values ≤ 0 are left out (a gap), the labels are powers of ten. */
  logY?: boolean;
  /** Under the x axis, between its end labels. */
  xLabel?: string;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(Math.abs(v) >= 10 ? 1 : 3));

const xOf = (l: Line, i: number) => (l.xs ? l.xs[i] : (l.x0 ?? 0) + i);

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };
/** 10 to the power e as text: 10⁻⁵, 10⁰, 10³. */
export const powerOfTen = (e: number): string => `10${[...String(e)].map((c) => SUPERSCRIPT[c]).join('')}`;

export function drawChart(canvas: HTMLCanvasElement, lines: readonly Line[], opts: ChartOptions = {}): ChartDraw {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 300;
  const cssH = canvas.clientHeight || Number(canvas.getAttribute('height')) || 180;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return { vertices: 0, yTicks: [], legend: [] };
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';

  // values as plotted: log10 of them on a log axis (≤ 0 and non-finite: NaN, a gap)
  const logY = !!opts.logY;
  const tv = (v: number) => (!logY ? v : v > 0 ? Math.log10(v) : NaN);
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lines) {
    for (const raw of l.values) {
      const v = tv(raw);
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    g.fillStyle = '#8a8f98';
    g.textAlign = 'center';
    g.fillText(opts.empty ?? 'no data yet', cssW / 2, cssH / 2);
    return { vertices: 0, yTicks: [], legend: [] };
  }
  // y labels (in plotted units) and what they say
  const ticks: { v: number; text: string }[] = [];
  if (logY) {
    // whole decades around the data, a label every `every` decades (at most about 6 labels)
    lo = Math.floor(lo);
    hi = Math.max(Math.ceil(hi), lo + 1);
    const every = Math.ceil((hi - lo) / 6);
    lo = Math.floor(lo / every) * every;
    hi = Math.ceil(hi / every) * every;
    for (let e = lo; e <= hi; e += every) ticks.push({ v: e, text: powerOfTen(e) });
  } else {
    if (hi - lo < 1e-9) {
      lo -= 0.5;
      hi += 0.5;
    }
    const pad = (hi - lo) * 0.05;
    lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad; // a loss axis does not dip below 0
    hi += pad;
    for (let i = 0; i <= 4; i++) ticks.push({ v: lo + ((hi - lo) * i) / 4, text: fmt(lo + ((hi - lo) * i) / 4) });
  }
  let xMin = opts.xMin ?? Infinity;
  let xMax = opts.xMax ?? -Infinity;
  for (const l of lines) {
    if (l.values.length === 0) continue;
    if (opts.xMin === undefined) xMin = Math.min(xMin, xOf(l, 0));
    if (opts.xMax === undefined) xMax = Math.max(xMax, xOf(l, l.values.length - 1));
  }
  // the legend's rows: entries wrap when the next does not fit
  const left = 48;
  const right = 8;
  const legend: { l: Line; text: string; x: number; row: number }[] = [];
  {
    let lx = left;
    let row = 0;
    for (const l of lines) {
      const latest = l.latest ?? l.values[l.values.length - 1];
      const text = `${l.label}${latest !== undefined && !Number.isNaN(latest) ? ` ${fmt(latest)}` : ''}`;
      const wEntry = 14 + g.measureText(text).width + 14;
      if (lx > left && lx + wEntry - 14 > cssW - right) {
        row++;
        lx = left;
      }
      legend.push({ l, text, x: lx, row });
      lx += wEntry;
    }
  }
  // the title goes right of the last legend row, or on a row of its own when it does not fit there
  let rows = (legend.at(-1)?.row ?? 0) + 1;
  const lastEntry = legend.at(-1);
  const legendEnd = lastEntry ? lastEntry.x + 14 + g.measureText(lastEntry.text).width + 14 : left;
  const titleRow = !opts.title ? -1 : legendEnd + g.measureText(opts.title).width < cssW - right ? rows - 1 : rows++;
  const top = 22 + 14 * (rows - 1);
  const bottom = opts.xLabel ? 18 : 16;
  const w = cssW - left - right;
  const h = cssH - top - bottom;
  const X = (x: number) => left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * w : w / 2);
  const Y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * h;

  // frame, grid and y labels
  g.strokeStyle = '#e3e6ea';
  g.lineWidth = 1;
  g.fillStyle = '#5d636d';
  g.textAlign = 'right';
  for (const { v, text } of ticks) {
    const y = Math.round(Y(v)) + 0.5;
    g.beginPath();
    g.moveTo(left, y);
    g.lineTo(left + w, y);
    g.stroke();
    g.fillText(text, left - 4, y);
  }
  g.textAlign = 'left';
  g.fillText(String(Math.round(xMin)), left, cssH - bottom / 2);
  g.textAlign = 'right';
  g.fillText(String(Math.round(xMax)), left + w, cssH - bottom / 2);
  if (opts.xLabel) {
    g.textAlign = 'center';
    g.fillText(opts.xLabel, left + w / 2, cssH - bottom / 2);
  }

  // lines
  g.save();
  g.beginPath();
  g.rect(left, top, w, h);
  g.clip();
  let vertices = 0;
  for (const l of lines) {
    g.strokeStyle = l.color;
    g.lineWidth = 1.6;
    g.setLineDash(l.dash ?? []);
    g.beginPath();
    let pen = false;
    // the current pixel column: its lowest and highest value, and where each was
    let col = NaN;
    let vLo = 0;
    let vHi = 0;
    let iLo = 0;
    let iHi = 0;
    // a point with no neighbour in its run (between gaps) gets a dot: a lone stroke vertex draws nothing
    let run = 0;
    let runAt: [number, number] = [0, 0];
    const dots: [number, number][] = [];
    const endRun = () => {
      if (run === 1) dots.push(runAt);
      run = 0;
    };
    const vertex = (v: number) => {
      if (pen) g.lineTo(col, Y(v));
      else g.moveTo(col, Y(v));
      pen = true;
      vertices++;
      run++;
      runAt = [col, Y(v)];
    };
    const flush = () => {
      if (Number.isNaN(col)) return;
      vertex(iLo <= iHi ? vLo : vHi); // in the order they came
      if (iLo !== iHi) vertex(iLo <= iHi ? vHi : vLo);
      col = NaN;
    };
    for (let i = 0; i < l.values.length; i++) {
      const v = tv(l.values[i]);
      const x = xOf(l, i);
      if (!Number.isFinite(v) || x < xMin || x > xMax) {
        flush();
        endRun();
        pen = false;
        continue;
      }
      const c = Math.round(X(x));
      if (c !== col) {
        flush();
        col = c;
        vLo = vHi = v;
        iLo = iHi = i;
      } else if (v < vLo) {
        vLo = v;
        iLo = i;
      } else if (v > vHi) {
        vHi = v;
        iHi = i;
      }
    }
    flush();
    endRun();
    g.stroke();
    g.fillStyle = l.color;
    for (const [x, y] of dots) g.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  g.restore();

  // legend: a swatch (dashed like its line) and the label, row by row
  g.textAlign = 'left';
  g.lineWidth = 2;
  for (const e of legend) {
    const y = 9 + 14 * e.row;
    g.strokeStyle = e.l.color;
    g.setLineDash(e.l.dash ?? []);
    g.beginPath();
    g.moveTo(e.x, y);
    g.lineTo(e.x + 11, y);
    g.stroke();
    g.fillStyle = '#2b2f36';
    g.fillText(e.text, e.x + 14, y);
  }
  g.setLineDash([]);
  if (opts.title) {
    g.fillStyle = '#8a8f98';
    g.textAlign = 'right';
    g.fillText(opts.title, left + w, 9 + 14 * titleRow);
  }
  return { vertices, yTicks: ticks.map((t) => t.text), legend: legend.map((e) => e.text) };
}

/**
 * A growing series kept for drawing: the lowest and highest value of each block
 * of `block` consecutive points, and where each was. When there are more than
 * maxBlocks blocks, neighbours merge and the block doubles, so push() costs O(1)
 * (amortised) and line() returns at most 2·maxBlocks values however many points
 * came in: a chart of a long run costs as much to draw as one of a short run.
 */
export class Envelope {
  private block = 1;
  private lo: number[] = [];
  private hi: number[] = [];
  private iLo: number[] = [];
  private iHi: number[] = [];
  /** Points pushed (non-finite ones included: they leave a gap). */
  count = 0;

  constructor(private readonly maxBlocks = 1024) {}

  push(v: number): void {
    const i = this.count++;
    if (!Number.isFinite(v)) return;
    const b = Math.floor(i / this.block);
    while (this.lo.length < b) this.add(NaN, NaN); // blocks with no finite point: gaps
    if (this.lo.length === b) this.add(v, i);
    else if (Number.isNaN(this.lo[b])) this.set(b, v, i, v, i);
    else if (v < this.lo[b]) this.set(b, v, i, this.hi[b], this.iHi[b]);
    else if (v > this.hi[b]) this.set(b, this.lo[b], this.iLo[b], v, i);
    if (this.lo.length > this.maxBlocks) this.merge();
  }

  /** The envelope as a line: per block its low and high in the order they came (a NaN where a block had no finite point). */
  line(): { xs: number[]; values: number[] } {
    const xs: number[] = [];
    const values: number[] = [];
    for (let b = 0; b < this.lo.length; b++) {
      if (Number.isNaN(this.lo[b])) {
        xs.push(b * this.block);
        values.push(NaN);
        continue;
      }
      const loFirst = this.iLo[b] <= this.iHi[b];
      xs.push(loFirst ? this.iLo[b] : this.iHi[b]);
      values.push(loFirst ? this.lo[b] : this.hi[b]);
      if (this.iLo[b] !== this.iHi[b]) {
        xs.push(loFirst ? this.iHi[b] : this.iLo[b]);
        values.push(loFirst ? this.hi[b] : this.lo[b]);
      }
    }
    return { xs, values };
  }

  private add(v: number, i: number): void {
    this.lo.push(v);
    this.hi.push(v);
    this.iLo.push(i);
    this.iHi.push(i);
  }
  private set(b: number, lo: number, iLo: number, hi: number, iHi: number): void {
    this.lo[b] = lo;
    this.iLo[b] = iLo;
    this.hi[b] = hi;
    this.iHi[b] = iHi;
  }
  /** Pairs of blocks become one: the block doubles. */
  private merge(): void {
    const n = Math.ceil(this.lo.length / 2);
    for (let j = 0; j < n; j++) {
      const a = 2 * j;
      const b = a + 1;
      let [lo, iLo, hi, iHi] = [this.lo[a], this.iLo[a], this.hi[a], this.iHi[a]];
      if (b < this.lo.length && !Number.isNaN(this.lo[b])) {
        if (Number.isNaN(lo) || this.lo[b] < lo) [lo, iLo] = [this.lo[b], this.iLo[b]];
        if (Number.isNaN(hi) || this.hi[b] > hi) [hi, iHi] = [this.hi[b], this.iHi[b]];
      }
      this.set(j, lo, iLo, hi, iHi);
    }
    for (const arr of [this.lo, this.hi, this.iLo, this.iHi]) arr.length = n;
    this.block *= 2;
  }
}
