/**
 * One run of a study: split the data for the seed, build the variant's model,
 * train it, and turn the outcome into CSV rows. A run is a pure function of
 * (config, seed, dataset, backend, threads) apart from its timings.
 *
 * @module
 */
import type { Dataset } from "../data/load.ts";
import { buildModel, type Model } from "../models/build.ts";
import { rngAt } from "../rng.ts";
import type { RunConfig } from "../spec.ts";
import { makeSplit, splitHash, stratifiedSample } from "../splits.ts";
import {
  type EpochMetrics,
  type RunData,
  type RunResult,
  stateProblem,
  trainModel,
  type TrainOptions,
  type TrainState,
} from "../train/loop.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { configHash, runConfig } from "../store/records.ts";
import {
  type EpochRow,
  formatMetric,
  formatSeconds,
  type RunRow,
  type RunStatus,
} from "../store/schema.ts";

/** The rows of one finished run. */
export interface RunRows {
  run: RunRow;
  epochs: EpochRow[];
}

/** A run to execute. */
export interface RunTask {
  config: RunConfig;
  seed: number;
}

/** The backend facts recorded with every row. */
export interface RunEnvironment {
  backend: RunRow["backend"];
  threads: number;
}

/** Wall-clock seconds of one run, by phase (`--timings`). */
export interface RunTimings {
  /** Opening the dataset in this worker (0 when an earlier run opened it). */
  dataset: number;
  /** Splitting the data and building the model. */
  prepare: number;
  /** Training steps. */
  train: number;
  /** Per-epoch validation passes. */
  validation: number;
  /** Final test evaluation. */
  test: number;
  /** The whole run, from opening the dataset to the stored rows. */
  total: number;
}

/** Options of {@linkcode executeRun}. */
export interface ExecuteOptions {
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called after every training batch (epoch, share of it done). */
  onBatch?: (epoch: number, fraction: number) => void;
  /** Receives the run's phase timings (its `dataset` field 0; the caller knows that one). */
  onTimings?: (timings: RunTimings) => void;
  /** Receives the trained model before it is disposed (e.g. to save it). */
  onModel?: (model: Model) => Promise<void> | void;
  /** Keep a checkpoint after every epoch and resume from it (`lib/study/checkpoint.ts`). */
  checkpoint?: CheckpointOptions;
}

/** Where a run keeps its checkpoint, and until when it may train. */
export interface CheckpointOptions {
  /** The checkpoint file (`checkpointPath`). */
  path: string;
  /** The results root: no symbolic link below it is written through. */
  root: string;
  /**
   * Wall-clock time (ms since the Unix epoch) by which training should have
   * stopped: after an epoch, when the next one (as long as the last, plus
   * 10%) would end later, the run stops there and `executeRun` returns
   * `undefined`; its checkpoint continues it later.
   */
  deadline?: number;
  /** Told the epoch a run resumes after. */
  onResume?: (epochs: number) => void;
  /** Told why an existing checkpoint was not used. */
  onIgnored?: (reason: string) => void;
}

/** Margin on the last epoch's seconds when deciding whether the next one fits a deadline. */
const EPOCH_MARGIN = 1.1;

/**
 * The fully resolved configuration of a run as stored with it and hashed
 * (`config_hash`): the spec's resolved settings for the variant and profile,
 * plus the seed, backend and threads.
 */
export function storedConfig(task: RunTask, env: RunEnvironment): Record<string, unknown> {
  return runConfig(task.config, { seed: task.seed, ...env });
}

/**
 * The epoch a run diverged at: the first whose training or validation loss
 * is not finite, or the last epoch when only the test loss is not finite;
 * `undefined` for a run that did not diverge.
 */
export function divergedAt(result: RunResult): number | undefined {
  const bad = result.epochs.find((e) =>
    !Number.isFinite(e.trainLoss) || !Number.isFinite(e.runningTrainLoss) ||
    !Number.isFinite(e.valLoss)
  );
  if (bad) return bad.epoch;
  if (!Number.isFinite(result.test.loss)) return result.epochs.length;
  return undefined;
}

/**
 * Execute `task` on `dataset`; returns the rows to store, or `undefined`
 * when the run stopped at `options.checkpoint.deadline` (its checkpoint holds
 * the finished epochs).
 */
export async function executeRun(
  task: RunTask,
  dataset: Dataset,
  env: RunEnvironment,
  options: ExecuteOptions = {},
): Promise<RunRows | undefined> {
  const { config, seed } = task;
  const started = performance.now();
  const split = makeSplit(dataset.train.labels, {
    kind: config.split.kind,
    validationFraction: config.split.validation,
    seed,
    ...(config.split.pool ? { poolSize: config.split.pool } : {}),
  });
  const allTest = Uint32Array.from({ length: dataset.test.count }, (_, i) => i);
  const test = config.testCount && config.testCount < dataset.test.count
    ? stratifiedSample(dataset.test.labels, allTest, config.testCount, rngAt(0, "test-subset"))
    : allTest;
  const trainEval = trainEvalSample(
    dataset.train.labels,
    split.train,
    split.validation.length,
    seed,
  );
  const data: RunData = {
    images: dataset.train.images,
    labels: dataset.train.labels,
    train: split.train,
    validation: split.validation,
    trainEval,
    testImages: dataset.test.images,
    testLabels: dataset.test.labels,
    test,
  };
  const model = buildModel(
    config.layers,
    { ...config.model, classes: dataset.classes },
    (path) => rngAt(seed, "init", path),
  );
  const hash = configHash(storedConfig(task, env));
  const prepare = (performance.now() - started) / 1000;
  try {
    const resume = await resumeState(options.checkpoint, hash, model, config.train);
    const result = trainModel(model, data, {
      seed,
      classes: dataset.classes,
      train: config.train,
      eval: config.eval,
      ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
      ...(resume ? { resume } : {}),
      ...checkpointing(options.checkpoint, hash, task, env),
    });
    if (!result) return undefined;
    await options.onModel?.(model);
    const common = {
      experiment: config.experiment,
      variant: config.variant,
      seed: String(seed),
      profile: config.profile,
      backend: env.backend,
      threads: String(env.threads),
    };
    options.onTimings?.({
      dataset: 0,
      prepare,
      ...result.phases,
      total: (performance.now() - started) / 1000,
    });
    const diverged = divergedAt(result);
    return {
      run: runRow(common, result, {
        config_hash: hash,
        status: (diverged === undefined ? "ok" : "diverged") satisfies RunStatus,
        diverged_epoch: diverged === undefined ? "" : String(diverged),
        dataset: dataset.id,
        split_hash: splitHash(split),
        train_examples: String(split.train.length),
        val_examples: String(split.validation.length),
        train_eval_examples: String(trainEval.length),
        test_examples: String(test.length),
        params: String(model.paramCount),
      }),
      epochs: result.epochs.map((e) => epochRow(common, e)),
    };
  } finally {
    model.dispose();
  }
}

/** The state to resume from, if `checkpoint` names a usable one. */
async function resumeState(
  checkpoint: CheckpointOptions | undefined,
  hash: string,
  model: Model,
  settings: RunConfig["train"],
): Promise<TrainState | undefined> {
  if (!checkpoint) return undefined;
  const found = await readCheckpoint(checkpoint.path, hash);
  if (!found) return undefined;
  if ("ignored" in found) {
    checkpoint.onIgnored?.(found.ignored);
    return undefined;
  }
  const problem = stateProblem(model, found.state, settings);
  if (problem) {
    checkpoint.onIgnored?.(`${checkpoint.path}: ${problem}`);
    return undefined;
  }
  checkpoint.onResume?.(found.state.epochs.length);
  return found.state;
}

/** `trainModel`'s checkpoint options for `checkpoint` (none without it). */
function checkpointing(
  checkpoint: CheckpointOptions | undefined,
  hash: string,
  task: RunTask,
  env: RunEnvironment,
): Pick<TrainOptions, "onCheckpoint"> & { suspend?: (epochSeconds: number) => boolean } {
  if (!checkpoint) return {};
  const run = {
    experiment: task.config.experiment,
    variant: task.config.variant,
    seed: task.seed,
    profile: task.config.profile,
    backend: env.backend,
    threads: env.threads,
  };
  const deadline = checkpoint.deadline;
  return {
    onCheckpoint: (state) =>
      writeCheckpoint(checkpoint.path, { configHash: hash, run, state }, checkpoint.root),
    ...(deadline === undefined
      ? {}
      : { suspend: (seconds: number) => Date.now() + 1000 * EPOCH_MARGIN * seconds > deadline }),
  };
}

type Common = Pick<RunRow, "experiment" | "variant" | "seed" | "profile" | "backend" | "threads">;

function runRow(
  common: Common,
  result: RunResult,
  facts: Pick<
    RunRow,
    | "config_hash"
    | "status"
    | "diverged_epoch"
    | "dataset"
    | "split_hash"
    | "train_examples"
    | "val_examples"
    | "train_eval_examples"
    | "test_examples"
    | "params"
  >,
): RunRow {
  const f = result.final;
  return {
    ...common,
    ...facts,
    best_epoch: String(result.bestEpoch),
    epochs_run: String(result.epochs.length),
    final_epoch: String(f.epoch),
    train_loss: formatMetric(f.trainLoss),
    train_acc: formatMetric(f.trainAcc),
    running_train_loss: formatMetric(f.runningTrainLoss),
    running_train_acc: formatMetric(f.runningTrainAcc),
    val_loss: formatMetric(f.valLoss),
    val_acc: formatMetric(f.valAcc),
    test_loss: formatMetric(result.test.loss),
    test_acc: formatMetric(result.test.acc),
    gap: formatMetric(f.trainAcc - f.valAcc),
    seconds: formatSeconds(result.seconds),
  };
}

function epochRow(common: Common, e: EpochMetrics): EpochRow {
  return {
    ...common,
    epoch: String(e.epoch),
    train_loss: formatMetric(e.trainLoss),
    train_acc: formatMetric(e.trainAcc),
    running_train_loss: formatMetric(e.runningTrainLoss),
    running_train_acc: formatMetric(e.runningTrainAcc),
    val_loss: formatMetric(e.valLoss),
    val_acc: formatMetric(e.valAcc),
    lr: formatMetric(e.lr),
    seconds: formatSeconds(e.seconds),
  };
}

/**
 * The training examples on which training loss and accuracy are measured in
 * inference mode: a stratified sample of `train` as large as the validation
 * split (all of `train` when that is smaller), drawn from the stream
 * `seed/train-eval`, so it is fixed for the whole run.
 */
export function trainEvalSample(
  labels: Uint8Array,
  train: Uint32Array,
  size: number,
  seed: number,
): Uint32Array {
  if (size >= train.length) return train;
  return stratifiedSample(labels, train, size, rngAt(seed, "train-eval"));
}
