// A small line chart on a <canvas>: one or more series, an auto-scaled y axis
// with its min and max labelled, and a legend. Sized to the canvas's CSS width
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
  /** The value the legend shows (default: the last one). */
  latest?: number;
}

export interface ChartDraw {
  /** Vertices stroked over all lines (at most about 2 per pixel column and line). */
  vertices: number;
}

export interface ChartOptions {
  /** Text under the legend, e.g. 'loss per step'. */
  title?: string;
  /** Fixed x range; default: the longest line. */
  xMin?: number;
  xMax?: number;
  /** Shown when there is nothing to draw yet. */
  empty?: string;
}

const fmt = (v: number) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toFixed(Math.abs(v) >= 10 ? 1 : 3));

const xOf = (l: Line, i: number) => (l.xs ? l.xs[i] : (l.x0 ?? 0) + i);

export function drawChart(canvas: HTMLCanvasElement, lines: readonly Line[], opts: ChartOptions = {}): ChartDraw {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 300;
  const cssH = canvas.clientHeight || Number(canvas.getAttribute('height')) || 180;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return { vertices: 0 };
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';

  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lines) {
    for (const v of l.values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    g.fillStyle = '#8a8f98';
    g.textAlign = 'center';
    g.fillText(opts.empty ?? 'no data yet', cssW / 2, cssH / 2);
    return { vertices: 0 };
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad; // a loss axis does not dip below 0
  hi += pad;
  let xMin = opts.xMin ?? Infinity;
  let xMax = opts.xMax ?? -Infinity;
  for (const l of lines) {
    if (l.values.length === 0) continue;
    if (opts.xMin === undefined) xMin = Math.min(xMin, xOf(l, 0));
    if (opts.xMax === undefined) xMax = Math.max(xMax, xOf(l, l.values.length - 1));
  }
  const left = 48;
  const right = 8;
  const top = 22;
  const bottom = 16;
  const w = cssW - left - right;
  const h = cssH - top - bottom;
  const X = (x: number) => left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * w : w / 2);
  const Y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * h;

  // frame, grid and y labels
  g.strokeStyle = '#e3e6ea';
  g.lineWidth = 1;
  g.fillStyle = '#5d636d';
  g.textAlign = 'right';
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    const y = Math.round(Y(v)) + 0.5;
    g.beginPath();
    g.moveTo(left, y);
    g.lineTo(left + w, y);
    g.stroke();
    g.fillText(fmt(v), left - 4, y);
  }
  g.textAlign = 'left';
  g.fillText(String(Math.round(xMin)), left, cssH - bottom / 2);
  g.textAlign = 'right';
  g.fillText(String(Math.round(xMax)), left + w, cssH - bottom / 2);

  // lines
  g.save();
  g.beginPath();
  g.rect(left, top, w, h);
  g.clip();
  let vertices = 0;
  for (const l of lines) {
    g.strokeStyle = l.color;
    g.lineWidth = 1.6;
    g.beginPath();
    let pen = false;
    // the current pixel column: its lowest and highest value, and where each was
    let col = NaN;
    let vLo = 0;
    let vHi = 0;
    let iLo = 0;
    let iHi = 0;
    const vertex = (v: number) => {
      if (pen) g.lineTo(col, Y(v));
      else g.moveTo(col, Y(v));
      pen = true;
      vertices++;
    };
    const flush = () => {
      if (Number.isNaN(col)) return;
      vertex(iLo <= iHi ? vLo : vHi); // in the order they came
      if (iLo !== iHi) vertex(iLo <= iHi ? vHi : vLo);
      col = NaN;
    };
    for (let i = 0; i < l.values.length; i++) {
      const v = l.values[i];
      const x = xOf(l, i);
      if (!Number.isFinite(v) || x < xMin || x > xMax) {
        flush();
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
    g.stroke();
  }
  g.restore();

  // legend
  let lx = left;
  g.textAlign = 'left';
  for (const l of lines) {
    g.fillStyle = l.color;
    g.fillRect(lx, 7, 10, 3);
    g.fillStyle = '#2b2f36';
    const latest = l.latest ?? l.values[l.values.length - 1];
    const text = `${l.label}${latest !== undefined ? ` ${fmt(latest)}` : ''}`;
    g.fillText(text, lx + 14, 9);
    lx += 14 + g.measureText(text).width + 14;
  }
  if (opts.title && lx + g.measureText(opts.title).width < left + w) {
    g.fillStyle = '#8a8f98';
    g.textAlign = 'right';
    g.fillText(opts.title, left + w, 9);
  }
  return { vertices };
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
