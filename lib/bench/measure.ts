/**
 * Training throughput of one architecture: forward, backward and an Adam step
 * on a fixed random batch, timed after warm-up, through the same code path
 * as real training (`trainStep`). Inputs come from the seeded random tree.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { buildModel, type Model } from "../models/build.ts";
import { rngAt } from "../rng.ts";
import type { RunConfig } from "../spec.ts";
import { createOptimizer, type TrainOptions, trainStep } from "../train/loop.ts";

/** How long to measure. */
export interface MeasureOptions {
  /** Images per batch (default 128, as the peer). */
  batch?: number;
  /** Untimed steps first (default 3). */
  warmup?: number;
  /** Timed steps per repeat (default 12). */
  steps?: number;
  /** Timed repeats; the median is reported (default 3). */
  repeats?: number;
}

/** One architecture's measurement. */
export interface Measurement {
  /** Median images per second over the repeats. */
  imagesPerSecond: number;
  /** Every repeat's images per second. */
  samples: number[];
  /** Resident set size after the run, MiB. */
  rssMiB: number;
  /** Tensors alive after the run minus before it (0 means no leak). */
  leakedTensors: number;
}

/** Measure training throughput of `config`'s model on the active backend. */
export function measureTraining(config: RunConfig, options: MeasureOptions = {}): Measurement {
  const { batch = 128, warmup = 3, steps = 12, repeats = 3 } = options;
  const { model, optimizer, images, labels, settings } = benchSetup(config, batch, "bench");
  let step = 0;
  const run = () => trainStep(model, optimizer, images, labels, settings, step++);
  try {
    for (let i = 0; i < warmup; i++) run();
    const before = tf.memory().numTensors;
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) run();
      samples.push((batch * steps) / ((performance.now() - t0) / 1000));
    }
    return {
      imagesPerSecond: median(samples),
      samples,
      rssMiB: Deno.memoryUsage().rss / 2 ** 20,
      leakedTensors: tf.memory().numTensors - before,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** A model, optimizer and fixed random batch of `batch` examples for timing `config`'s training step. */
export interface BenchSetup {
  model: Model;
  optimizer: tf.Optimizer;
  images: Float32Array;
  labels: Int32Array;
  settings: TrainOptions;
}

/**
 * The model of `config` (10 classes), its optimizer and a random batch, all from
 * the seeded random tree under `stream` (weights `<stream>/<layer>`, data
 * `<stream>-data`). The caller disposes the model and optimizer.
 */
export function benchSetup(config: RunConfig, batch: number, stream: string): BenchSetup {
  const model = buildModel(
    config.layers,
    { ...config.model, classes: 10 },
    (p) => rngAt(0, stream, p),
  );
  const optimizer = createOptimizer(config.train);
  const rng = rngAt(0, `${stream}-data`);
  const images = Float32Array.from({ length: batch * 784 }, () => rng.nextFloat());
  const labels = Int32Array.from({ length: batch }, () => rng.nextInt(10));
  const settings = { seed: 0, classes: 10, train: config.train, eval: config.eval };
  return { model, optimizer, images, labels, settings };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
