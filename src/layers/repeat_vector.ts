// RepeatVector (keras.layers.RepeatVector): a feature vector fed to each of n
// steps, (B, F) → (B, n, F); the gradient sums over the steps. No parameters.
import type { Backend } from '../backend';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { submitToNew } from '../kernels/common';
import { repeatBackward, repeatForward } from '../kernels/repeat';
import { repeatVectorBackwardRef, repeatVectorRef } from '../reference/heads';
import { Tensor, gpuInput, type Input } from '../tensor';
import { assertPositiveInt, checkElements, checkInput, describe } from '../validate';

/** What RepeatVector.record() keeps for backward(): the input's shape (B, F). */
export interface RepeatVectorTape {
  B: number;
  F: number;
  used: boolean;
}

export class RepeatVector {
  readonly kind = 'RepeatVector';
  readonly paramCount = 0;
  /** Steps of the output. */
  readonly n: number;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }

  /** @internal use rt.repeatVector(n) */
  static create(backend: Backend, n: number): RepeatVector {
    return new RepeatVector(backend, n);
  }

  private constructor(backend: Backend, n: number) {
    assertPositiveInt('RepeatVector', 'n', n);
    this.backend = backend;
    this.n = n;
  }

  /** x is (B, F), a tensor or an array with `shape`; returns (B, n, F) (caller owns it). */
  async forward(x: Input, shape?: readonly number[]): Promise<Tensor> {
    const op = 'RepeatVector.forward';
    const [B, F] = this.inputShape(op, x, shape);
    checkElements(op, `the output (B, n, F) = (${B}, ${this.n}, ${F})`, B * this.n * F, this.backend);
    const outShape = [B, this.n, F];
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(repeatVectorRef(x instanceof Tensor ? x.cpuData(op) : x, B, this.n, F), outShape);
    const ctx = this.backend.ctx;
    const temps: GPUBuffer[] = [];
    const xb = gpuInput(ctx, op, x, 'repeat.x', temps);
    const y = await submitToNew(ctx, op, 'repeat.y', B * this.n * F, temps, (y) => repeatForward(ctx, { x: xb, y, B, n: this.n, F }));
    return Tensor.fromGpu(ctx, y, outShape);
  }

  /** forward() that also returns the tape backward() needs (only the shape: nothing to free). */
  async record(x: Input, shape?: readonly number[]): Promise<{ output: Tensor; tape: RepeatVectorTape }> {
    const output = await this.forward(x, shape);
    return { output, tape: { B: output.shape[0], F: output.shape[2], used: false } };
  }

  /** ∂L/∂x (B, F) = Σ_t ∂L/∂y (B, n, F) over the steps (caller owns it). */
  async backward(tape: RepeatVectorTape, dOutput: Input): Promise<Tensor> {
    const op = 'RepeatVector.backward';
    if (tape === null || typeof tape !== 'object' || !Number.isInteger(tape.B) || !Number.isInteger(tape.F)) {
      throw new ValueError(`${op}: tape must come from this layer's record(), got ${describe(tape)}.`);
    }
    if (tape.used) throw new ValueError(`${op}: this tape was already used; record a new forward pass.`);
    const { B, F } = tape;
    const n = this.n;
    checkInput(op, 'dOutput', dOutput, [B, n, F], '(B, n, F)', this.backend);
    tape.used = true;
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(repeatVectorBackwardRef(dOutput instanceof Tensor ? dOutput.cpuData(op) : dOutput, B, n, F), [B, F]);
    const ctx = this.backend.ctx;
    const temps: GPUBuffer[] = [];
    const dy = gpuInput(ctx, op, dOutput, 'repeat.dy', temps);
    const dx = await submitToNew(ctx, op, 'repeat.dx', B * F, temps, (dx) => repeatBackward(ctx, { dy, dx, B, n, F }));
    return Tensor.fromGpu(ctx, dx, [B, F]);
  }

  /** (B, F) of x, checked: a tensor of rank 2, or an array with its shape. */
  private inputShape(op: string, x: Input, shape?: readonly number[]): [number, number] {
    const s = x instanceof Tensor ? x.shape : shape;
    const hint = 'RepeatVector takes one feature vector per sample, (B, F); for an array pass its shape [B, F].';
    if (!s) throw new ShapeError(`${op}: pass the shape (B, F) of x. Hint: ${hint}`);
    if (!Array.isArray(s) && !(x instanceof Tensor)) throw new ShapeError(`${op}: shape must be [B, F], got ${describe(s)}.`);
    if (s.length !== 2 || !s.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ShapeError(`${op}: x has shape ${Array.isArray(s) || x instanceof Tensor ? fmtShape(s) : describe(s)}, expected (B, F). Hint: ${hint}`);
    }
    checkInput(op, 'x', x, [...s], '(B, F)', this.backend);
    return [s[0], s[1]];
  }

  dispose(): void {}
}
