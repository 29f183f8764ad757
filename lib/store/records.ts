/**
 * The results folder of one (experiment, profile), written by any number of
 * processes: each finished run is one record file,
 * `records/<variant>.seed<seed>.<backend>.t<threads>.json`, written to a
 * temporary name and renamed (atomic on POSIX file systems, NFS included).
 * `runs.csv` and `epochs.csv`, the files people open, are regenerated from
 * the records in canonical order (spec variant order, seed, backend,
 * threads, epoch), so any number of workers or writer processes gives the
 * same bytes apart from the time columns.
 *
 * A record holds the run's fully resolved configuration, its SHA-256
 * (`configHash`), the environment it ran in, and its rows.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { ResultsError } from "../errors.ts";
import { parseJsonText, readTextIfExists, writeFileAtomic } from "../fs.ts";
import { canonicalJson, type Json, sha256Hex } from "../hash.ts";
import { PROTOCOL } from "../version.ts";
import {
  EPOCH_COLUMNS,
  EPOCH_METRIC_COLUMNS,
  type EpochRow,
  EpochRowSchema,
  isFiniteCell,
  RUN_COLUMNS,
  type RunIdentity,
  runKey,
  type RunRow,
  RunRowSchema,
} from "./schema.ts";
import { parseEpochs, parseRuns, toCsv } from "./table.ts";

/** Format tag of record files. */
export const RECORD_FORMAT = "bnlab-run-v1";

/** The environment one run was trained in (per run: writers may run on different hosts). */
export const RunEnvironmentSchema = z.strictObject({
  tool: z.string(),
  version: z.string(),
  /** Git commit of the tool (`<sha>[-dirty]`), or "unknown". */
  commit: z.string(),
  deno: z.string(),
  tfjs: z.string(),
  backend: z.string(),
  threads: z.number().int().min(0),
  library: z.string().optional(),
  arch: z.string(),
  cpu: z.string().optional(),
  host: z.string().optional(),
  dataset: z.strictObject({ id: z.string(), digests: z.record(z.string(), z.string()) }),
});
/** The environment one run was trained in. */
export type RunEnvironment = z.infer<typeof RunEnvironmentSchema>;

const RecordSchema = z.strictObject({
  format: z.literal(RECORD_FORMAT),
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  config: z.record(z.string(), z.unknown()),
  environment: RunEnvironmentSchema,
  run: RunRowSchema,
  epochs: z.array(EpochRowSchema).min(1),
});

/** A finished run as stored: configuration, environment, rows. */
export type RunRecord = z.infer<typeof RecordSchema>;

/** Paths of the files of a results folder. */
export function resultPaths(
  dir: string,
): { runs: string; epochs: string; meta: string; records: string; partial: string } {
  return {
    runs: join(dir, "runs.csv"),
    epochs: join(dir, "epochs.csv"),
    meta: join(dir, "meta.json"),
    records: join(dir, "records"),
    partial: join(dir, "partial"),
  };
}

/**
 * SHA-256 of a resolved run configuration's canonical JSON (keys sorted,
 * `undefined` fields dropped): the identity stored runs are matched by.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configHash } from "./records.ts";
 * assert.equal(configHash({ b: 1, a: undefined }), configHash({ b: 1 }));
 * ```
 */
export function configHash(config: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(JSON.parse(JSON.stringify(config)) as Json));
}

/**
 * The fully resolved configuration of a run as stored with it and hashed
 * (`config_hash`): the spec's resolved settings for the variant and profile,
 * the protocol version (lib/version.ts), the seed, backend and threads.
 */
export function runConfig(
  resolved: object,
  run: { seed: number; backend: string; threads: number },
): Record<string, unknown> {
  return {
    ...resolved,
    protocol: PROTOCOL,
    seed: run.seed,
    backend: run.backend,
    threads: run.threads,
  };
}

/** File name of a run's record. */
export function recordName(key: RunIdentity): string {
  return `${key.variant}.seed${key.seed}.${key.backend}.t${key.threads}.json`;
}

/**
 * Check a record's internal consistency: its hash, identity and epoch rows.
 * Throws `ResultsError` naming `source`.
 */
export function checkRecord(record: RunRecord, source: string): void {
  const problem = (what: string) =>
    new ResultsError(
      `${source}: ${what}. The record is damaged or was edited by hand; delete it and rerun ` +
        `the study to retrain that run.`,
    );
  if (configHash(record.config) !== record.configHash) {
    throw problem("its configuration does not match its configHash");
  }
  if (record.run.config_hash !== record.configHash) {
    throw problem("its run row's config_hash differs from its configHash");
  }
  if (record.epochs.length !== Number(record.run.epochs_run)) {
    throw problem(
      `it has ${record.epochs.length} epoch rows but epochs_run is ${record.run.epochs_run}`,
    );
  }
  const key = runKey(record.run);
  record.epochs.forEach((e, i) => {
    if (runKey(e) !== key || e.experiment !== record.run.experiment || Number(e.epoch) !== i + 1) {
      throw problem(`epoch row ${i + 1} belongs to another run or is out of order`);
    }
  });
}

/**
 * Store a finished run: write its record file atomically (replacing a record
 * of the same key, e.g. of an edited variant). Refuses symbolic links under
 * `root`. Throws `ResultsError` for an inconsistent record.
 */
export async function writeRecord(dir: string, record: RunRecord, root: string): Promise<string> {
  checkRecord(record, "the record to store");
  const path = join(resultPaths(dir).records, recordName(record.run));
  await writeFileAtomic(path, JSON.stringify(record, null, 1) + "\n", { root });
  return path;
}

/**
 * Read and validate every record of `dir` (none when there is no `records/`).
 * Throws `ResultsError` naming the file for invalid JSON, a schema problem,
 * an inconsistent record or a file name that does not match its run.
 */
export async function readRecords(dir: string): Promise<RunRecord[]> {
  const folder = resultPaths(dir).records;
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.name.endsWith(".json")) names.push(entry.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const records: RunRecord[] = [];
  for (const name of names.sort()) {
    const path = join(folder, name);
    const text = await readTextIfExists(path);
    if (text === undefined) continue; // replaced by another writer meanwhile
    const json = parseJsonText(
      path,
      text,
      (m) => new ResultsError(`${m}; delete it and rerun the study to retrain that run.`),
    );
    const parsed = RecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ResultsError(
        `${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}. The record was written ` +
          `by another version of bnlab or edited by hand; delete it and rerun the study.`,
      );
    }
    checkRecord(parsed.data, path);
    if (recordName(parsed.data.run) !== name) {
      throw new ResultsError(
        `${path} holds the run ${runKey(parsed.data.run)}, not the one its name says; ` +
          `rename or delete it.`,
      );
    }
    records.push(parsed.data);
  }
  return records;
}

/** Compare two runs in canonical order: variant rank (`order`, unknown last by name), seed, backend, threads. */
export function compareRunsIn(
  order: readonly string[],
): (a: RunIdentity, b: RunIdentity) => number {
  const rank = (v: string) => {
    const i = order.indexOf(v);
    return i < 0 ? order.length : i;
  };
  return (a, b) =>
    rank(a.variant) - rank(b.variant) ||
    (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0) ||
    Number(a.seed) - Number(b.seed) ||
    (a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0) ||
    Number(a.threads) - Number(b.threads);
}

/** The CSV texts of `records` in canonical order (`order`: the spec's variant order). */
export function csvOf(
  records: readonly RunRecord[],
  order: readonly string[],
): { runs: string; epochs: string } {
  const sorted = [...records].sort((a, b) => compareRunsIn(order)(a.run, b.run));
  return {
    runs: toCsv(sorted.map((r) => r.run), RUN_COLUMNS),
    epochs: toCsv(sorted.flatMap((r) => r.epochs), EPOCH_COLUMNS),
  };
}

/**
 * Regenerate `runs.csv` and `epochs.csv` of `dir` from its records, in
 * canonical order; epochs.csv first, runs.csv last, each atomically and only
 * when its bytes change. With
 * several writers, each regenerates after storing its record and again if
 * the records changed meanwhile, so the last writer's files hold every
 * record. Refuses symbolic links under `root`.
 */
export async function regenerateCsv(
  dir: string,
  order: readonly string[],
  root: string,
): Promise<void> {
  const paths = resultPaths(dir);
  let records = await readRecords(dir);
  for (let attempt = 0; attempt < 10; attempt++) {
    const { runs, epochs } = csvOf(records, order);
    if ((await readTextIfExists(paths.epochs)) !== epochs) {
      await writeFileAtomic(paths.epochs, epochs, { root });
    }
    if ((await readTextIfExists(paths.runs)) !== runs) {
      await writeFileAtomic(paths.runs, runs, { root });
    }
    const again = await readRecords(dir);
    if (fingerprint(again) === fingerprint(records)) return;
    records = again;
  }
}

function fingerprint(records: readonly RunRecord[]): string {
  return records.map((r) => `${runKey(r.run)}:${r.configHash}:${r.run.seconds}`).sort().join(
    "\n",
  );
}

/** The rows of a results folder's CSVs, validated. */
export interface StoredRows {
  runs: RunRow[];
  epochs: EpochRow[];
}

/**
 * Read `runs.csv` and `epochs.csv` of `dir` (empty when absent), validating
 * every row (see `table.ts`). Epoch rows of runs that runs.csv lacks are
 * dropped (a writer stopped between the two files); a run whose epoch rows
 * are missing is a `ResultsError`, as is a row of another experiment or
 * profile when `expect` is given.
 */
export async function readRows(
  dir: string,
  expect?: { experiment: string; profile: string },
): Promise<StoredRows> {
  const paths = resultPaths(dir);
  const runs = parseRuns(await readTextIfExists(paths.runs), paths.runs);
  const epochs = parseEpochs(await readTextIfExists(paths.epochs), paths.epochs);
  if (expect) {
    for (const [path, rows] of [[paths.runs, runs], [paths.epochs, epochs]] as const) {
      for (const { row, line } of rows) {
        if (row.experiment !== expect.experiment || row.profile !== expect.profile) {
          throw new ResultsError(
            `${path} line ${line} belongs to ${row.experiment}/${row.profile}, but the folder is ` +
              `for ${expect.experiment}/${expect.profile}; results of different studies must not ` +
              `share a folder. Move the file to the matching folder or rerun the study.`,
          );
        }
      }
    }
  }
  const count = new Map<string, number>();
  const done = new Map(runs.map(({ row }) => [runKey(row), row]));
  const kept = epochs.filter(({ row }) => done.has(runKey(row)));
  for (const { row, line } of kept) {
    const run = done.get(runKey(row))!;
    const from = run.status === "diverged" ? Number(run.diverged_epoch) : Infinity;
    for (const column of EPOCH_METRIC_COLUMNS) {
      if (!isFiniteCell(row[column]) && Number(row.epoch) < from) {
        throw new ResultsError(
          `${paths.epochs} line ${line}, column ${
            EPOCH_COLUMNS.indexOf(column) + 1
          } (${column}): ` +
            `"${row[column]}" is not finite, but ${row.variant} seed ${row.seed} ` +
            (run.status === "diverged"
              ? `diverged only at epoch ${run.diverged_epoch}`
              : `did not diverge`) +
            `. Delete both CSVs and rerun the study to regenerate them from the per-run records.`,
        );
      }
    }
  }
  for (const { row } of kept) count.set(runKey(row), (count.get(runKey(row)) ?? 0) + 1);
  for (const { row, line } of runs) {
    const n = count.get(runKey(row)) ?? 0;
    if (n !== Number(row.epochs_run)) {
      throw new ResultsError(
        `${paths.runs} line ${line}: ${row.variant} seed ${row.seed} ran ${row.epochs_run} ` +
          `epoch(s) but ${paths.epochs} has ${n} row(s) for it. Delete both CSVs and rerun the ` +
          `study to regenerate them from the per-run records.`,
      );
    }
  }
  return { runs: runs.map((r) => r.row), epochs: kept.map((e) => e.row) };
}
