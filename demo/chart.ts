// A small line chart on a <canvas>: one or more series, an auto-scaled y axis
// with its min and max labelled, and a legend. Sized to the canvas's CSS width
// and the device pixel ratio, so it stays sharp on phones.

export interface Line {
  label: string;
  color: string;
  values: readonly number[];
  /** x of values[0] (default 0): lines of different lengths share the x axis. */
  x0?: number;
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

export function drawChart(canvas: HTMLCanvasElement, lines: readonly Line[], opts: ChartOptions = {}): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 300;
  const cssH = canvas.clientHeight || Number(canvas.getAttribute('height')) || 180;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';

  const finite = lines.flatMap((l) => l.values.filter(Number.isFinite));
  if (finite.length === 0) {
    g.fillStyle = '#8a8f98';
    g.textAlign = 'center';
    g.fillText(opts.empty ?? 'no data yet', cssW / 2, cssH / 2);
    return;
  }
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad; // a loss axis does not dip below 0
  hi += pad;
  const xMin = opts.xMin ?? Math.min(...lines.map((l) => l.x0 ?? 0));
  const xMax = opts.xMax ?? Math.max(...lines.map((l) => (l.x0 ?? 0) + l.values.length - 1));
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
  for (const l of lines) {
    g.strokeStyle = l.color;
    g.lineWidth = 1.6;
    g.beginPath();
    let pen = false;
    l.values.forEach((v, i) => {
      const x = (l.x0 ?? 0) + i;
      if (!Number.isFinite(v) || x < xMin || x > xMax) {
        pen = false;
        return;
      }
      if (pen) g.lineTo(X(x), Y(v));
      else g.moveTo(X(x), Y(v));
      pen = true;
    });
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
}
