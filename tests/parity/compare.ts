// The one comparison helper: |got − ref| ≤ atol + rtol·|ref| elementwise, with the
// first few mismatches reported by named index, e.g.
//   lstm.h[t=3,b=0,j=17]: ref 0.4123 vs got 0.4119
export interface Comparison {
  name: string;
  ok: boolean;
  maxAbs: number;
  detail: string;
}

export function compare(
  name: string,
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  tol: { atol: number; rtol?: number },
  shape?: { dims: number[]; names: string[] },
): Comparison {
  if (ref.length !== got.length) {
    return { name, ok: false, maxAbs: Infinity, detail: `${name}: length ${got.length}, expected ${ref.length}` };
  }
  const rtol = tol.rtol ?? 0;
  let maxAbs = 0;
  const bad: string[] = [];
  let nBad = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? NaN : Math.max(maxAbs, d);
    if (!(d <= tol.atol + rtol * Math.abs(ref[i]))) {
      nBad++;
      if (bad.length < 5) bad.push(`${name}[${indexName(i, shape)}]: ref ${ref[i]} vs got ${got[i]}`);
    }
  }
  const detail = nBad ? `${nBad} mismatches (atol ${tol.atol}, rtol ${rtol}); first: ${bad.join('; ')}` : `max abs ${maxAbs.toExponential(2)}`;
  return { name, ok: nBad === 0, maxAbs, detail };
}

function indexName(i: number, shape?: { dims: number[]; names: string[] }): string {
  if (!shape) return String(i);
  const parts: string[] = [];
  for (let k = shape.dims.length - 1; k >= 0; k--) {
    parts.unshift(`${shape.names[k]}=${i % shape.dims[k]}`);
    i = Math.floor(i / shape.dims[k]);
  }
  return parts.join(',');
}
