/**
 * The shape of stored results, in one place: the columns of `runs.csv` and
 * `epochs.csv`, the zod schema every row is validated with, the run key, and
 * how numbers are written. Every value is kept as the text written to CSV, so
 * equal results give equal bytes.
 *
 * A run is identified within a results folder by its key (variant, seed,
 * backend, threads) and matched against a spec by `config_hash`, the SHA-256
 * of the fully resolved configuration the training loop used.
 *
 * @module
 */
import { z } from "zod";

/** Columns of runs.csv, in order. */
export const RUN_COLUMNS = [
  "experiment",
  "variant",
  "seed",
  "profile",
  "backend",
  "threads",
  "config_hash",
  "status",
  "diverged_epoch",
  "dataset",
  "split_hash",
  "train_examples",
  "val_examples",
  "train_eval_examples",
  "test_examples",
  "params",
  "best_epoch",
  "epochs_run",
  "final_epoch",
  "train_loss",
  "train_acc",
  "running_train_loss",
  "running_train_acc",
  "val_loss",
  "val_acc",
  "test_loss",
  "test_acc",
  "gap",
  "seconds",
] as const;

/** Columns of epochs.csv, in order. */
export const EPOCH_COLUMNS = [
  "experiment",
  "variant",
  "seed",
  "profile",
  "backend",
  "threads",
  "epoch",
  "train_loss",
  "train_acc",
  "running_train_loss",
  "running_train_acc",
  "val_loss",
  "val_acc",
  "lr",
  "seconds",
] as const;

/** Columns that may differ between two runs of the same configuration. */
export const TIMING_COLUMNS: readonly string[] = ["seconds"];

/** Status of a stored run: `ok`, or `diverged` (a loss became NaN or infinite). */
export const RUN_STATUSES = ["ok", "diverged"] as const;
/** Status of a stored run. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Metric columns of runs.csv (numbers that may be non-finite in a diverged run). */
export const RUN_METRIC_COLUMNS = [
  "train_loss",
  "train_acc",
  "running_train_loss",
  "running_train_acc",
  "val_loss",
  "val_acc",
  "test_loss",
  "test_acc",
  "gap",
] as const;

/** Metric columns of epochs.csv. */
export const EPOCH_METRIC_COLUMNS = [
  "train_loss",
  "train_acc",
  "running_train_loss",
  "running_train_acc",
  "val_loss",
  "val_acc",
] as const;

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const name = z.string().regex(/^[a-z0-9_]+$/, "expected lowercase letters, digits and _");
const whole = z.string().regex(/^(0|[1-9]\d*)$/, "expected a whole number");
const positive = z.string().regex(/^[1-9]\d*$/, "expected a positive whole number");
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 hexadecimal digits");
/** A metric cell: a decimal number, or NaN/±Infinity (allowed only where a run diverged). */
const metric = z.string().refine(
  (s) => NUMBER.test(s) || s === "NaN" || s === "Infinity" || s === "-Infinity",
  "expected a number",
);
const finite = z.string().regex(NUMBER, "expected a finite number");
const seconds = z.string().regex(/^\d+\.\d\d$/, "expected seconds with two decimals");
const common = {
  experiment: name,
  variant: name,
  seed: whole,
  profile: z.enum(["smoke", "quick", "full"]),
  backend: z.enum(["native", "wasm", "cpu", "tensorflow"]),
  threads: whole,
};

/** The schema of one runs.csv row (every cell as written). */
export const RunRowSchema = z.strictObject({
  ...common,
  config_hash: hex64,
  status: z.enum(RUN_STATUSES),
  diverged_epoch: z.union([z.literal(""), positive]),
  dataset: z.string().regex(/^[a-z0-9-]+$/, "expected a dataset id"),
  split_hash: hex64,
  train_examples: positive,
  val_examples: positive,
  train_eval_examples: positive,
  test_examples: positive,
  params: positive,
  best_epoch: whole,
  epochs_run: positive,
  final_epoch: positive,
  train_loss: metric,
  train_acc: metric,
  running_train_loss: metric,
  running_train_acc: metric,
  val_loss: metric,
  val_acc: metric,
  test_loss: metric,
  test_acc: metric,
  gap: metric,
  seconds,
}).superRefine((row, ctx) => {
  if ((row.status === "diverged") !== (row.diverged_epoch !== "")) {
    ctx.addIssue({
      code: "custom",
      path: ["diverged_epoch"],
      message: row.status === "diverged"
        ? "a diverged run needs the epoch it diverged at"
        : "only a diverged run has a diverged_epoch",
    });
  }
  if (row.status === "ok") {
    for (const column of RUN_METRIC_COLUMNS) {
      if (!NUMBER.test(row[column])) {
        ctx.addIssue({
          code: "custom",
          path: [column],
          message: "not finite, but the run's status is ok (not diverged)",
        });
      }
    }
  }
});

/** The schema of one epochs.csv row (every cell as written). */
export const EpochRowSchema = z.strictObject({
  ...common,
  epoch: positive,
  train_loss: metric,
  train_acc: metric,
  running_train_loss: metric,
  running_train_acc: metric,
  val_loss: metric,
  val_acc: metric,
  lr: finite,
  seconds,
});

/** A runs.csv row (all values as written). */
export type RunRow = z.infer<typeof RunRowSchema>;
/** An epochs.csv row (all values as written). */
export type EpochRow = z.infer<typeof EpochRowSchema>;

/** The fields that identify a run within a results folder. */
export interface RunIdentity {
  variant: string;
  seed: string | number;
  backend: string;
  threads: string | number;
}

/** Identity of a run within a results folder: `variant#seed@backend/threads`. */
export function runKey(row: RunIdentity): string {
  return `${row.variant}#${row.seed}@${row.backend}/${row.threads}`;
}

/** A run key as words, for messages: `bn seed 2 (wasm, 1 thread)`. */
export function describeKey(row: RunIdentity): string {
  const t = Number(row.threads);
  return `${row.variant} seed ${row.seed} (${row.backend}, ${t} thread${t === 1 ? "" : "s"})`;
}

/**
 * A metric as written to CSV: the shortest decimal that round-trips at 9
 * significant digits (enough for float32), so equal values give equal bytes;
 * non-finite values as `NaN`, `Infinity`, `-Infinity`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMetric } from "./schema.ts";
 * assert.equal(formatMetric(0.1 + 0.2), "0.3");
 * assert.equal(formatMetric(NaN), "NaN");
 * ```
 */
export function formatMetric(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(9)));
}

/** Seconds as written to CSV (10 ms resolution). */
export function formatSeconds(x: number): string {
  return x.toFixed(2);
}

/** True when a stored metric cell holds a finite number. */
export function isFiniteCell(text: string): boolean {
  return NUMBER.test(text);
}
