/**
 * Read one study's results folder (`<results>/<experiment>/<profile>/`) into
 * typed numbers: one record per run with every metric in display units
 * (accuracies in percent, see `metrics.ts`), one record per run and epoch for
 * the learning curves, and the folder's `meta.json`. Nothing here computes
 * statistics; malformed files are `ResultsError`s that name the file, the row
 * and the column.
 *
 * @module
 */
import { join } from "node:path";
import { ResultsError } from "../errors.ts";
import { type Metric, METRICS, type Spec } from "../spec.ts";
import { readMeta, type StudyMeta } from "../study/meta.ts";
import { type EpochRow, readResults, resultPaths, type RunRow } from "../study/results.ts";
import { METRIC_INFO } from "./metrics.ts";

/** Provenance of a results folder, as the report states it. */
export type ReportMeta = StudyMeta;

/** One completed run, metrics in display units. */
export interface RunValues {
  variant: string;
  seed: number;
  /** Trainable and non-trainable parameters of the model. */
  params: number;
  /** Every metric of `METRICS`, in display units (`METRIC_INFO[m].scale` applied). */
  values: Record<Metric, number>;
  splitHash: string;
  examples: { train: number; val: number; test: number };
}

/** One epoch of one run, validation metrics in display units. */
export interface EpochValues {
  variant: string;
  seed: number;
  /** 1-based epoch number. */
  epoch: number;
  val_loss: number;
  /** Percent. */
  val_acc: number;
}

/** The numbers of one study, ready for analysis. */
export interface StudyData {
  experiment: string;
  profile: string;
  /** The results folder these numbers were read from. */
  dir: string;
  meta: ReportMeta;
  /** Runs of variants the spec declares, sorted by spec variant order, then seed. */
  runs: RunValues[];
  /** Epoch rows of those runs, sorted by variant order, seed, epoch. */
  epochs: EpochValues[];
  /** Variants found in runs.csv that the spec no longer declares (their rows are left out). */
  unknownVariants: string[];
}

/**
 * Read the study of `spec` under `profile` from `resultsRoot`, or return
 * `undefined` when the folder has no completed runs. Throws `ResultsError`
 * when runs exist but meta.json is missing, when a row belongs to another
 * experiment or profile, when a (variant, seed) repeats, or when a numeric
 * cell is not a number.
 */
export async function loadStudy(
  resultsRoot: string,
  spec: Spec,
  profile: string,
): Promise<StudyData | undefined> {
  const dir = join(resultsRoot, spec.name, profile);
  const stored = await readResults(dir);
  if (stored.runs.length === 0) return undefined;
  const paths = resultPaths(dir);
  const meta = await readMeta(dir);
  if (!meta) {
    throw new ResultsError(
      `${paths.runs} has ${stored.runs.length} run(s) but ${paths.meta} is missing, so the report ` +
        `could not state what the numbers were made from. Restore meta.json from where the study ` +
        `ran, or rerun the study into a fresh folder.`,
    );
  }
  if (meta.experiment !== spec.name || meta.profile !== profile) {
    throw new ResultsError(
      `${paths.meta} describes ${meta.experiment}/${meta.profile}, but the folder is for ${spec.name}/${profile}; ` +
        `results of different studies must not share a folder. Move the folder to match, or rerun the study.`,
    );
  }
  const order = new Map(spec.variants.map((v, i) => [v.name, i]));
  const unknown = new Set<string>();
  const seen = new Set<string>();
  const runs: RunValues[] = [];
  stored.runs.forEach((row, i) => {
    const where = `${paths.runs} row ${i + 2}`;
    checkIdentity(row, where, spec.name, profile);
    if (!order.has(row.variant)) {
      unknown.add(row.variant);
      return;
    }
    const key = `${row.variant}#${row.seed}`;
    if (seen.has(key)) {
      throw new ResultsError(
        `${where}: variant ${row.variant} seed ${row.seed} appears twice in runs.csv; each run must be ` +
          `stored once. Remove the duplicate row (keep the one matching epochs.csv) or rerun the study.`,
      );
    }
    seen.add(key);
    runs.push(runValues(row, where));
  });
  const epochs = stored.epochs
    .filter((row) => order.has(row.variant))
    .map((row, i) => epochValues(row, `${paths.epochs} row ${i + 2}`));
  const rank = (v: string) => order.get(v)!;
  runs.sort((x, y) => rank(x.variant) - rank(y.variant) || x.seed - y.seed);
  epochs.sort((x, y) => rank(x.variant) - rank(y.variant) || x.seed - y.seed || x.epoch - y.epoch);
  return {
    experiment: spec.name,
    profile,
    dir,
    meta,
    runs,
    epochs,
    unknownVariants: [...unknown].sort(),
  };
}

function checkIdentity(row: RunRow, where: string, experiment: string, profile: string): void {
  if (row.experiment !== experiment || row.profile !== profile) {
    throw new ResultsError(
      `${where} belongs to experiment "${row.experiment}", profile "${row.profile}", but the folder ` +
        `is for ${experiment}/${profile}; results of different studies must not share a folder. ` +
        `Move the file to the matching folder or rerun the study.`,
    );
  }
}

function runValues(row: RunRow, where: string): RunValues {
  const number = (column: keyof RunRow) => numberCell(row[column], column, where);
  const values = {} as Record<Metric, number>;
  const params = number("params");
  for (const metric of METRICS) {
    const raw = metric === "acc_per_mparam" ? number("test_acc") / (params / 1e6) : number(metric);
    values[metric] = raw * METRIC_INFO[metric].scale;
  }
  return {
    variant: row.variant,
    seed: integerCell(row.seed, "seed", where),
    params,
    values,
    splitHash: row.split_hash,
    examples: {
      train: integerCell(row.train_examples, "train_examples", where),
      val: integerCell(row.val_examples, "val_examples", where),
      test: integerCell(row.test_examples, "test_examples", where),
    },
  };
}

function epochValues(row: EpochRow, where: string): EpochValues {
  return {
    variant: row.variant,
    seed: integerCell(row.seed, "seed", where),
    epoch: integerCell(row.epoch, "epoch", where),
    val_loss: numberCell(row.val_loss, "val_loss", where),
    val_acc: numberCell(row.val_acc, "val_acc", where) * METRIC_INFO.val_acc.scale,
  };
}

function numberCell(text: string | undefined, column: string, where: string): number {
  const x = text === undefined || text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(x)) {
    throw new ResultsError(
      `${where}: column ${column} is "${
        text ?? ""
      }", not a finite number. The file is damaged or was ` +
        `edited by hand; restore it, or delete that run's rows and rerun the study to recompute them.`,
    );
  }
  return x;
}

function integerCell(text: string | undefined, column: string, where: string): number {
  const x = numberCell(text, column, where);
  if (!Number.isSafeInteger(x)) {
    throw new ResultsError(
      `${where}: column ${column} is "${text}", not a whole number. The file is damaged or was edited ` +
        `by hand; restore it, or delete that run's rows and rerun the study to recompute them.`,
    );
  }
  return x;
}
