/**
 * Resolved training and evaluation settings of one run (a spec's defaults,
 * merged with its variant's and profile's overrides).
 *
 * @module
 */
import { z } from "zod";
import { AugmentSchema } from "./augment.ts";

const positiveInt = z.number().int().positive();

/** Adam with Keras' defaults unless a spec overrides them. */
export const AdamSchema = z.strictObject({
  type: z.literal("adam"),
  lr: z.number().positive(),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().default(1e-7),
});

/** Multiply the learning rate by `factor` every `every` epochs. */
export const StepScheduleSchema = z.strictObject({
  type: z.literal("step"),
  every: positiveInt,
  factor: z.number().positive(),
});

/** Stop when validation loss has not improved for `patience` epochs. */
export const EarlyStoppingSchema = z.strictObject({
  patience: positiveInt,
  /** Evaluate on test with the weights of the best epoch (Keras' restore_best_weights). */
  restoreBest: z.boolean(),
});

/** Everything that decides how a model is trained. */
export const TrainingSchema = z.strictObject({
  optimizer: AdamSchema,
  batchSize: positiveInt,
  /** Maximum number of epochs. */
  epochs: positiveInt,
  /** Coupled L2 weight decay on every trainable weight (PyTorch Adam's `weight_decay`): grad += λ·w. */
  weightDecay: z.number().min(0).default(0),
  earlyStopping: EarlyStoppingSchema.optional(),
  lrSchedule: StepScheduleSchema.optional(),
  augment: AugmentSchema.optional(),
});

/** How validation and test sets are evaluated. */
export const EvaluationSchema = z.strictObject({
  batchSize: positiveInt,
  /** The forgotten-`model.eval()` pitfall: batch norm uses batch statistics. */
  batchStatsAtEval: z.boolean().default(false),
  /**
   * Before every evaluation, re-estimate each batch-norm layer's population
   * statistics at the current weights from the fixed training subsample
   * (`recalibrateBatchNorm` in loop.ts) instead of using the running averages
   * left by training. Absent means false, so configurations written before
   * the field existed keep their hash (a spec's `false` resolves to absent).
   */
  recalibrateBatchNorm: z.boolean().optional(),
});

/** Adam settings (defaults filled in). */
export type AdamSettings = z.output<typeof AdamSchema>;
/** A step learning-rate schedule. */
export type StepSchedule = z.output<typeof StepScheduleSchema>;
/** Early-stopping settings. */
export type EarlyStopping = z.output<typeof EarlyStoppingSchema>;
/** Everything that decides how a model is trained (defaults filled in). */
export type TrainSettings = z.output<typeof TrainingSchema>;
/** How validation and test sets are evaluated (defaults filled in). */
export type EvalSettings = z.output<typeof EvaluationSchema>;

/** Learning rate of `epoch` (0-based) under `settings`. */
export function learningRate(settings: TrainSettings, epoch: number): number {
  const schedule = settings.lrSchedule;
  if (!schedule) return settings.optimizer.lr;
  return settings.optimizer.lr * schedule.factor ** Math.floor(epoch / schedule.every);
}
