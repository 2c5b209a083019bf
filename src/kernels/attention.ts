// Luong dot-product attention (teacher forcing: all decoder steps in one dispatch),
// forward and backward. Formulas and geometry in the WGSL headers; the CPU twin is
// src/reference/attention.ts.
import attentionForwardWgsl from '../../shaders/attention_forward.wgsl?raw';
import attentionBackwardWgsl from '../../shaders/attention_backward.wgsl?raw';
import { LimitError } from '../errors';
import type { GpuContext, KernelDef } from '../gpu/context';
import { encodeSingle, ro, rw, withCommon, type EncodedOp } from './common';

const PARAMS = [['B', 'u32'], ['T', 'u32'], ['S', 'u32'], ['H', 'u32']] as const;

export const attentionForwardKernel: KernelDef<'params' | 'q' | 'e' | 'len' | 'a' | 'out'> = {
  name: 'attention_forward',
  wgsl: withCommon(attentionForwardWgsl),
  bindings: { params: { binding: 0, type: 'uniform' }, q: ro(1), e: ro(2), len: ro(3), a: rw(4), out: rw(5) },
};

export const attentionBackwardKernel: KernelDef<'params' | 'dout' | 'q' | 'e' | 'a' | 'out' | 'len' | 'dq' | 'de'> = {
  name: 'attention_backward',
  wgsl: withCommon(attentionBackwardWgsl),
  bindings: { params: { binding: 0, type: 'uniform' }, dout: ro(1), q: ro(2), e: ro(3), a: ro(4), out: ro(5), len: ro(6), dq: rw(7), de: rw(8) },
};

export interface AttentionDims {
  /** Batch, decoder steps, source steps, feature size (decoder H = encoder D·H). */
  B: number;
  T: number;
  S: number;
  H: number;
}

function workgroups(ctx: GpuContext, op: string, threads: number): number {
  const n = Math.ceil(threads / 64);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (n > max) throw new LimitError(`${op}: ${threads} rows need ${n} workgroups, over this adapter's ${max}. Hint: use a smaller batch or shorter sequences.`);
  return n;
}

/** a (B, T, S) and out (B, T, 2H) = [context; q] from q (B, T, H), e (B, S, H), len (B) u32. */
export function attentionForward(ctx: GpuContext, g: AttentionDims & { q: GPUBuffer; e: GPUBuffer; len: GPUBuffer; a: GPUBuffer; out: GPUBuffer }): Promise<EncodedOp> {
  const { B, T, S, H } = g;
  return encodeSingle(ctx, attentionForwardKernel, {}, PARAMS, { B, T, S, H }, { q: g.q, e: g.e, len: g.len, a: g.a, out: g.out }, [workgroups(ctx, 'attentionForward', B * T)]);
}

/** dq (B, T, H) and de (B, S, H), overwritten, from dout (B, T, 2H) and the forward's q, e, a, out. */
export function attentionBackward(
  ctx: GpuContext,
  g: AttentionDims & { dout: GPUBuffer; q: GPUBuffer; e: GPUBuffer; a: GPUBuffer; out: GPUBuffer; len: GPUBuffer; dq: GPUBuffer; de: GPUBuffer },
): Promise<EncodedOp> {
  const { B, T, S, H } = g;
  return encodeSingle(
    ctx,
    attentionBackwardKernel,
    {},
    PARAMS,
    { B, T, S, H },
    { dout: g.dout, q: g.q, e: g.e, a: g.a, out: g.out, len: g.len, dq: g.dq, de: g.de },
    [workgroups(ctx, 'attentionBackward', B * T + B * S)],
  );
}
