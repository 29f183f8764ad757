/**
 * What a run's training loop reports and what it needs to continue: the
 * metrics of an epoch, where the time went, and the state after a finished
 * epoch (`TrainState`) from which training resumes exactly where it stopped.
 * Plain data, free of TF.js, so the results store can keep it on disk.
 *
 * @module
 */

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

/** Wall-clock seconds of a run's phases. */
export interface PhaseSeconds {
  /** Training steps (batch assembly, augmentation, forward, backward, optimizer). */
  train: number;
  /** The per-epoch validation passes. */
  validation: number;
  /** The final test evaluation (and restoring the best weights). */
  test: number;
}

/**
 * The complete state of a run's training after its last finished epoch
 * `epochs.length`: continuing from it gives the same weights, metrics and
 * test result, bit for bit, as never having stopped, because every random
 * choice of a later epoch (shuffle, augmentation, dropout masks,
 * re-estimation) is a function of the seed and the epoch or step alone.
 */
export interface TrainState {
  /** Metrics of the finished epochs, in order (at least one). */
  epochs: EpochMetrics[];
  /** Optimisation steps taken so far (numbers the next step's dropout masks). */
  step: number;
  /**
   * The epoch with the lowest validation loss so far (0 and `Infinity` when
   * no validation loss was finite) and, when early stopping restores the best
   * weights, a copy of them in `Model.params` order.
   */
  best: { epoch: number; loss: number; weights?: Float32Array[] };
  /** Every weight of the model (`Model.params` order: trainable first, then running statistics). */
  weights: Float32Array[];
  /**
   * Adam's state: first and second moments per trainable variable (in
   * `Model.trainable` order), the running powers β₁ᵗ and β₂ᵗ exactly as the
   * optimizer holds them (float32 values), and its step count.
   */
  optimizer: {
    firstMoment: Float32Array[];
    secondMoment: Float32Array[];
    accBeta1: number;
    accBeta2: number;
    iterations: number;
  };
  /** Wall-clock seconds spent so far, by phase. */
  phases: PhaseSeconds;
  /** Wall-clock seconds of training so far (what `RunResult.seconds` adds up). */
  seconds: number;
}
