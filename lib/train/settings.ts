/**
 * Resolved training and evaluation settings of one run (a spec's defaults,
 * merged with its variant's and profile's overrides).
 *
 * @module
 */
import type { AugmentSettings } from "./augment.ts";

/** Adam with Keras' defaults unless a spec overrides them. */
export interface AdamSettings {
  type: "adam";
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Multiply the learning rate by `factor` every `every` epochs. */
export interface StepSchedule {
  type: "step";
  every: number;
  factor: number;
}

/** Stop when validation loss has not improved for `patience` epochs. */
export interface EarlyStopping {
  patience: number;
  /** Evaluate on test with the weights of the best epoch (Keras' restore_best_weights). */
  restoreBest: boolean;
}

/** Everything that decides how a model is trained. */
export interface TrainSettings {
  optimizer: AdamSettings;
  batchSize: number;
  /** Maximum number of epochs. */
  epochs: number;
  /** Coupled L2 weight decay on every trainable weight (PyTorch Adam's `weight_decay`): grad += λ·w. */
  weightDecay: number;
  earlyStopping?: EarlyStopping;
  lrSchedule?: StepSchedule;
  augment?: AugmentSettings;
}

/** How validation and test sets are evaluated. */
export interface EvalSettings {
  batchSize: number;
  /** The forgotten-`model.eval()` pitfall: batch norm uses batch statistics. */
  batchStatsAtEval: boolean;
}

/** Learning rate of `epoch` (0-based) under `settings`. */
export function learningRate(settings: TrainSettings, epoch: number): number {
  const schedule = settings.lrSchedule;
  if (!schedule) return settings.optimizer.lr;
  return settings.optimizer.lr * schedule.factor ** Math.floor(epoch / schedule.every);
}
