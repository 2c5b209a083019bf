// Luong dot-product attention (Luong et al. 2015, "dot" score) as a weightless
// layer: decoder outputs q (B, T, H) attend over encoder outputs e (B, S, H), the
// source steps past each sample's length masked out, and the result is
// [context; q] (B, T, 2H), the input of the attentional layer
//   h̃ = tanh(W_c [context; q] + b_c)
// (a Dense with tanh after this, owned by the model that uses it). All T decoder
// steps attend at once (teacher forcing: the decoder input is the previous target
// token, not the previous h̃ — no input feeding), in one GPU dispatch.
import type { Backend } from '../backend';
import { ShapeError, ValueError, fmtShape } from '../errors';
import type { GpuContext } from '../gpu/context';
import { attentionBackward, attentionForward } from '../kernels/attention';
import { submitOps } from '../kernels/common';
import { attentionBackwardRef, attentionForwardRef } from '../reference/attention';
import { Tensor } from '../tensor';
import { checkElements, checkInput, checkLengths, checkOwner, describe } from '../validate';

/** What Attention.record() keeps for backward(): copies of q and e, the weights a and the output. */
export interface AttentionTape {
  q: Tensor; // (B, T, H)
  e: Tensor; // (B, S, H)
  a: Tensor; // (B, T, S)
  out: Tensor; // (B, T, 2H)
  lengths: Uint32Array; // (B)
  used: boolean;
}

export interface AttentionOutput {
  /** [context; q] (B, T, 2H). */
  output: Tensor;
  /** The attention weights a (B, T, S); 0 on padded source steps. */
  weights: Tensor;
}

export class Attention {
  readonly kind = 'Attention';
  readonly paramCount = 0;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }

  /** @internal made by the models that use it (Seq2Seq) */
  static create(backend: Backend): Attention {
    return new Attention(backend);
  }

  private constructor(backend: Backend) {
    this.backend = backend;
  }

  /** q (B, T, H), e (B, S, H), lengths (B) in [1, S] (absent: all S). Both results are the caller's. */
  async forward(q: Tensor, e: Tensor, lengths?: ArrayLike<number>): Promise<AttentionOutput> {
    const op = 'Attention.forward';
    const { B, T, S, H, len } = this.check(op, q, e, lengths);
    if (this.backend.kind === 'cpu') {
      const r = attentionForwardRef(q.cpuData(op), e.cpuData(op), len, B, T, S, H);
      return { output: Tensor.fromCpu(r.out, [B, T, 2 * H]), weights: Tensor.fromCpu(r.a, [B, T, S]) };
    }
    const ctx = this.backend.ctx;
    const lenBuf = ctx.createStorage('attention.len', len);
    const made: GPUBuffer[] = [];
    try {
      const a = ctx.createStorage('attention.a', B * T * S);
      made.push(a);
      const out = ctx.createStorage('attention.out', B * T * 2 * H);
      made.push(out);
      await submitOps(ctx, op, [await attentionForward(ctx, { B, T, S, H, q: q.gpuBuffer(op), e: e.gpuBuffer(op), len: lenBuf, a, out })]);
      return { output: Tensor.fromGpu(ctx, out, [B, T, 2 * H]), weights: Tensor.fromGpu(ctx, a, [B, T, S]) };
    } catch (err) {
      for (const b of made) ctx.destroyBuffer(b);
      throw err;
    } finally {
      ctx.destroyBuffer(lenBuf);
    }
  }

  /** forward() that also returns the tape backward() needs (owned by the caller until backward consumes it). */
  async record(q: Tensor, e: Tensor, lengths?: ArrayLike<number>): Promise<{ output: Tensor; tape: AttentionTape }> {
    const op = 'Attention.record';
    const { len } = this.check(op, q, e, lengths);
    const { output, weights } = await this.forward(q, e, len);
    const kept: Tensor[] = [weights];
    try {
      const tq = await copyOf(this.backend, q, op);
      kept.push(tq);
      const te = await copyOf(this.backend, e, op);
      kept.push(te);
      const to = await copyOf(this.backend, output, op);
      kept.push(to);
      return { output, tape: { q: tq, e: te, a: weights, out: to, lengths: len, used: false } };
    } catch (err) {
      output.dispose();
      for (const t of kept) t.dispose();
      throw err;
    }
  }

  /** From ∂L/∂output (B, T, 2H): ∂L/∂q (B, T, H) and ∂L/∂e (B, S, H), the caller's. Frees the tape. */
  async backward(tape: AttentionTape, dOutput: Tensor): Promise<{ dq: Tensor; de: Tensor }> {
    const op = 'Attention.backward';
    if (tape === null || typeof tape !== 'object' || !(tape.q instanceof Tensor)) throw new ValueError(`${op}: tape must come from this layer's record(), got ${describe(tape)}.`);
    if (tape.used) throw new ValueError(`${op}: this tape was already used; record a new forward pass.`);
    const [B, T, H] = tape.q.shape;
    const S = tape.e.shape[1];
    checkInput(op, 'dOutput', dOutput, [B, T, 2 * H], '(B, T, 2H)', this.backend);
    tape.used = true;
    try {
      if (this.backend.kind === 'cpu') {
        const r = attentionBackwardRef(dOutput.cpuData(op), tape.q.cpuData(op), tape.e.cpuData(op), tape.a.cpuData(op), tape.lengths, B, T, S, H);
        return { dq: Tensor.fromCpu(r.dq, [B, T, H]), de: Tensor.fromCpu(r.de, [B, S, H]) };
      }
      const ctx = this.backend.ctx;
      const lenBuf = ctx.createStorage('attention.len', tape.lengths);
      const made: GPUBuffer[] = [];
      try {
        const dq = ctx.createStorage('attention.dq', B * T * H);
        made.push(dq);
        const de = ctx.createStorage('attention.de', B * S * H);
        made.push(de);
        await submitOps(ctx, op, [
          await attentionBackward(ctx, {
            B, T, S, H,
            dout: dOutput.gpuBuffer(op), q: tape.q.gpuBuffer(op), e: tape.e.gpuBuffer(op), a: tape.a.gpuBuffer(op), out: tape.out.gpuBuffer(op), len: lenBuf, dq, de,
          }),
        ]);
        return { dq: Tensor.fromGpu(ctx, dq, [B, T, H]), de: Tensor.fromGpu(ctx, de, [B, S, H]) };
      } catch (err) {
        for (const b of made) ctx.destroyBuffer(b);
        throw err;
      } finally {
        ctx.destroyBuffer(lenBuf);
      }
    } finally {
      disposeAttentionTape(tape);
    }
  }

  private check(op: string, q: Tensor, e: Tensor, lengths: ArrayLike<number> | undefined) {
    for (const [arg, t, names] of [['q', q, '(B, T, H)'], ['e', e, '(B, S, H)']] as const) {
      if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${arg} must be a Tensor ${names} of this runtime, got ${describe(t)}.`);
      if (t.shape.length !== 3) throw new ShapeError(`${op}: ${arg} has shape ${fmtShape(t.shape)}, expected ${names}.`);
      checkOwner(op, arg, t, this.backend);
    }
    const [B, T, H] = q.shape;
    const S = e.shape[1];
    if (e.shape[0] !== B || e.shape[2] !== H) {
      throw new ShapeError(`${op}: e has shape ${fmtShape(e.shape)}, expected (B, S, H) = (${B}, S, ${H}) to match q ${fmtShape(q.shape)}. Hint: the decoder's hiddenSize must equal the encoder's output size (D·H).`);
    }
    checkElements(op, `the weights (B, T, S) = (${B}, ${T}, ${S})`, B * T * S, this.backend);
    checkElements(op, `the output (B, T, 2H) = (${B}, ${T}, ${2 * H})`, B * T * 2 * H, this.backend);
    return { B, T, S, H, len: checkLengths(op, lengths, B, S) };
  }

  dispose(): void {}
}

/** Frees a tape without a backward pass. */
export function disposeAttentionTape(tape: AttentionTape): void {
  tape.used = true;
  for (const t of [tape.q, tape.e, tape.a, tape.out]) t.dispose();
}

/** A copy of t on its backend (the caller owns it). */
async function copyOf(backend: Backend, t: Tensor, op: string): Promise<Tensor> {
  if (backend.kind === 'cpu') return Tensor.fromCpu(t.cpuData(op).slice(), t.shape);
  const ctx: GpuContext = backend.ctx;
  const n = t.size;
  const buf = ctx.createStorage('attention.tape', n);
  try {
    await ctx.submit(op, (enc) => enc.copyBufferToBuffer(t.gpuBuffer(op), 0, buf, 0, n * 4));
  } catch (err) {
    ctx.destroyBuffer(buf);
    throw err;
  }
  return Tensor.fromGpu(ctx, buf, t.shape);
}
