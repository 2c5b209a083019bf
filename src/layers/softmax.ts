// Softmax over the last dimension.
import type { Backend } from '../backend';
import { ShapeError, fmtShape } from '../errors';
import { submitToNew } from '../kernels/common';
import { softmaxForward } from '../kernels/heads';
import { softmaxRef } from '../reference/heads';
import { Tensor, gpuInput, type Input } from '../tensor';
import { checkInput } from '../validate';

export class Softmax {
  readonly kind = 'Softmax';
  readonly paramCount = 0;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }

  /** @internal use rt.softmax() */
  static create(backend: Backend): Softmax {
    return new Softmax(backend);
  }

  private constructor(backend: Backend) {
    this.backend = backend;
  }

  /** x is (..., C); for arrays pass `shape`. */
  async forward(x: Input, shape?: readonly number[]): Promise<Tensor> {
    const op = 'Softmax.forward';
    const s = x instanceof Tensor ? x.shape : shape;
    if (!s || s.length < 1) throw new ShapeError(`${op}: pass the shape (..., C) of x.`);
    checkInput(op, 'x', x, [...s], fmtShape(s), this.backend);
    const C = s[s.length - 1];
    const R = s.reduce((a, b) => a * b, 1) / C;
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(softmaxRef(x instanceof Tensor ? x.cpuData(op) : x, R, C), s);
    const ctx = this.backend.ctx;
    const temps: GPUBuffer[] = [];
    const xb = gpuInput(ctx, op, x, 'softmax.x', temps);
    const y = await submitToNew(ctx, op, 'softmax.y', R * C, temps, (y) => softmaxForward(ctx, { x: xb, y, R, C }));
    return Tensor.fromGpu(ctx, y, s);
  }

  dispose(): void {}
}
