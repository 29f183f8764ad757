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
import { type Metric, METRICS, type ProfileName, resolveRun, type Spec } from "../spec.ts";
import { readMeta, type StudyMeta } from "../store/meta.ts";
import { configHash, readRecords, readRows, resultPaths, runConfig } from "../store/records.ts";
import { type EpochRow, runKey, type RunRow } from "../store/schema.ts";
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
  /** Wall-clock seconds the run took (NaN when not recorded). */
  seconds: number;
  /** CPU model the run was trained on, from its record (absent when not recorded). */
  cpu?: string;
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
  /** Backend and threads of the runs reported (a folder may hold runs of several). */
  setting: { backend: string; threads: number };
  /** Runs of other backends or thread counts in the folder, left out: "wasm, 1 thread: 4 runs". */
  otherSettings: string[];
  /** Runs that diverged (loss NaN or infinite): shown and counted, left out of every mean. */
  diverged: { variant: string; seed: number; epoch: number }[];
  /** Variants some of whose runs were made from another configuration than the spec's current one. */
  staleVariants: string[];
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
  const stored = await readRows(dir, { experiment: spec.name, profile });
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
  const setting = majoritySetting(stored.runs);
  const same = (r: { backend: string; threads: string }) =>
    r.backend === setting.backend && Number(r.threads) === setting.threads;
  const otherSettings = settingCounts(stored.runs.filter((r) => !same(r)));
  const order = new Map(spec.variants.map((v, i) => [v.name, i]));
  const unknown = new Set<string>();
  const runs: RunValues[] = [];
  const diverged: StudyData["diverged"] = [];
  const stale = new Set<string>();
  const cpus = await recordedCpus(dir);
  stored.runs.forEach((row, i) => {
    const where = `${paths.runs} line ${i + 2}`;
    checkIdentity(row, where, spec.name, profile);
    if (!same(row)) return;
    if (!order.has(row.variant)) {
      unknown.add(row.variant);
      return;
    }
    const resolved = resolveRun(spec, row.variant, profile as ProfileName);
    const current = configHash(runConfig(resolved, {
      seed: Number(row.seed),
      backend: row.backend,
      threads: Number(row.threads),
    }));
    if (current !== row.config_hash) stale.add(row.variant);
    if (row.status === "diverged") {
      diverged.push({
        variant: row.variant,
        seed: Number(row.seed),
        epoch: Number(row.diverged_epoch),
      });
      return;
    }
    const cpu = cpus.get(runKey(row));
    runs.push({ ...runValues(row, where), ...(cpu ? { cpu } : {}) });
  });
  const left = new Set(diverged.map((d) => `${d.variant}#${d.seed}`));
  const epochs = stored.epochs
    .filter((row) => same(row) && order.has(row.variant) && !left.has(`${row.variant}#${row.seed}`))
    .map((row, i) => epochValues(row, `${paths.epochs} line ${i + 2}`));
  const rank = (v: string) => order.get(v)!;
  runs.sort((x, y) => rank(x.variant) - rank(y.variant) || x.seed - y.seed);
  epochs.sort((x, y) => rank(x.variant) - rank(y.variant) || x.seed - y.seed || x.epoch - y.epoch);
  diverged.sort((x, y) => rank(x.variant) - rank(y.variant) || x.seed - y.seed);
  return {
    experiment: spec.name,
    profile,
    dir,
    meta,
    runs,
    epochs,
    unknownVariants: [...unknown].sort(),
    setting,
    otherSettings,
    diverged,
    staleVariants: spec.variants.map((v) => v.name).filter((v) => stale.has(v)),
  };
}

/** The (backend, threads) most runs have; ties go to the first in sorted order. */
function majoritySetting(runs: readonly RunRow[]): { backend: string; threads: number } {
  const counts = new Map<string, number>();
  for (const r of runs) {
    counts.set(`${r.backend} ${r.threads}`, (counts.get(`${r.backend} ${r.threads}`) ?? 0) + 1);
  }
  const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const [backend, threads] = best![0].split(" ") as [string, string];
  return { backend, threads: Number(threads) };
}

function settingCounts(runs: readonly RunRow[]): string[] {
  const counts = new Map<string, number>();
  for (const r of runs) {
    const t = Number(r.threads);
    const key = `${r.backend}, ${t} thread${t === 1 ? "" : "s"}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort().map(([k, n]) => `${k}: ${n} run${n === 1 ? "" : "s"}`);
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

/**
 * The CPU model of every run whose record names one, by run key. The report only states it, so
 * unreadable records leave it unknown here; `deno task verify` is what checks them.
 */
async function recordedCpus(dir: string): Promise<Map<string, string>> {
  try {
    const records = await readRecords(dir);
    return new Map(
      records.flatMap((r) =>
        r.environment.cpu ? [[runKey(r.run), r.environment.cpu] as const] : []
      ),
    );
  } catch {
    return new Map();
  }
}

function runValues(row: RunRow, where: string): RunValues {
  const number = (column: Metric | "params") =>
    numberCell(row[column as keyof RunRow], column, where);
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
    seconds: row.seconds.trim() === "" ? NaN : Number(row.seconds),
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
