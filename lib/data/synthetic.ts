/**
 * A tiny generated dataset in the shape of Fashion-MNIST (28x28 grey images,
 * 10 classes) for tests and demos that must not need the real files. Each
 * class is a fixed arrangement of three soft blobs; examples shift it by up to
 * two pixels, scale its brightness and add noise, so a small CNN learns it in
 * an epoch or two but not perfectly.
 *
 * @module
 */
import { sha256Hex } from "../hash.ts";
import { rngAt } from "../rng.ts";
import type { DataPart, Dataset } from "./load.ts";
import { IMAGE_SIZE } from "./load.ts";
import { encodeIdx } from "./idx.ts";

/** Sizes of a generated dataset. */
export interface SyntheticOptions {
  /** Training examples (default 600). */
  train?: number;
  /** Test examples (default 200). */
  test?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

const CLASSES = 10;
const BLOBS = 3;

/**
 * Generate a labelled dataset; the same options give the same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticDataset } from "./synthetic.ts";
 * const d = syntheticDataset({ train: 20, test: 10 });
 * assert.deepEqual([d.train.count, d.test.images.length], [20, 10 * 28 * 28]);
 * ```
 */
export function syntheticDataset(options: SyntheticOptions = {}): Dataset {
  const { train = 600, test = 200, seed = 0 } = options;
  const trainPart = generatePart(train, seed, "train");
  const testPart = generatePart(test, seed, "test");
  const idxDigest = (data: Uint8Array, dims: number[]) => sha256Hex(encodeIdx({ dims, data }));
  return {
    id: "synthetic",
    source: `generated (seed ${seed}, ${train} train, ${test} test)`,
    classes: CLASSES,
    train: trainPart,
    test: testPart,
    digests: {
      trainImages: idxDigest(trainPart.images, [train, IMAGE_SIZE, IMAGE_SIZE]),
      trainLabels: idxDigest(trainPart.labels, [train]),
      testImages: idxDigest(testPart.images, [test, IMAGE_SIZE, IMAGE_SIZE]),
      testLabels: idxDigest(testPart.labels, [test]),
    },
  };
}

function generatePart(count: number, seed: number, part: string): DataPart {
  const rng = rngAt(seed, "synthetic", part);
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  const prototypes = Array.from({ length: CLASSES }, (_, k) => prototype(k));
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    labels[i] = label;
    const dx = rng.nextInt(5) - 2;
    const dy = rng.nextInt(5) - 2;
    const gain = 0.6 + 0.4 * rng.nextFloat();
    const proto = prototypes[label]!;
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const sy = y - dy;
        const sx = x - dx;
        const inside = sy >= 0 && sy < IMAGE_SIZE && sx >= 0 && sx < IMAGE_SIZE;
        const base = inside ? proto[sy * IMAGE_SIZE + sx]! : 0;
        const value = base * gain * 255 + rng.nextFloat() * 60;
        images[i * pixels + y * IMAGE_SIZE + x] = Math.min(255, Math.round(value));
      }
    }
  }
  // Shuffle example order so classes are interleaved irregularly.
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  const shuffledImages = new Uint8Array(images.length);
  const shuffledLabels = new Uint8Array(count);
  order.forEach((from, to) => {
    shuffledImages.set(images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    shuffledLabels[to] = labels[from]!;
  });
  return { images: shuffledImages, labels: shuffledLabels, count };
}

function prototype(label: number): Float32Array {
  const rng = rngAt(0, "synthetic-prototype", label);
  const out = new Float32Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let b = 0; b < BLOBS; b++) {
    const cy = 6 + rng.nextInt(16);
    const cx = 6 + rng.nextInt(16);
    const sigma = 1.5 + 2 * rng.nextFloat();
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const d2 = (y - cy) ** 2 + (x - cx) ** 2;
        const i = y * IMAGE_SIZE + x;
        out[i] = Math.min(1, out[i]! + Math.exp(-d2 / (2 * sigma * sigma)));
      }
    }
  }
  return out;
}
