// The source layout: no import cycles in src/ (type-only imports count too),
// and the data path's floors import only downwards: nothing below the public
// runtime imports it, and validation has one home (src/validate.ts).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module of src/ with the src/ modules it imports (static, dynamic-free, type-only included). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\b[^;]*?from\s+'(\.[^']+)'/gms)) {
      if (m[1].includes('?raw') || m[1].endsWith('.wgsl')) continue;
      const target = resolve(dirname(file), m[1]) + '.ts';
      if (target.startsWith(root)) deps.push(relative(root, target));
    }
    g.set(relative(root, file), deps);
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return found;
}

describe('source layout', () => {
  const g = graph();

  it('reads the import graph (sanity: the public entry imports the runtime)', () => {
    expect(g.get('index.ts')).toContain('runtime.ts');
    expect(g.size).toBeGreaterThan(30);
  });

  it('has no import cycle', () => {
    expect(cycles(g).map((c) => c.join(' → '))).toEqual([]);
  });

  it('only the public entry imports the runtime', () => {
    const importers = [...g].filter(([, deps]) => deps.includes('runtime.ts')).map(([f]) => f);
    expect(importers).toEqual(['index.ts']);
  });

  it('validation helpers live in validate.ts, not in a layer', () => {
    for (const [file, deps] of g) {
      if (!file.startsWith('layers/')) {
        const text = readFileSync(join(root, file), 'utf8');
        expect(/import\s*{[^}]*\bcheckInput\b[^}]*}\s*from\s*'[^']*layers\//.test(text), `${file} imports checkInput from a layer`).toBe(false);
      }
      expect(deps.filter((d) => d === 'layers/recurrent.ts' && file.startsWith('training/losses'))).toEqual([]);
    }
  });

  it('the training pieces have a folder of their own', () => {
    for (const f of ['training/fit.ts', 'training/losses.ts', 'training/optim.ts', 'training/params.ts']) expect(g.has(f), f).toBe(true);
  });
});
