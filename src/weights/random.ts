// Seeded pseudo-random numbers for the weight initialisers and the tests.
//
// Generator: xoshiro128** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
// 128 bits of state, period 2^128 − 1, 32-bit outputs. The state is seeded from
// the integer seed through splitmix32 (the 32-bit variant of SplitMix: add the golden
// ratio 0x9e3779b9, then a murmur3-style finaliser), so nearby seeds give unrelated streams.
//
// Floats in [0, 1) take 53 random bits from two 32-bit outputs; `normal()` is the
// Box–Muller transform and caches the second value of each pair. Everything is
// deterministic for a given seed on every platform (only integer ops and IEEE doubles).
// These streams do not reproduce PyTorch's or Keras's own generators: the initialisers
// match their distributions, not their exact numbers.

import { ValueError } from '../errors';

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** One splitmix32 step: returns the next state and its mixed output. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let t = next ^ (next >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return [next, t >>> 0];
}

/** Seeded xoshiro128** generator. `new Rng(42)` always yields the same stream. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second Box–Muller value, or null when the next normal() draws a new pair. */
  private spareNormal: number | null = null;

  /** @param seed any safe integer (negative and values ≥ 2^32 are allowed). */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new ValueError(`Rng: seed must be a safe integer, got ${String(seed)}.`);
    }
    // Fold the high 21 bits into the low 32 so every safe integer gives its own stream.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let st = lo ^ Math.imul(hi, 0x85ebca6b);
    const out: number[] = [];
    for (let k = 0; k < 4; k++) {
      const [next, v] = splitmix32(st);
      st = next;
      out.push(v);
    }
    [this.s0, this.s1, this.s2, this.s3] = out as [number, number, number, number];
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A generator starting from an explicit xoshiro128** state (four 32-bit words, not
   * all zero), bypassing the seeding; for test vectors against the reference C code.
   */
  static fromState(state: readonly [number, number, number, number]): Rng {
    if (state.every((w) => w >>> 0 === 0)) {
      throw new ValueError('Rng.fromState: state must not be all zero.');
    }
    const rng = new Rng(0);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((w) => w | 0) as [number, number, number, number];
    return rng;
  }

  /** Next 32-bit unsigned integer, in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform double in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal N(0, 1) by Box–Muller; each call pair uses one pair of uniforms. */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const u1 = 1 - this.next(); // (0, 1]: log(u1) is finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills `arr` with uniform values in [lo, hi] (float32 rounding may reach hi); returns it. */
  fillUniform<A extends Float32Array | Float64Array | number[]>(arr: A, lo: number, hi: number): A {
    for (let k = 0; k < arr.length; k++) arr[k] = this.uniform(lo, hi);
    return arr;
  }

  /** Fills `arr` with normal values N(mean, std²); returns it. */
  fillNormal<A extends Float32Array | Float64Array | number[]>(arr: A, mean = 0, std = 1): A {
    for (let k = 0; k < arr.length; k++) arr[k] = mean + std * this.normal();
    return arr;
  }
}
