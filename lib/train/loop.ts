/**
 * The training loop of one run: Adam with optional coupled weight decay and a
 * step learning-rate schedule, per-epoch shuffles, dropout masks and
 * augmentation all drawn from the run's random tree, early stopping on
 * validation loss with best-weight restore, then the test evaluation.
 *
 * Everything is synchronous: the CPU backends compute eagerly, and parallelism
 * comes from running several runs in separate workers.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ForwardContext, Model } from "../models/build.ts";
import { dropoutStream, recalibrationDropoutStream, rngAt } from "../rng.ts";
import { augmentBatch } from "./augment.ts";
import { type EvalSettings, learningRate, type TrainSettings } from "./settings.ts";

/** Side of the square images, pixels. */
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The examples of one run, as indices into the dataset's two parts. */
export interface RunData {
  /** Training-part pixels (bytes) and labels; `train` and `validation` index them. */
  images: Uint8Array;
  labels: Uint8Array;
  train: Uint32Array;
  validation: Uint32Array;
  /**
   * A fixed subsample of `train` on which training loss and accuracy are
   * measured in inference mode after every epoch, like `validation`.
   */
  trainEval: Uint32Array;
  /** Test-part pixels and labels; `test` indexes them. */
  testImages: Uint8Array;
  testLabels: Uint8Array;
  test: Uint32Array;
}

/** Metrics of one epoch. Losses are mean cross-entropy (no penalty terms). */
export interface EpochMetrics {
  /** 1-based epoch number. */
  epoch: number;
  /**
   * Loss and accuracy on the training subsample `RunData.trainEval`, measured
   * after the epoch in inference mode (the same mode as validation), so that
   * `trainAcc - valAcc` is a generalisation gap.
   */
  trainLoss: number;
  trainAcc: number;
  /**
   * Running mean over the epoch's training batches in training mode (dropout
   * active, batch statistics), as Keras' `fit` reports it.
   */
  runningTrainLoss: number;
  runningTrainAcc: number;
  valLoss: number;
  valAcc: number;
  /** Learning rate used during the epoch. */
  lr: number;
  /** Wall-clock seconds of the epoch, validation included. */
  seconds: number;
}

/** Loss and accuracy of a model on a set of examples. */
export interface Evaluation {
  loss: number;
  acc: number;
}

/** Wall-clock seconds of a run's phases. */
export interface PhaseSeconds {
  /** Training steps (batch assembly, augmentation, forward, backward, optimizer). */
  train: number;
  /** The per-epoch validation passes. */
  validation: number;
  /** The final test evaluation (and restoring the best weights). */
  test: number;
}

/** Outcome of a run. `final` is the epoch whose weights were tested. */
export interface RunResult {
  epochs: EpochMetrics[];
  /** Epoch (1-based) with the lowest validation loss. */
  bestEpoch: number;
  /** The epoch whose weights were evaluated on the test set. */
  final: EpochMetrics;
  test: Evaluation;
  seconds: number;
  /** Where `seconds` went. */
  phases: PhaseSeconds;
}

/** What `trainModel` needs besides the model and data. */
export interface TrainOptions {
  seed: number;
  classes: number;
  train: TrainSettings;
  eval: EvalSettings;
  /** Called after every epoch (progress display). */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called after every training batch with the 1-based epoch and the share of it done. */
  onBatch?: (epoch: number, fraction: number) => void;
}

/** Train `model` on `data` and evaluate it; the model keeps the tested weights. */
export function trainModel(model: Model, data: RunData, options: TrainOptions): RunResult {
  const { seed, train: settings } = options;
  const optimizer = createOptimizer(settings);
  const started = performance.now();
  const epochs: EpochMetrics[] = [];
  let best: { epoch: number; loss: number; weights?: tf.Tensor[] } = { epoch: 0, loss: Infinity };
  let step = 0;
  const phases: PhaseSeconds = { train: 0, validation: 0, test: 0 };
  try {
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      const t0 = performance.now();
      const lr = learningRate(settings, epoch);
      // tfjs reads Adam's learning rate on every step; the field is not public API.
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const order = rngAt(seed, "shuffle", epoch).shuffle(Uint32Array.from(data.train));
      const augmentRng = rngAt(seed, "augment", epoch);
      let lossSum = 0;
      let correct = 0;
      const trainStart = performance.now();
      for (let start = 0; start < order.length; start += settings.batchSize) {
        const batch = order.subarray(start, Math.min(order.length, start + settings.batchSize));
        const x = gather(data.images, batch);
        if (settings.augment) augmentBatch(x, batch.length, SIDE, settings.augment, augmentRng);
        const y = Int32Array.from(batch, (i) => data.labels[i]!);
        const out = trainStep(model, optimizer, x, y, options, step++);
        lossSum += out.loss * batch.length;
        options.onBatch?.(epoch + 1, (start + batch.length) / order.length);
        correct += out.correct;
      }
      const valStart = performance.now();
      phases.train += (valStart - trainStart) / 1000;
      if (options.eval.recalibrateBatchNorm) recalibrateBatchNorm(model, data, options, epoch);
      const fit = evaluate(model, data.images, data.labels, data.trainEval, options.eval);
      const val = evaluate(model, data.images, data.labels, data.validation, options.eval);
      phases.validation += (performance.now() - valStart) / 1000;
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: fit.loss,
        trainAcc: fit.acc,
        runningTrainLoss: lossSum / order.length,
        runningTrainAcc: correct / order.length,
        valLoss: val.loss,
        valAcc: val.acc,
        lr,
        seconds: (performance.now() - t0) / 1000,
      };
      epochs.push(metrics);
      options.onEpoch?.(metrics);
      if (val.loss < best.loss) {
        if (best.weights) tf.dispose(best.weights);
        best = { epoch: epoch + 1, loss: val.loss };
        if (settings.earlyStopping?.restoreBest) best.weights = model.snapshot();
      } else if (
        settings.earlyStopping && epoch + 1 - best.epoch >= settings.earlyStopping.patience
      ) {
        break;
      }
    }
    const testStart = performance.now();
    let final = epochs[epochs.length - 1]!;
    if (best.weights) {
      model.restore(best.weights);
      final = epochs[best.epoch - 1]!;
    }
    const test = evaluate(model, data.testImages, data.testLabels, data.test, options.eval);
    phases.test = (performance.now() - testStart) / 1000;
    return {
      epochs,
      bestEpoch: best.epoch,
      final,
      test,
      seconds: (performance.now() - started) / 1000,
      phases,
    };
  } finally {
    if (best.weights) tf.dispose(best.weights);
    optimizer.dispose();
  }
}

/**
 * Re-estimate the population statistics of every batch-norm layer of `model`
 * at its current weights, before the evaluations that follow epoch `epoch`
 * (0-based): forward passes in training mode over `data.trainEval` in
 * training-size batches (augmented and with dropout active, as in training,
 * from streams of their own), each batch's statistics weighted by its share
 * of the examples seen so far, so the running mean becomes the exact mean of
 * the batch means and the running variance the mean of the (unbiased) batch
 * variances, as in PyTorch's `momentum=None` and "precise BN" (Wu & Johnson,
 * 2021). Removes the lag of running averages with momentum 0.99 after few
 * steps. Weights are not changed.
 */
export function recalibrateBatchNorm(
  model: Model,
  data: RunData,
  options: TrainOptions,
  epoch: number,
): void {
  const { batchSize, augment } = options.train;
  const augmentRng = rngAt(options.seed, "recalibrate", "augment", epoch);
  let seen = 0;
  for (let start = 0, b = 0; start < data.trainEval.length; start += batchSize, b++) {
    const end = Math.min(data.trainEval.length, start + batchSize);
    const batch = data.trainEval.subarray(start, end);
    const x = gather(data.images, batch);
    if (augment) augmentBatch(x, batch.length, SIDE, augment, augmentRng);
    seen += batch.length;
    const ctx: ForwardContext = {
      training: true,
      batchNormMomentum: batch.length / seen,
      dropoutStream: (path) => recalibrationDropoutStream(options.seed, path, epoch, b),
    };
    tf.tidy(() => {
      model.forward(tf.tensor4d(x, [batch.length, SIDE, SIDE, 1]), ctx);
    });
  }
}

/** The optimizer `settings` ask for (Adam). */
export function createOptimizer(settings: TrainSettings): tf.Optimizer {
  const { lr, beta1, beta2, epsilon } = settings.optimizer;
  return tf.train.adam(lr, beta1, beta2, epsilon);
}

/**
 * One optimisation step on a batch (`images` in [0, 1], NHWC 28x28x1);
 * `step` numbers the step within the run (it selects the dropout masks).
 * Returns the batch's mean cross-entropy and number of correct predictions.
 */
export function trainStep(
  model: Model,
  optimizer: tf.Optimizer,
  images: Float32Array,
  labels: Int32Array,
  options: TrainOptions,
  step: number,
): { loss: number; correct: number } {
  const ctx: ForwardContext = {
    training: true,
    dropoutStream: (path) => dropoutStream(options.seed, path, step),
  };
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [labels.length, SIDE, SIDE, 1]);
    const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), options.classes);
    let logits: tf.Tensor | undefined;
    let crossEntropy: tf.Tensor | undefined;
    const { grads } = tf.variableGrads(() => {
      logits = tf.keep(model.forward(x, ctx));
      crossEntropy = tf.keep(tf.losses.softmaxCrossEntropy(oneHot, logits));
      const penalty = model.l2Penalty();
      return (penalty ? tf.add(crossEntropy, penalty) : crossEntropy) as tf.Scalar;
    }, model.trainable);
    const decay = options.train.weightDecay;
    if (decay > 0) {
      for (const v of model.trainable) grads[v.name] = tf.add(grads[v.name]!, tf.mul(v, decay));
    }
    optimizer.applyGradients(grads);
    const result = {
      loss: crossEntropy!.dataSync()[0]!,
      correct: countCorrect(logits!.dataSync() as Float32Array, labels, options.classes),
    };
    tf.dispose([logits!, crossEntropy!]);
    return result;
  });
}

/**
 * Mean cross-entropy and accuracy of `model` on the examples `indices` of
 * (`images`, `labels`), computed from the logits in float64.
 */
export function evaluate(
  model: Model,
  images: Uint8Array,
  labels: Uint8Array,
  indices: Uint32Array,
  settings: EvalSettings,
): Evaluation {
  const ctx: ForwardContext = { training: false, batchStatsAtEval: settings.batchStatsAtEval };
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += settings.batchSize) {
    const batch = indices.subarray(start, Math.min(indices.length, start + settings.batchSize));
    const y = Int32Array.from(batch, (i) => labels[i]!);
    const logits = tf.tidy(() =>
      model.forward(tf.tensor4d(gather(images, batch), [batch.length, SIDE, SIDE, 1]), ctx)
        .dataSync()
    ) as Float32Array;
    const classes = logits.length / batch.length;
    for (let n = 0; n < batch.length; n++) {
      const row = logits.subarray(n * classes, (n + 1) * classes);
      loss += crossEntropyOfRow(row, y[n]!);
    }
    correct += countCorrect(logits, y, classes);
  }
  return { loss: loss / indices.length, acc: correct / indices.length };
}

/** Pixels of the examples `batch`, scaled to [0, 1]. */
function gather(images: Uint8Array, batch: Uint32Array): Float32Array {
  const out = new Float32Array(batch.length * PIXELS);
  for (let n = 0; n < batch.length; n++) {
    const src = batch[n]! * PIXELS;
    for (let j = 0; j < PIXELS; j++) out[n * PIXELS + j] = images[src + j]! / 255;
  }
  return out;
}

function crossEntropyOfRow(row: Float32Array, label: number): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return Math.log(sum) + max - row[label]!;
}

/** Number of rows whose arg-max (first maximum) equals the label. */
function countCorrect(logits: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let n = 0; n < labels.length; n++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (logits[n * classes + k]! > logits[n * classes + best]!) best = k;
    }
    if (best === labels[n]) correct++;
  }
  return correct;
}
