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
import { FusedAdam } from "./adam.ts";
import { augmentBatch } from "./augment.ts";
import { type EvalSettings, learningRate, type TrainSettings } from "./settings.ts";
import type { EpochMetrics, PhaseSeconds, TrainState } from "./state.ts";

export type { EpochMetrics, PhaseSeconds, TrainState } from "./state.ts";

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

/** Loss and accuracy of a model on a set of examples. */
export interface Evaluation {
  loss: number;
  acc: number;
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
  /**
   * Continue from this state (taken by `onCheckpoint` of an earlier call
   * with the same model configuration, seed and settings) instead of from
   * the model's initial weights. Throws `RangeError` when its weights do
   * not fit the model.
   */
  resume?: TrainState;
  /**
   * Called after every finished epoch after which training goes on, with
   * the state to resume from. The state's arrays are fresh copies.
   */
  onCheckpoint?: (state: TrainState) => void;
  /**
   * Asked after each `onCheckpoint` with the seconds the last epoch took:
   * `true` stops training there, and `trainModel` returns `undefined`
   * (resume later from the checkpoint).
   */
  suspend?: (epochSeconds: number) => boolean;
}

/**
 * Train `model` on `data` and evaluate it; the model keeps the tested
 * weights. Returns `undefined` only when `options.suspend` stopped training
 * after a checkpoint.
 */
export function trainModel(
  model: Model,
  data: RunData,
  options: TrainOptions & { suspend?: undefined },
): RunResult;
export function trainModel(
  model: Model,
  data: RunData,
  options: TrainOptions,
): RunResult | undefined;
export function trainModel(
  model: Model,
  data: RunData,
  options: TrainOptions,
): RunResult | undefined {
  const { seed, train: settings } = options;
  const optimizer = createOptimizer(settings);
  const started = performance.now();
  const resume = options.resume;
  const epochs: EpochMetrics[] = resume ? [...resume.epochs] : [];
  let best: { epoch: number; loss: number; weights?: tf.Tensor[] } = { epoch: 0, loss: Infinity };
  let step = resume?.step ?? 0;
  const phases: PhaseSeconds = resume ? { ...resume.phases } : { train: 0, validation: 0, test: 0 };
  const before = resume?.seconds ?? 0;
  try {
    if (resume) best = restoreState(model, optimizer, resume, settings);
    for (let epoch = epochs.length; epoch < settings.epochs; epoch++) {
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
      if (epoch + 1 < settings.epochs && options.onCheckpoint) {
        const seconds = before + (performance.now() - started) / 1000;
        options.onCheckpoint(
          captureState(model, optimizer, { epochs, step, best, phases, seconds }),
        );
        if (options.suspend?.(metrics.seconds)) return undefined;
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
      seconds: before + (performance.now() - started) / 1000,
      phases,
    };
  } finally {
    if (best.weights) tf.dispose(best.weights);
    optimizer.dispose();
  }
}

/** The parts of tfjs' Adam that hold its state (not public API; tfjs-core 4.x). */
interface AdamInternals {
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number;
}

/** Copy the loop's state after a finished epoch out of the model and the optimizer. */
function captureState(
  model: Model,
  optimizer: tf.Optimizer,
  loop: {
    epochs: EpochMetrics[];
    step: number;
    best: { epoch: number; loss: number; weights?: tf.Tensor[] };
    phases: PhaseSeconds;
    seconds: number;
  },
): TrainState {
  const adam = optimizer as unknown as AdamInternals;
  const values = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
  return {
    epochs: loop.epochs.map((e) => ({ ...e })),
    step: loop.step,
    best: {
      epoch: loop.best.epoch,
      loss: loop.best.loss,
      ...(loop.best.weights ? { weights: loop.best.weights.map(values) } : {}),
    },
    weights: model.params.map((p) => values(p.variable)),
    optimizer: {
      firstMoment: adam.accumulatedFirstMoment.map((m) => values(m.variable)),
      secondMoment: adam.accumulatedSecondMoment.map((m) => values(m.variable)),
      accBeta1: adam.accBeta1.dataSync()[0]!,
      accBeta2: adam.accBeta2.dataSync()[0]!,
      iterations: adam.iterations_,
    },
    phases: { ...loop.phases },
    seconds: loop.seconds,
  };
}

/**
 * Why `state` cannot continue training `model` (an array that does not fit
 * its weight, a count that does not match), or `undefined` when it can.
 */
export function stateProblem(
  model: Model,
  state: TrainState,
  settings?: TrainSettings,
): string | undefined {
  if (settings?.earlyStopping?.restoreBest && state.best.epoch > 0 && !state.best.weights) {
    return "the saved state lacks the best epoch's weights";
  }
  if (settings && state.epochs.length >= settings.epochs) {
    return `the saved state has ${state.epochs.length} epochs, the run ${settings.epochs}`;
  }
  const all = model.params.map((p) => p.variable);
  const fits = (arrays: Float32Array[], variables: readonly tf.Variable[]) =>
    arrays.length === variables.length && arrays.every((a, i) => a.length === variables[i]!.size);
  const parts: [string, Float32Array[] | undefined, readonly tf.Variable[]][] = [
    ["weights", state.weights, all],
    ["best weights", state.best.weights, all],
    ["first moments", state.optimizer.firstMoment, model.trainable],
    ["second moments", state.optimizer.secondMoment, model.trainable],
  ];
  for (const [what, arrays, variables] of parts) {
    if (arrays && !fits(arrays, variables)) return `the saved ${what} do not fit this model`;
  }
  return undefined;
}

/**
 * Put `state` into `model` and `optimizer` (fresh from `createOptimizer`);
 * returns the best-epoch record with its weights as tensors. Throws
 * `RangeError` when an array does not fit its weight.
 */
function restoreState(
  model: Model,
  optimizer: tf.Optimizer,
  state: TrainState,
  settings: TrainSettings,
): { epoch: number; loss: number; weights?: tf.Tensor[] } {
  const problem = stateProblem(model, state, settings);
  if (problem) throw new RangeError(problem);
  const all = model.params.map((p) => p.variable);
  const { firstMoment, secondMoment } = state.optimizer;
  tf.tidy(() => {
    all.forEach((v, i) => v.assign(tf.tensor(state.weights[i]!, v.shape)));
  });
  const adam = optimizer as unknown as AdamInternals;
  const moment = (arrays: Float32Array[], suffix: string) =>
    arrays.map((a, i) => {
      const v = model.trainable[i]!;
      return {
        originalName: `${v.name}/${suffix}`,
        variable: tf.tidy(() => tf.tensor(a, v.shape).variable(false)),
      };
    });
  adam.accumulatedFirstMoment = moment(firstMoment, "m");
  adam.accumulatedSecondMoment = moment(secondMoment, "v");
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(state.optimizer.accBeta1));
    adam.accBeta2.assign(tf.scalar(state.optimizer.accBeta2));
  });
  adam.iterations_ = state.optimizer.iterations;
  const weights = state.best.weights?.map((a, i) => tf.tensor(a, all[i]!.shape));
  return { epoch: state.best.epoch, loss: state.best.loss, ...(weights ? { weights } : {}) };
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

/** The optimizer `settings` ask for (Adam, with its per-variable update fused where the backend can). */
export function createOptimizer(settings: TrainSettings): tf.Optimizer {
  const { lr, beta1, beta2, epsilon } = settings.optimizer;
  return new FusedAdam(lr, beta1, beta2, epsilon);
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
