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
    const text = `${l.label}${l.values.length ? ` ${fmt(l.values[l.values.length - 1])}` : ''}`;
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
