/**
 * The seeded random-number tree. Every random choice of a run (split, subsample,
 * weight initialisation, epoch shuffles, dropout masks, augmentation) draws from
 * a stream named by its path below the run's root seed, for example
 * `rngAt(seed, "dropout", layer, step)`. A stream's state is the first 128 bits
 * of SHA-256 over its path, so streams are independent of each other and of the
 * order in which they are created, and identical on every machine.
 *
 * The generator is xoshiro128** (Blackman & Vigna, 2018): 32-bit arithmetic
 * only, so results do not depend on the JS engine's float handling.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** One part of a stream's path: a name, a layer index, an epoch or step number. */
export type PathPart = string | number;

/** A deterministic stream of random numbers (xoshiro128**). */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** Start from a 128-bit state; an all-zero state is replaced by a fixed non-zero one. */
  constructor(state: Uint32Array) {
    if (state.length !== 4) {
      throw new RangeError(`Rng state must have 4 words, got ${state.length}`);
    }
    const zero = state.every((w) => w === 0);
    this.#s0 = zero ? 0x9e3779b9 : state[0]! | 0;
    this.#s1 = state[1]! | 0;
    this.#s2 = state[2]! | 0;
    this.#s3 = state[3]! | 0;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) without modulo bias; `n` must be in [1, 2^32]. */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) {
      throw new RangeError(`nextInt needs an integer bound in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffle `items` in place (Fisher–Yates) and return it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * Fill `out` with an inverted-dropout mask: each entry is `scale` with
   * probability `1 - rate` and 0 otherwise, where `scale = 1 / (1 - rate)`.
   * Draws one `nextUint32()` per entry (the loop inlines it for speed).
   */
  fillDropoutMask(out: Float32Array, rate: number): Float32Array {
    if (!(rate >= 0 && rate < 1)) {
      throw new RangeError(`Dropout rate must be in [0, 1), got ${rate}`);
    }
    // Unsigned `x >= threshold` as a signed comparison with both sign bits flipped.
    const threshold = (Math.floor(rate * 4294967296) ^ 0x80000000) | 0;
    const scale = 1 / (1 - rate);
    let s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, s3 = this.#s3;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(s1, 5);
      const result = Math.imul((r << 7) | (r >>> 25), 9) ^ 0x80000000;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = result >= threshold ? scale : 0;
    }
    this.#s0 = s0;
    this.#s1 = s1;
    this.#s2 = s2;
    this.#s3 = s3;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The 128-bit state of the stream at `path` below `seed` (SHA-256 of the path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamState } from "./rng.ts";
 * assert.deepEqual(streamState(1, "split"), streamState(1, "split"));
 * ```
 */
export function streamState(seed: number, ...path: PathPart[]): Uint32Array {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Seed must be a safe integer, got ${seed}`);
  const digest = createHash("sha256").update(["bnlab", seed, ...path].join("/")).digest();
  return new Uint32Array([
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ]);
}

/** A fresh generator for the stream at `path` below `seed`. */
export function rngAt(seed: number, ...path: PathPart[]): Rng {
  return new Rng(streamState(seed, ...path));
}

/** A 31-bit integer seed for libraries that take a number (TF.js initialisers). */
export function intSeedAt(seed: number, ...path: PathPart[]): number {
  return streamState(seed, ...path)[0]! >>> 1;
}
