// Dense (nn.Linear / keras Dense): y = act(x · Wᵀ + b) over the last dimension.
import type { Backend } from '../backend';
import { ShapeError, ValueError, assertPositiveInt, fmtShape } from '../errors';
import { submitOps } from '../kernels/common';
import { matmulBiasForward } from '../kernels/matmul';
import { matmulBiasRef } from '../reference/matmul';
import type { ActivationName } from '../reference/math';
import { Tensor } from '../tensor';
import { initDense } from '../weights/init';
import { denseToKeras, kerasToDense, type KerasTensor } from '../weights/keras';
import { toFloat32 } from '../weights/torch';
import type { ArrayLikeTensor } from '../weights/types';
import { checkInput, type Input } from './recurrent';

export interface DenseOptions {
  inputSize: number;
  units: number;
  activation?: ActivationName;
  convention?: 'pytorch' | 'keras';
  seed?: number;
}

const ACTIVATIONS: ActivationName[] = ['none', 'relu', 'sigmoid', 'tanh'];

export class Dense {
  readonly kind = 'Dense';
  readonly inputSize: number;
  readonly units: number;
  readonly activation: ActivationName;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }
  private weight: Float32Array; // (units, inputSize)
  private bias: Float32Array; // (units)
  private gpu: { weight: GPUBuffer; bias: GPUBuffer } | null = null;

  constructor(backend: Backend, opts: DenseOptions) {
    const op = 'Dense';
    assertPositiveInt(op, 'inputSize', opts?.inputSize);
    assertPositiveInt(op, 'units', opts.units);
    const act = opts.activation ?? 'none';
    if (!ACTIVATIONS.includes(act)) throw new ValueError(`Dense: activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(act)}'. Hint: use rt.softmax() after a Dense for softmax.`);
    this.backend = backend;
    this.inputSize = opts.inputSize;
    this.units = opts.units;
    this.activation = act;
    const w = initDense(opts.inputSize, opts.units, opts.seed ?? 0, opts.convention === 'keras' ? 'keras' : 'torch');
    this.weight = w.weight;
    this.bias = w.bias;
    this.upload();
  }

  get paramCount(): number {
    return this.units * this.inputSize + this.units;
  }

  get outputSize(): number {
    return this.units;
  }

  /** nn.Linear state dict: weight (units, inputSize), bias (units). */
  loadTorchStateDict(sd: { weight: ArrayLikeTensor; bias: ArrayLikeTensor }): void {
    const op = 'Dense.loadTorchStateDict';
    const weight = toFloat32(op, 'weight', sd?.weight, [this.units, this.inputSize], '(units, inputSize)');
    const bias = toFloat32(op, 'bias', sd?.bias, [this.units], '(units)');
    this.weight = weight;
    this.bias = bias;
    this.upload();
  }

  torchStateDict(): { weight: { data: Float32Array; shape: number[] }; bias: { data: Float32Array; shape: number[] } } {
    return { weight: { data: this.weight.slice(), shape: [this.units, this.inputSize] }, bias: { data: this.bias.slice(), shape: [this.units] } };
  }

  /** Keras get_weights(): [kernel (inputSize, units), bias (units)]. */
  loadKerasWeights([kernel, bias]: [KerasTensor, KerasTensor]): void {
    const w = kerasToDense(kernel, bias, { inputSize: this.inputSize, units: this.units }, 'Dense.loadKerasWeights');
    this.weight = w.weight;
    this.bias = w.bias;
    this.upload();
  }

  kerasWeights(): { kernel: Float32Array; bias: Float32Array } {
    return denseToKeras({ weight: this.weight, bias: this.bias }, { inputSize: this.inputSize, units: this.units }, 'Dense.kerasWeights');
  }

  /** x is (..., inputSize); returns (..., units). For arrays, `rows` = product of leading dims (inferred). */
  async forward(x: Input, shape?: readonly number[]): Promise<Tensor> {
    const op = 'Dense.forward';
    const inShape = x instanceof Tensor ? x.shape : (shape ?? [x.length / this.inputSize, this.inputSize]);
    if (inShape[inShape.length - 1] !== this.inputSize || !Number.isInteger(inShape[0])) {
      throw new ShapeError(`${op}: x has shape ${fmtShape(inShape)}, expected (..., inputSize) with inputSize = ${this.inputSize}.`);
    }
    checkInput(op, 'x', x, [...inShape], '(..., inputSize)', this.backend);
    const M = inShape.slice(0, -1).reduce((a, b) => a * b, 1);
    const outShape = [...inShape.slice(0, -1), this.units];
    if (this.backend.kind === 'cpu') {
      const data = x instanceof Tensor ? x.cpuData(op) : x;
      return Tensor.fromCpu(matmulBiasRef(data, this.weight, this.bias, M, this.units, this.inputSize, this.activation), outShape);
    }
    const ctx = this.backend.ctx;
    const xb = x instanceof Tensor ? x.gpuBuffer(op) : ctx.createStorage('dense.x', Float32Array.from(x));
    const y = ctx.createStorage('dense.y', M * this.units);
    try {
      await submitOps(ctx, op, [await matmulBiasForward(ctx, { x: xb, w: this.gpu!.weight, bias: this.gpu!.bias, y, M, N: this.units, K: this.inputSize, activation: this.activation })]);
    } catch (e) {
      ctx.destroyBuffer(y);
      throw e;
    } finally {
      if (!(x instanceof Tensor)) ctx.destroyBuffer(xb);
    }
    return Tensor.fromGpu(ctx, y, outShape);
  }

  dispose(): void {
    if (this.gpu && this.backend.kind === 'webgpu') {
      this.backend.ctx.destroyBuffer(this.gpu.weight);
      this.backend.ctx.destroyBuffer(this.gpu.bias);
    }
    this.gpu = null;
  }

  private upload(): void {
    if (this.backend.kind !== 'webgpu') return;
    const ctx = this.backend.ctx;
    const fresh = { weight: ctx.createStorage('dense.weight', this.weight), bias: ctx.createStorage('dense.bias', this.bias) };
    this.dispose();
    this.gpu = fresh;
  }
}
