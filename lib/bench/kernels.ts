/**
 * Where a training step's time goes, kernel by kernel: `tf.profile` over a
 * few steps of one architecture (after warm-up), through the same code path as
 * real training (`trainStep`), and optionally over an inference pass like the
 * per-epoch evaluation (`evaluate`). Inputs come from the seeded random tree.
 *
 * Kernel times are what TF.js measures around each kernel (wall time on the
 * CPU backends), summed per kernel name; nested op wrappers (names ending in
 * `__op`) are left out so nothing is counted twice. The wall time per step
 * also includes what runs between kernels (autodiff, tensor bookkeeping).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { rngAt } from "../rng.ts";
import type { RunConfig } from "../spec.ts";
import { evaluate, trainStep } from "../train/loop.ts";
import { benchSetup } from "./measure.ts";

/** One kernel's share. */
export interface KernelTime {
  name: string;
  /** Milliseconds per training step (or per inference pass), summed over its calls. */
  ms: number;
  /** Calls per step (or per pass). */
  calls: number;
}

/** A profile of one architecture. */
export interface KernelProfile {
  /** Wall milliseconds per training step (mean over the timed steps). */
  stepMs: number;
  /** Kernels of a training step, most expensive first. */
  step: KernelTime[];
  /** Wall milliseconds of the inference pass, when asked for. */
  inferenceMs?: number;
  /** Kernels of the inference pass, most expensive first. */
  inference?: KernelTime[];
}

/** What to profile. */
export interface KernelProfileOptions {
  /** Untimed steps first (default 3). */
  warmup?: number;
  /** Timed and profiled steps (default 10). */
  steps?: number;
  /** Images of an inference pass in the evaluation's batches; 0 (default) for none. */
  inferenceImages?: number;
}

/** Sum `kernels` by name, per `per` repetitions, most expensive first. */
function byKernel(kernels: readonly { name: string; kernelTimeMs: unknown }[], per: number) {
  const sums = new Map<string, { ms: number; count: number }>();
  for (const k of kernels) {
    if (k.name.endsWith("__op")) continue;
    const entry = sums.get(k.name) ?? { ms: 0, count: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.count++;
    sums.set(k.name, entry);
  }
  return [...sums].map(([name, { ms, count }]): KernelTime => ({
    name,
    ms: ms / per,
    calls: Math.round((count / per) * 100) / 100,
  })).sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
}

/**
 * Profile `config`'s training step (batch of the config's size) on the active
 * backend, and its inference when `options.inferenceImages` > 0. Leaves no
 * tensors behind. Throws `RangeError` for a non-positive step count.
 */
export async function profileKernels(
  config: RunConfig,
  options: KernelProfileOptions = {},
): Promise<KernelProfile> {
  const { warmup = 3, steps = 10, inferenceImages = 0 } = options;
  if (!(steps >= 1)) throw new RangeError(`steps must be at least 1, got ${steps}`);
  const { model, optimizer, images, labels, settings } = benchSetup(
    config,
    config.train.batchSize,
    "profile",
  );
  const rng = rngAt(0, "profile-inference");
  let n = 0;
  const step = () => trainStep(model, optimizer, images, labels, settings, n++);
  try {
    for (let i = 0; i < warmup; i++) step();
    const t0 = performance.now();
    const profile = await tf.profile(() => {
      for (let i = 0; i < steps; i++) step();
    });
    const result: KernelProfile = {
      stepMs: (performance.now() - t0) / steps,
      step: byKernel(profile.kernels, steps),
    };
    if (inferenceImages > 0) {
      const pixels = Uint8Array.from({ length: inferenceImages * 784 }, () => rng.nextInt(256));
      const classes = Uint8Array.from({ length: inferenceImages }, () => rng.nextInt(10));
      const all = Uint32Array.from({ length: inferenceImages }, (_, i) => i);
      evaluate(model, pixels, classes, all, config.eval);
      const t1 = performance.now();
      const pass = await tf.profile(() => {
        evaluate(model, pixels, classes, all, config.eval);
      });
      result.inferenceMs = performance.now() - t1;
      result.inference = byKernel(pass.kernels, 1);
    }
    return result;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
