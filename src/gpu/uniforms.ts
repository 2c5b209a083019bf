// The one place that knows WGSL uniform layout. Kernels declare their uniform
// struct as an ordered list of 4-byte scalar fields, and the same list is used
// to pack values, so the TypeScript side cannot drift from the WGSL struct.
// (All fields are u32/i32/f32: each takes 4 bytes at offset 4·index; the struct
// size rounds up to 16 bytes, WGSL's alignment for a uniform struct.)

export type ScalarType = 'u32' | 'i32' | 'f32';
export type UniformLayout = readonly (readonly [name: string, type: ScalarType])[];
export type UniformValues<L extends UniformLayout> = { [K in L[number][0]]: number };

export function uniformSize(layout: UniformLayout): number {
  return Math.ceil((layout.length * 4) / 16) * 16;
}

/** Packs `values` into `target` at byte offset `offset` following `layout`. */
export function packUniforms<L extends UniformLayout>(
  layout: L,
  values: UniformValues<L>,
  target: ArrayBuffer = new ArrayBuffer(uniformSize(layout)),
  offset = 0,
): ArrayBuffer {
  const view = new DataView(target, offset, uniformSize(layout));
  layout.forEach(([name, type], i) => {
    const v = (values as Record<string, number>)[name];
    if (v === undefined) throw new Error(`packUniforms: missing field '${name}'`);
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'u32') view.setUint32(i * 4, v, true);
    else view.setInt32(i * 4, v, true);
  });
  return target;
}
