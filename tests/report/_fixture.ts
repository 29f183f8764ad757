/**
 * Realistic results folders generated in code for the report tests:
 * runs.csv and epochs.csv with exactly the study's columns, and a meta.json
 * like the one a study writes. Values are deterministic: a per-variant level
 * plus fixed per-seed offsets, unless a test gives a variant's values
 * explicitly (to check numbers computed by hand).
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/fs.ts";
import { loadSpec, type ProfileName, resolveRun, type Spec } from "../../lib/spec.ts";
import {
  configHash,
  RECORD_FORMAT,
  recordName,
  resultPaths,
  runConfig,
  type RunRecord,
} from "../../lib/store/records.ts";
import {
  EPOCH_COLUMNS,
  type EpochRow,
  formatMetric,
  RUN_COLUMNS,
  type RunRow,
} from "../../lib/store/schema.ts";
import { toCsv } from "../../lib/store/table.ts";

/** Per-run values a test may fix for a variant (one entry per seed, in seed order). */
export interface VariantValues {
  test_acc?: number[];
  best_epoch?: number[];
  gap?: number[];
  val_loss?: number[];
}

/** Options of {@linkcode writeFixture}. */
export interface FixtureOptions {
  profile?: string;
  seeds?: number[];
  /** Variants to write (default: all of the spec). */
  variants?: string[];
  /** Dataset actually trained on (default: the spec's). */
  datasetId?: string;
  /** Explicit per-seed values for some variants. */
  values?: Record<string, VariantValues>;
  /** Variants whose rows get another configuration hash than the current spec's. */
  staleVariants?: string[];
  /** Runs stored as diverged (`variant#seed`), with non-finite losses from epoch 1. */
  diverged?: string[];
  /**
   * Also write every run's record (records/), naming the CPU model given for `variant#seed`
   * (none for a run left out) and taking `seconds` for `variant#seed` (default 12.34).
   */
  records?: { cpus: Record<string, string>; seconds?: Record<string, number> };
}

/** Offsets added per seed so variants have spread (fractions of accuracy). */
const SEED_OFFSETS = [
  0.0031,
  -0.0024,
  0.0012,
  -0.0041,
  0.0022,
  0.0008,
  -0.0015,
  0.0035,
  -0.0006,
  0.0019,
];

/** Write a results folder for `spec` under `root`; returns the folder path. */
export async function writeFixture(
  root: string,
  spec: Spec,
  options: FixtureOptions = {},
): Promise<string> {
  const profile = options.profile ?? "quick";
  const seeds = options.seeds ?? [0, 1, 2, 3, 4];
  const variants = options.variants ?? spec.variants.map((v) => v.name);
  const dir = join(root, spec.name, profile);
  const runs: RunRow[] = [];
  const epochs: EpochRow[] = [];
  const records: RunRecord[] = [];
  variants.forEach((variant, vi) => {
    seeds.forEach((seed, si) => {
      const fixed = options.values?.[variant];
      const offset = SEED_OFFSETS[si % SEED_OFFSETS.length]!;
      const testAcc = fixed?.test_acc?.[si] ?? 0.88 + 0.004 * vi + offset;
      const bestEpoch = fixed?.best_epoch?.[si] ?? 3 + ((vi + si) % 3);
      const gap = fixed?.gap?.[si] ?? 0.02 + 0.003 * vi - offset / 2;
      const epochsRun = Math.min(bestEpoch + 3, 6);
      const valAcc = testAcc + 0.002;
      const trainAcc = valAcc + gap;
      const valLoss = fixed?.val_loss?.[si] ?? 0.34 - 0.01 * vi + offset;
      const common = {
        experiment: spec.name,
        variant,
        seed: String(seed),
        profile: profile as RunRow["profile"],
        backend: "wasm" as const,
        threads: "1",
      };
      const diverged = options.diverged?.includes(`${variant}#${seed}`) ?? false;
      const loss = (x: number) => diverged ? "NaN" : formatMetric(x);
      for (let e = 1; e <= epochsRun; e++) {
        const distance = Math.abs(e - bestEpoch);
        const trainAccE = formatMetric(Math.min(0.99, trainAcc - 0.01 * (epochsRun - e)));
        epochs.push({
          ...common,
          epoch: String(e),
          train_loss: loss(0.6 - 0.05 * e),
          train_acc: trainAccE,
          running_train_loss: loss(0.6 - 0.05 * e),
          running_train_acc: trainAccE,
          val_loss: loss(valLoss + 0.02 * distance * distance),
          val_acc: formatMetric(valAcc - 0.004 * distance),
          lr: formatMetric(0.001),
          seconds: "1.00",
        });
      }
      const resolved = resolveRun(spec, variant, profile as ProfileName);
      const config = runConfig(
        options.staleVariants?.includes(variant) ? { ...resolved, stale: true } : resolved,
        { seed, backend: "wasm", threads: 1 },
      );
      const run: RunRow = {
        ...common,
        config_hash: configHash(config),
        status: diverged ? "diverged" : "ok",
        diverged_epoch: diverged ? "1" : "",
        dataset: options.datasetId ?? spec.dataset.id,
        split_hash: sha(`split${seed}`),
        train_examples: "8000",
        val_examples: "2000",
        train_eval_examples: "8000",
        test_examples: "10000",
        params: String(400_000 + 10_000 * vi),
        best_epoch: diverged ? "0" : String(bestEpoch),
        epochs_run: String(epochsRun),
        final_epoch: diverged ? String(epochsRun) : String(bestEpoch),
        train_loss: loss(0.25),
        train_acc: formatMetric(trainAcc),
        running_train_loss: loss(0.25),
        running_train_acc: formatMetric(trainAcc),
        val_loss: loss(valLoss),
        val_acc: formatMetric(valAcc),
        test_loss: loss(valLoss + 0.01),
        test_acc: formatMetric(testAcc),
        gap: formatMetric(trainAcc - valAcc),
        seconds: (options.records?.seconds?.[`${variant}#${seed}`] ?? 12.34).toFixed(2),
      };
      runs.push(run);
      const cpu = options.records?.cpus[`${variant}#${seed}`];
      records.push({
        format: RECORD_FORMAT,
        configHash: run.config_hash,
        config,
        environment: {
          tool: "bnlab",
          version: "0.1.0",
          commit: "0123456789abcdef0123456789abcdef01234567",
          deno: "2.9.6",
          tfjs: "4.22.0",
          backend: "wasm",
          threads: 1,
          arch: "x86_64",
          ...(cpu ? { cpu } : {}),
          dataset: { id: run.dataset, digests: {} },
        },
        run,
        epochs: epochs.filter((e) => e.variant === variant && e.seed === String(seed)),
      });
    });
  });
  if (options.records) {
    for (const record of records) {
      await writeFileAtomic(
        join(resultPaths(dir).records, recordName(record.run)),
        JSON.stringify(record, null, 1) + "\n",
      );
    }
  }
  await writeFileAtomic(join(dir, "epochs.csv"), toCsv(epochs, EPOCH_COLUMNS));
  await writeFileAtomic(join(dir, "runs.csv"), toCsv(runs, RUN_COLUMNS));
  const meta = {
    tool: "bnlab",
    version: "0.1.0",
    commit: "0123456789abcdef0123456789abcdef01234567",
    createdAt: "2025-01-01T00:00:00.000Z",
    host: "fixture-host",
    deno: "2.9.6",
    v8: "14.0.0",
    typescript: "5.9.2",
    tfjs: "4.22.0",
    backend: "wasm",
    threads: 1,
    cpu: { arch: "x86_64", os: "linux", cores: 2, model: "Fixture CPU" },
    experiment: spec.name,
    profile,
    dataset: {
      requested: spec.dataset.id,
      id: options.datasetId ?? spec.dataset.id,
      digests: { "t10k-images": "ab".repeat(32), "train-images": "cd".repeat(32) },
    },
    command: [
      "study",
      "--experiment",
      spec.name,
      "--profile",
      profile,
      "--seeds",
      String(seeds.length),
    ],
  };
  await writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return dir;
}

/** A 64-hex-digit stand-in hash of `text` (split hashes). */
function sha(text: string): string {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(8);
}

/** A fresh temporary folder (under /tmp) removed by the returned function. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "bnlab-report-" });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }) };
}

/** Load a real spec from experiments/. */
export function spec(name: string): Promise<Spec> {
  return loadSpec(name);
}

/** Hand-chosen best epochs: pre_bn converges 2 epochs earlier than post_bn, with known spread. */
export const PLACEMENT_EPOCHS: Record<string, VariantValues> = {
  pre_bn: { best_epoch: [3, 4, 3, 4, 3] },
  post_bn: { best_epoch: [5, 5, 6, 5, 6] },
};
