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
