/**
 * Deterministic train/validation splits of a dataset's training part: the
 * stratified 80/20 split of seed study 000 and the random 90/10 split of seed
 * study 004, plus the stratified subsample that fast profiles train on. The
 * official test set is never touched here.
 *
 * Every function takes its randomness from an explicit {@linkcode Rng}, so the
 * same (labels, kind, fraction, seed) gives the same indices on every machine.
 *
 * @module
 */
import { sha256Hex } from "./hash.ts";
import { type Rng, rngAt } from "./rng.ts";

/** How the validation set is drawn. */
export type SplitKind = "stratified" | "random";

/** A train/validation partition: sorted example indices into the training part. */
export interface Split {
  train: Uint32Array;
  validation: Uint32Array;
}

/** What {@linkcode makeSplit} needs besides the labels. */
export interface SplitOptions {
  kind: SplitKind;
  /** Share of the pool that goes to validation, in (0, 1). */
  validationFraction: number;
  /** Run seed; the split draws from the stream `seed/split/<kind>`. */
  seed: number;
  /** Stratified subsample size of the pool before splitting (default: all examples). */
  poolSize?: number;
}

/**
 * Subsample (optionally) and split the examples of `labels` as `options` say.
 * Throws `RangeError` for a fraction outside (0, 1) or a pool larger than the data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeSplit } from "./splits.ts";
 * const labels = new Uint8Array(100).map((_, i) => i % 10);
 * const s = makeSplit(labels, { kind: "stratified", validationFraction: 0.2, seed: 1 });
 * assert.deepEqual([s.train.length, s.validation.length], [80, 20]);
 * ```
 */
export function makeSplit(labels: Uint8Array, options: SplitOptions): Split {
  const { kind, validationFraction, seed, poolSize = labels.length } = options;
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new RangeError(`Validation fraction must be in (0, 1), got ${validationFraction}`);
  }
  const all = Uint32Array.from({ length: labels.length }, (_, i) => i);
  const pool = poolSize === labels.length
    ? all
    : stratifiedSample(labels, all, poolSize, rngAt(seed, "subsample"));
  const rng = rngAt(seed, "split", kind);
  return kind === "stratified"
    ? stratifiedSplit(labels, pool, validationFraction, rng)
    : randomSplit(pool, validationFraction, rng);
}

/**
 * Split `pool` so that each class's validation count is within one example of
 * its exact share, and the validation total is `round(pool.length * fraction)`.
 */
export function stratifiedSplit(
  labels: Uint8Array,
  pool: Uint32Array,
  fraction: number,
  rng: Rng,
): Split {
  const byClass = groupByClass(labels, pool);
  const quotas = allocate(byClass.map((g) => g.length), Math.round(pool.length * fraction));
  const train: number[] = [];
  const validation: number[] = [];
  byClass.forEach((members, c) => {
    rng.shuffle(members);
    const k = quotas[c]!;
    validation.push(...members.slice(0, k));
    train.push(...members.slice(k));
  });
  return { train: sorted(train), validation: sorted(validation) };
}

/** Split `pool` uniformly at random: `round(pool.length * fraction)` examples go to validation. */
export function randomSplit(pool: Uint32Array, fraction: number, rng: Rng): Split {
  const order = rng.shuffle(Array.from(pool));
  const k = Math.round(pool.length * fraction);
  return { train: sorted(order.slice(k)), validation: sorted(order.slice(0, k)) };
}

/**
 * Draw `count` examples of `pool` keeping class shares exact to within one
 * example; returns sorted indices. Throws `RangeError` if `count` exceeds the pool.
 */
export function stratifiedSample(
  labels: Uint8Array,
  pool: Uint32Array,
  count: number,
  rng: Rng,
): Uint32Array {
  if (!(Number.isInteger(count) && count > 0 && count <= pool.length)) {
    throw new RangeError(`Cannot draw ${count} examples from a pool of ${pool.length}`);
  }
  const byClass = groupByClass(labels, pool);
  const quotas = allocate(byClass.map((g) => g.length), count);
  const chosen: number[] = [];
  byClass.forEach((members, c) => chosen.push(...rng.shuffle(members).slice(0, quotas[c]!)));
  return sorted(chosen);
}

/**
 * SHA-256 of a split: both sorted index lists, each prefixed by its length,
 * as little-endian uint32, so it identifies the split on any machine.
 */
export function splitHash(split: Split): string {
  const words = 2 + split.train.length + split.validation.length;
  const bytes = new Uint8Array(words * 4);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const part of [split.train, split.validation]) {
    view.setUint32(offset, part.length, true);
    offset += 4;
    for (const index of part) {
      view.setUint32(offset, index, true);
      offset += 4;
    }
  }
  return sha256Hex(bytes);
}

/** Number of examples of each class among `indices`. */
export function classCounts(
  labels: Uint8Array,
  indices: ArrayLike<number>,
  classes = 10,
): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < indices.length; i++) counts[labels[indices[i]!]!]!++;
  return counts;
}

function groupByClass(labels: Uint8Array, pool: Uint32Array): number[][] {
  const groups: number[][] = [];
  for (const index of pool) {
    const label = labels[index]!;
    while (groups.length <= label) groups.push([]);
    groups[label]!.push(index);
  }
  return groups;
}

/**
 * Largest-remainder allocation of `total` over groups of the given sizes:
 * each group gets the floor or the ceiling of its exact share.
 */
function allocate(sizes: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => ({ i, rem: e - Math.floor(e) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    quotas[i]!++;
    left--;
  }
  return quotas;
}

function sorted(values: number[]): Uint32Array {
  return Uint32Array.from(values).sort();
}
