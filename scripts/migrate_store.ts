/**
 * One-off migration of results folders and golden files written before the
 * results store (`lib/store/`) to its layout, without retraining:
 *
 * - every `results/<experiment>/<profile>/` with an old-format runs.csv gets
 *   one record per run (`records/`), runs.csv and epochs.csv regenerated in
 *   canonical order with the new columns, and a meta.json without machine
 *   paths. New columns: `config_hash` (the run's resolved configuration,
 *   reconstructed from the spec, which must hash to the `specHash` the old
 *   meta.json recorded), `status` (`ok`, or `diverged` for non-finite
 *   losses), `diverged_epoch`, `train_eval_examples` (= train_examples: the
 *   old training figures are running means over the whole training split)
 *   and `running_train_loss`/`running_train_acc` (= the old train_loss and
 *   train_acc, which were exactly that). Every old cell is kept verbatim.
 * - every golden file of format v1 whose runs are stored is re-blessed in
 *   format v2 from the migrated runs, and its numbers are compared with the
 *   old file's: the script prints each difference, or that there is none.
 *
 * Usage: deno run --allow-read=. --allow-write=results,golden scripts/migrate_store.ts
 *        deno run --allow-read=. scripts/migrate_store.ts compare OLD.json NEW.json
 *
 * Folders already in the new layout are left alone, so running it twice is
 * harmless.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { parse } from "csv-parse/sync";
import { join } from "node:path";
import { loadSpec, type ProfileName, resolveRun, specHash } from "../lib/spec.ts";
import {
  GOLDEN_DIR,
  RUN_METRICS,
  selectResults,
  SUMMARY_METRICS,
  writeGolden,
} from "../lib/store/golden.ts";
import type { StudyMeta } from "../lib/store/meta.ts";
import {
  configHash,
  readRecords,
  RECORD_FORMAT,
  regenerateCsv,
  resultPaths,
  runConfig,
  type RunRecord,
  writeRecord,
} from "../lib/store/records.ts";
import { type EpochRow, isFiniteCell, type RunRow } from "../lib/store/schema.ts";
import { writeFileAtomic } from "../lib/fs.ts";

type Old = Record<string, string>;

function readCsv(path: string): Old[] {
  return parse(Deno.readTextFileSync(path), { columns: true, skip_empty_lines: true }) as Old[];
}

async function migrateFolder(root: string, experiment: string, profile: string): Promise<boolean> {
  const dir = join(root, experiment, profile);
  const paths = resultPaths(dir);
  const header = Deno.readTextFileSync(paths.runs).split("\n")[0]!;
  if (header.includes("config_hash")) {
    console.log(`${dir}: already in the store layout`);
    return false;
  }
  const old = JSON.parse(Deno.readTextFileSync(paths.meta));
  const spec = await loadSpec(experiment);
  if (specHash(spec) !== old.specHash) {
    throw new Error(
      `${dir} was made from another version of experiments/${experiment}.json (spec hash ` +
        `${old.specHash}, now ${specHash(spec)}); its configurations cannot be reconstructed.`,
    );
  }
  const epochsByRun = new Map<string, Old[]>();
  for (const e of readCsv(paths.epochs)) {
    const key = `${e.variant}#${e.seed}`;
    epochsByRun.set(key, [...(epochsByRun.get(key) ?? []), e]);
  }
  const environment = {
    tool: old.tool,
    version: old.version,
    commit: "unknown",
    deno: old.deno,
    tfjs: old.tfjs,
    backend: old.backend,
    threads: old.threads,
    ...(old.library ? { library: old.library } : {}),
    arch: old.cpu.arch,
    ...(old.cpu.model ? { cpu: old.cpu.model } : {}),
    dataset: { id: old.dataset.id, digests: old.dataset.digests },
  };
  let count = 0;
  for (const r of readCsv(paths.runs)) {
    const config = runConfig(resolveRun(spec, r.variant!, profile as ProfileName), {
      seed: Number(r.seed),
      backend: r.backend!,
      threads: Number(r.threads),
    });
    const epochs: EpochRow[] = (epochsByRun.get(`${r.variant}#${r.seed}`) ?? [])
      .sort((a, b) => Number(a.epoch) - Number(b.epoch))
      .map((e) => ({
        experiment: e.experiment!,
        variant: e.variant!,
        seed: e.seed!,
        profile: e.profile! as EpochRow["profile"],
        backend: e.backend! as EpochRow["backend"],
        threads: e.threads!,
        epoch: e.epoch!,
        train_loss: e.train_loss!,
        train_acc: e.train_acc!,
        running_train_loss: e.train_loss!,
        running_train_acc: e.train_acc!,
        val_loss: e.val_loss!,
        val_acc: e.val_acc!,
        lr: e.lr!,
        seconds: e.seconds!,
      }));
    const bad = epochs.find((e) => !isFiniteCell(e.train_loss) || !isFiniteCell(e.val_loss));
    const diverged = bad ? bad.epoch : isFiniteCell(r.test_loss!) ? "" : r.epochs_run!;
    const run: RunRow = {
      experiment: r.experiment!,
      variant: r.variant!,
      seed: r.seed!,
      profile: r.profile! as RunRow["profile"],
      backend: r.backend! as RunRow["backend"],
      threads: r.threads!,
      config_hash: configHash(config),
      status: diverged === "" ? "ok" : "diverged",
      diverged_epoch: diverged,
      dataset: r.dataset!,
      split_hash: r.split_hash!,
      train_examples: r.train_examples!,
      val_examples: r.val_examples!,
      train_eval_examples: r.train_examples!,
      test_examples: r.test_examples!,
      params: r.params!,
      best_epoch: r.best_epoch!,
      epochs_run: r.epochs_run!,
      final_epoch: r.final_epoch!,
      train_loss: r.train_loss!,
      train_acc: r.train_acc!,
      running_train_loss: r.train_loss!,
      running_train_acc: r.train_acc!,
      val_loss: r.val_loss!,
      val_acc: r.val_acc!,
      test_loss: r.test_loss!,
      test_acc: r.test_acc!,
      gap: r.gap!,
      seconds: r.seconds!,
    };
    const record: RunRecord = {
      format: RECORD_FORMAT,
      configHash: run.config_hash,
      config,
      environment,
      run,
      epochs,
    };
    await writeRecord(dir, record, root);
    count++;
  }
  await regenerateCsv(dir, spec.variants.map((v) => v.name), root);
  const meta: StudyMeta = {
    tool: old.tool,
    version: old.version,
    commit: "unknown",
    createdAt: "unknown (migrated from the layout before the results store)",
    deno: old.deno,
    v8: old.v8,
    typescript: old.typescript,
    tfjs: old.tfjs,
    backend: old.backend,
    threads: old.threads,
    ...(old.library ? { library: old.library } : {}),
    cpu: old.cpu,
    experiment: old.experiment,
    profile: old.profile,
    dataset: { requested: old.dataset.requested, id: old.dataset.id, digests: old.dataset.digests },
    command: old.command,
  };
  await writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + "\n", { root });
  console.log(`${dir}: migrated ${count} runs`);
  return true;
}

/** Every number of two golden files (v1 or v2) that should agree, compared; returns the differences. */
function compareGolden(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  // deno-lint-ignore no-explicit-any
  const a = before as any, b = after as any;
  const diffs: string[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) {
      diffs.push(`${what}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
    }
  };
  for (const k of ["experiment", "profile", "seeds", "environment", "dataset", "splits"]) {
    same(k, a[k], b[k]);
  }
  same("variants", Object.keys(a.variants).sort(), Object.keys(b.variants).sort());
  for (const v of Object.keys(a.variants)) {
    for (const m of SUMMARY_METRICS) {
      same(`variants.${v}.${m}`, a.variants[v][m], b.variants[v]?.[m]);
    }
  }
  same("runs", a.runs.length, b.runs.length);
  for (const r of a.runs) {
    const s = b.runs.find((x: { variant: string; seed: number }) =>
      x.variant === r.variant && x.seed === r.seed
    );
    for (const m of RUN_METRICS) same(`runs.${r.variant}#${r.seed}.${m}`, r[m], s?.[m]);
  }
  return diffs;
}

async function migrateGolden(root: string): Promise<void> {
  for (const entry of [...Deno.readDirSync(GOLDEN_DIR)].sort((x, y) => x.name < y.name ? -1 : 1)) {
    const path = join(GOLDEN_DIR, entry.name);
    const before = JSON.parse(Deno.readTextFileSync(path));
    if (before.format !== "bnlab-golden-v1") continue;
    const dir = join(root, before.experiment, before.profile);
    const records = await readRecords(dir);
    if (records.length === 0) {
      console.log(`${path}: no stored runs (re-bless it by retraining: --bless)`);
      continue;
    }
    const seeds = new Set(before.seeds.map(String));
    const variants = new Set(Object.keys(before.variants));
    const env = before.environment;
    const results = selectResults(
      records,
      (r) =>
        seeds.has(r.seed) && variants.has(r.variant) && r.backend === env.backend &&
        Number(r.threads) === env.threads,
    );
    const written = await writeGolden(results, GOLDEN_DIR);
    const diffs = compareGolden(before, JSON.parse(Deno.readTextFileSync(written)));
    console.log(
      diffs.length === 0
        ? `${written}: re-blessed in format v2; every number unchanged (summaries, runs, ` +
          `environment, dataset, splits)`
        : `${written}: re-blessed; DIFFERENCES:\n  ${diffs.join("\n  ")}`,
    );
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "compare") {
    const [, a, b] = Deno.args;
    const diffs = compareGolden(
      JSON.parse(Deno.readTextFileSync(a!)),
      JSON.parse(Deno.readTextFileSync(b!)),
    );
    console.log(diffs.length === 0 ? "every number unchanged" : diffs.join("\n"));
    Deno.exit(diffs.length === 0 ? 0 : 1);
  }
  const root = "results";
  for (const experiment of [...Deno.readDirSync(root)].map((e) => e.name).sort()) {
    if (experiment.startsWith(".")) continue;
    for (const profile of [...Deno.readDirSync(join(root, experiment))].map((e) => e.name).sort()) {
      if (Deno.statSync(join(root, experiment, profile, "runs.csv")).isFile) {
        await migrateFolder(root, experiment, profile);
      }
    }
  }
  await migrateGolden(root);
}
