/**
 * The seeded random-number tree. Every random choice of a run (split, subsample,
 * weight initialisation, epoch shuffles, dropout masks, augmentation) draws from
 * a stream named by its path below the run's root seed, for example
 * `rngAt(seed, "shuffle", epoch)`. A stream's state is the first 128 bits
 * of SHA-256 over its path, so streams are independent of each other and of the
 * order in which they are created, and identical on every machine.
 *
 * The generator is xoshiro128** (Blackman & Vigna, 2018): 32-bit arithmetic
 * only, so results do not depend on the JS engine's float handling.
 *
 * Dropout masks are the exception: they are drawn from a counter-based
 * generator, Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; the generator of PyTorch's and JAX's accelerator dropout),
 * so that any element's decision can be computed on its own, in bulk, four
 * blocks at a time in SIMD lanes, inside the kernel that applies the mask.
 * The contract (see {@linkcode dropoutKeepBits}):
 *
 * - The mask of the dropout layer at `path` in training step `step` of a run
 *   seeded `seed` is a pure function of (seed, path, step, element position)
 *   and the rate: the 128-bit state `streamState(seed, "dropout", path, step)`
 *   gives the Philox key (words 0, 1) and the high counter words (2, 3).
 * - Each decision reads `b` random bits, `b = dropoutBits(rate)`: the fewest
 *   of 1, 2, 4, 8 for which `rate · 2^b` is an integer (0.5 → 1 bit, 0.25 → 2),
 *   else 16 (the rate then honoured to 2⁻¹⁷). Fewer bits, fewer Philox blocks.
 * - Element `i` (row-major position in the layer's input, batch axis first)
 *   is in group `g = ⌊i / G⌋` of `G = 512 / b` elements; with `e = i − gG`,
 *   `q = e >> 2` and `F = 32 / b` fields per word, it reads field `q mod F`
 *   (bits `b·(q mod F)` up) of output word `⌊q / F⌋` of the Philox block with
 *   counter `(4g + (e & 3), 0, word 2, word 3)`. It is kept when that field is
 *   at least `round(rate · 2^b)` and then scaled by `fround(1 / (1 − rate))`;
 *   dropped elements are +0 (also for infinite or NaN inputs).
 * - The same on every backend (cpu, wasm, native) and thread count: the
 *   kernels compute exactly this, single-threaded, and are tested against it
 *   (tests/properties/dropout_test.ts; statistics and Random123's
 *   known-answer vectors in tests/rng_test.ts).
 * - Fresh every step and layer: another step or path gives another key.
 * - Quality: each block's 128 bits are Philox4x32-10 outputs, which pass
 *   TestU01's BigCrush (Salmon et al.); cutting a 32-bit word into 1- to
 *   16-bit fields keeps them uniform and independent.
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

/** Philox4x32 multipliers and key-schedule (Weyl) constants (Random123). */
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers (exact in doubles). */
function mulhi(a: number, b: number): number {
  const lo = (a & 0xffff) * b; // < 2^48
  const hi = (a >>> 16) * b; // < 2^48
  return Math.floor((hi + Math.floor(lo / 65536)) / 65536) >>> 0;
}

/**
 * Philox4x32-10 (Random123's `philox4x32`, 10 rounds): the four 32-bit words
 * for counter `ctr` (4 words) under key `key` (2 words), written to `out`.
 * Matches Random123's known-answer vectors (tests/rng_test.ts).
 */
export function philox4x32(
  ctr: ArrayLike<number>,
  key: ArrayLike<number>,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let c0 = ctr[0]! >>> 0, c1 = ctr[1]! >>> 0, c2 = ctr[2]! >>> 0, c3 = ctr[3]! >>> 0;
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/**
 * Bits per dropout decision for `rate`: the fewest of 1, 2, 4 and 8 with which
 * `rate` is an exact multiple of 2^-bits (0.5 → 1, 0.25 → 2), else 16 (the
 * rate is then rounded to a multiple of 2^-16). Throws `RangeError` for a rate
 * outside [0, 1).
 */
export function dropoutBits(rate: number): number {
  if (!(rate >= 0 && rate < 1)) {
    throw new RangeError(`Dropout rate must be in [0, 1), got ${rate}`);
  }
  for (const bits of [1, 2, 4, 8]) {
    if (Number.isInteger(rate * 2 ** bits)) return bits;
  }
  return 16;
}

/**
 * The keep threshold for `rate`, in units of 2^-bits (`bits = dropoutBits(rate)`):
 * an element is kept when its `bits`-bit random field is ≥ `round(rate · 2^bits)`.
 */
export function dropoutThreshold(rate: number): number {
  return Math.round(rate * 2 ** dropoutBits(rate));
}

/** The float32 factor kept elements are scaled by, `fround(1 / (1 − rate))`. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}

/**
 * The 128-bit dropout stream of the layer at `path` in training step `step` of
 * a run seeded `seed` (Philox key in words 0–1, counter words 2–3).
 */
export function dropoutStream(seed: number, path: string, step: number): Uint32Array {
  return streamState(seed, "dropout", path, step);
}

/**
 * The dropout stream of the layer at `path` in batch `batch` of the
 * batch-norm recalibration before evaluating epoch `epoch` (0-based) of a run
 * seeded `seed`: `streamState(seed, "recalibrate", path, epoch, batch)`, so
 * recalibration never reuses a training step's mask.
 */
export function recalibrationDropoutStream(
  seed: number,
  path: string,
  epoch: number,
  batch: number,
): Uint32Array {
  return streamState(seed, "recalibrate", path, epoch, batch);
}

/**
 * Keep decisions of elements [`from`, `to`) of the mask of `stream` and `rate`,
 * written as bits into `bits` (bit `i & 31` of `bits[i >> 5]` is element `i`,
 * 1 = kept; the words' other bits are left as they are). `from` must be a
 * multiple of 32. This is the definition of every dropout mask (module notes);
 * the wasm kernel computes the same bits with four Philox blocks per SIMD step.
 */
export function dropoutKeepBits(
  stream: ArrayLike<number>,
  rate: number,
  bits: Int32Array,
  from: number,
  to: number,
): void {
  if (from % 32 !== 0) throw new RangeError(`from must be a multiple of 32, got ${from}`);
  const b = dropoutBits(rate);
  const threshold = dropoutThreshold(rate);
  const fields = 32 / b;
  const groupSize = 4 * 4 * fields;
  const fieldMask = 2 ** b - 1;
  const key = [stream[0]!, stream[1]!];
  const blocks = [0, 1, 2, 3].map(() => new Uint32Array(4));
  let group = -1;
  for (let i = from; i < to; i++) {
    const g = Math.floor(i / groupSize);
    if (g !== group) {
      group = g;
      for (let lane = 0; lane < 4; lane++) {
        philox4x32([4 * g + lane, 0, stream[2]!, stream[3]!], key, blocks[lane]);
      }
    }
    const e = i - g * groupSize;
    const quad = e >>> 2;
    const word = blocks[e & 3]![Math.floor(quad / fields)]!;
    const field = (word >>> ((quad % fields) * b)) & fieldMask;
    const bit = 1 << (i & 31);
    if (field >= threshold) bits[i >>> 5]! |= bit;
    else bits[i >>> 5]! &= ~bit;
  }
}

/**
 * The dropout mask of `size` elements for `stream` and `rate`: entries
 * `fround(1 / (1 − rate))` (kept) or 0 (dropped). The slow reference the
 * kernels are tested against. Throws `RangeError` for a rate outside [0, 1).
 */
export function dropoutMask(stream: ArrayLike<number>, rate: number, size: number): Float32Array {
  const bits = new Int32Array(Math.ceil(size / 32));
  dropoutKeepBits(stream, rate, bits, 0, size);
  const scale = dropoutScale(rate);
  return Float32Array.from(
    { length: size },
    (_, i) => (bits[i >>> 5]! >>> (i & 31)) & 1 ? scale : 0,
  );
}
