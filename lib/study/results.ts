/**
 * The results folder of one (experiment, profile): `runs.csv` (one row per
 * completed run), `epochs.csv` (one row per run and epoch) and `meta.json`.
 *
 * Writes are atomic (temporary file, rename) and `runs.csv` is the commit
 * point: a run's epoch rows are written first, its run row last. Epoch rows
 * without a run row (a process killed between the two writes) are dropped
 * when the folder is read, so an interrupted study never leaves duplicates.
 *
 * Every column is deterministic for a given (experiment, variant, seed,
 * profile, backend, threads) except `seconds`.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { join } from "node:path";
import { ResultsError } from "../errors.ts";
import { readTextIfExists, writeFileAtomic } from "../fs.ts";

/** Columns of runs.csv, in order. */
export const RUN_COLUMNS = [
  "experiment",
  "variant",
  "seed",
  "profile",
  "backend",
  "threads",
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

/** A runs.csv row (all values as written). */
export type RunRow = Record<(typeof RUN_COLUMNS)[number], string>;
/** An epochs.csv row (all values as written). */
export type EpochRow = Record<(typeof EPOCH_COLUMNS)[number], string>;

/** A completed run: its run row and its epoch rows. */
export interface RunRecord {
  run: RunRow;
  epochs: EpochRow[];
}

/** Identity of a run within a results folder. */
export function runKey(row: { variant: string; seed: string | number }): string {
  return `${row.variant}#${row.seed}`;
}

/**
 * A metric as written to CSV: the shortest decimal that round-trips at 9
 * significant digits (enough for float32), so equal values give equal bytes.
 */
export function formatMetric(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(9)));
}

/** Seconds as written to CSV (10 ms resolution). */
export function formatSeconds(x: number): string {
  return x.toFixed(2);
}

/** The rows stored in a results folder; orphaned epoch rows are dropped. */
export interface StoredResults {
  runs: RunRow[];
  epochs: EpochRow[];
}

/** Paths of the files of a results folder. */
export function resultPaths(dir: string): { runs: string; epochs: string; meta: string } {
  return {
    runs: join(dir, "runs.csv"),
    epochs: join(dir, "epochs.csv"),
    meta: join(dir, "meta.json"),
  };
}

/** Read a results folder (empty when it has no CSVs yet). Throws `ResultsError` for malformed CSV. */
export async function readResults(dir: string): Promise<StoredResults> {
  const paths = resultPaths(dir);
  const runs = parseCsv<RunRow>(await readTextIfExists(paths.runs), paths.runs, RUN_COLUMNS);
  const done = new Set(runs.map(runKey));
  const epochs = parseCsv<EpochRow>(
    await readTextIfExists(paths.epochs),
    paths.epochs,
    EPOCH_COLUMNS,
  )
    .filter((row) => done.has(runKey(row)));
  return { runs, epochs };
}

/**
 * Append a completed run to the folder: epochs.csv first, runs.csv last, each
 * rewritten atomically. Throws `ResultsError` if the run is already stored.
 */
export async function appendRun(dir: string, record: RunRecord): Promise<void> {
  const stored = await readResults(dir);
  const key = runKey(record.run);
  if (stored.runs.some((r) => runKey(r) === key)) {
    throw new ResultsError(`Run ${key} is already stored in ${dir}.`);
  }
  const paths = resultPaths(dir);
  await writeFileAtomic(paths.epochs, toCsv([...stored.epochs, ...record.epochs], EPOCH_COLUMNS));
  await writeFileAtomic(paths.runs, toCsv([...stored.runs, record.run], RUN_COLUMNS));
}

/** Rows as CSV text with a header, LF line endings. */
export function toCsv<T extends Record<string, string>>(
  rows: T[],
  columns: readonly string[],
): string {
  return stringify(rows, { header: true, columns: [...columns], record_delimiter: "\n" });
}

function parseCsv<T>(text: string | undefined, path: string, columns: readonly string[]): T[] {
  if (text === undefined || text.trim() === "") return [];
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch (err) {
    throw new ResultsError(
      `Cannot read ${path}: ${(err as Error).message}. Move it away and rerun.`,
    );
  }
  const header = text.slice(0, text.indexOf("\n")).split(",");
  if (header.join(",") !== columns.join(",")) {
    throw new ResultsError(
      `${path} has columns ${header.join(",")}, expected ${columns.join(",")}; it was written by ` +
        `another version of bnlab. Move it away and rerun.`,
    );
  }
  return rows as T[];
}
