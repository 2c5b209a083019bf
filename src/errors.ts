// Typed errors a caller can catch. Every message says the operation, what was
// expected, what arrived and, where useful, a hint.

// Each class spells its name as a string: a minifier renames classes (the built
// dist/ would otherwise report err.name 't'), and callers match on name. It is
// set on the prototype, so it is already there when the stack trace is taken.
export class RnnError extends Error {
  static {
    this.prototype.name = 'RnnError';
  }
}

/** An argument has the wrong shape or length. */
export class ShapeError extends RnnError {
  static {
    this.prototype.name = 'ShapeError';
  }
}

/** An argument has a forbidden value: NaN/Inf, a length out of range, an unknown option. */
export class ValueError extends RnnError {
  static {
    this.prototype.name = 'ValueError';
  }
}

/** Weights are missing, unexpected or mis-shaped. */
export class WeightError extends RnnError {
  static {
    this.prototype.name = 'WeightError';
  }
}

/** No WebGPU adapter (or no navigator.gpu) where the caller asked for the GPU backend. */
export class WebGPUUnavailableError extends RnnError {
  static {
    this.prototype.name = 'WebGPUUnavailableError';
  }
}

/** The GPU device was lost; objects created on it cannot be used any more. */
export class DeviceLostError extends RnnError {
  static {
    this.prototype.name = 'DeviceLostError';
  }
}

/** A buffer or dispatch would exceed the adapter's limits. */
export class LimitError extends RnnError {
  static {
    this.prototype.name = 'LimitError';
  }
}

/** A WGSL kernel failed to compile or a dispatch failed validation. */
export class KernelError extends RnnError {
  static {
    this.prototype.name = 'KernelError';
  }
}

/** An object was used after dispose(). */
export class DisposedError extends RnnError {
  static {
    this.prototype.name = 'DisposedError';
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

/** Checks that `data.length` equals the product of `shape`; names the argument. */
export function assertLength(
  op: string,
  arg: string,
  data: ArrayLike<number>,
  shape: readonly number[],
  names: string,
  hint?: string,
): void {
  const want = shape.reduce((a, b) => a * b, 1);
  if (data.length !== want) {
    throw new ShapeError(
      `${op}: ${arg} has ${data.length} elements, expected ${names} = ${fmtShape(shape)} = ${want}.` +
        (hint ? ` Hint: ${hint}` : ''),
    );
  }
}

/** Rejects NaN and +-Inf; reports the first bad index. */
export function assertFinite(op: string, arg: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ValueError(`${op}: ${arg}[${i}] is ${data[i]}; all values must be finite (no NaN or Inf).`);
    }
  }
}

export function assertPositiveInt(op: string, arg: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ValueError(`${op}: ${arg} must be a positive integer, got ${String(v)}.`);
  }
}
