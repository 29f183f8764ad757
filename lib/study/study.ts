/**
 * Running a study: resolve each experiment's dataset, lock its results folder,
 * plan the runs that are not stored yet (a stored run counts when its record's
 * configuration hash equals the one the spec resolves to now), train them (in
 * workers) and store each through the results store as it completes. Every run
 * keeps a checkpoint of its last finished epoch (`lib/study/checkpoint.ts`) until
 * its record is stored, so a study stopped by `--time-limit`, a signal or a crash
 * continues each run where it stopped. Used by `deno task study` and by
 * `verify --rerun`.
 *
 * @module
 */
import { join, relative, sep } from "node:path";
import {
  type BackendChoice,
  type BackendInfo,
  checkBackend,
  plannedBackend,
} from "../backends/select.ts";
import type { LoadOptions } from "../data/load.ts";
import { BackendError, Incomplete, Interrupted } from "../errors.ts";
import { taskCommand } from "../shell.ts";
import { exists, type FolderLock, lockFolder, refuseSymlinks, tryLockFile } from "../fs.ts";
import { type ProfileName, resolveRun, type Spec } from "../spec.ts";
import { selectResults, writeGolden } from "../store/golden.ts";
import {
  describeCpu,
  describeEnvironment,
  runEnvironment,
  type StudyMeta,
  writeMeta,
} from "../store/meta.ts";
import {
  configHash,
  readRecords,
  readRows,
  RECORD_FORMAT,
  regenerateCsv,
  type RunRecord,
  writeRecord,
} from "../store/records.ts";
import { describeKey, runKey, type RunRow } from "../store/schema.ts";
import { checkpointPath, listCheckpoints, removeCheckpoint } from "./checkpoint.ts";
import { type DatasetRef, resolveDataset } from "./datasets.ts";
import type { WorkItem } from "./messages.ts";
import { runPool } from "./pool.ts";
import { formatDuration, Progress } from "./progress.ts";
import { storedConfig } from "./run.ts";
import { machineOf, type Planned, RunClock, type Timing } from "./clock.ts";
import { longestFirst, runCost, runExamples } from "./cost.ts";
import { formatRunTimings, StudyTimings } from "./timings.ts";

/** Everything a study needs, validated. */
export interface StudyOptions {
  experiments: Spec[];
  /** Only these variants (empty: all). */
  variants: string[];
  seeds: number[];
  profile: ProfileName;
  backend: BackendChoice;
  workers: number;
  threads: number;
  /** Results root: runs go to <out>/<experiment>/<profile>/. */
  out: string;
  load: LoadOptions;
  synthetic: boolean;
  saveModels: boolean;
  bless: boolean;
  /** Folder of the golden files `bless` writes (default `golden`). */
  goldenDir?: string;
  /** Force a dataset id per experiment (verify reruns on the golden's dataset). */
  datasets?: Record<string, string>;
  /** Print progress to stderr (default true). */
  quiet?: boolean;
  /** Print each run's time breakdown and the study's (`--timings`). */
  timings?: boolean;
  /**
   * Train only shard `index` of `count` (`--shard i/N`): the runs whose
   * position in the study's canonical order (experiment, variant, seed) is
   * `index` modulo `count`. Shards share each results folder and claim their
   * runs one by one, so any number of them can run at once.
   */
  shard?: { index: number; count: number };
  /**
   * Seconds from the start of the command after which no run may still be
   * training (`--time-limit`): a run starts only if one epoch of it (its
   * expected time over its epochs, with a 10% margin) fits in what is left,
   * and stops after the last epoch that ends in time, keeping its
   * checkpoint. Runs stopped or left out make the study end with
   * `Incomplete` (exit 8); rerunning the command continues them.
   */
  timeLimit?: number;
}

/** A run of a study in canonical order (experiment as given, spec variant order, seed). */
export interface PlannedRun {
  /** Position in the canonical order, from 0 (what `--shard` partitions). */
  index: number;
  experiment: string;
  variant: string;
  seed: number;
  /** Whether a record with the current configuration is stored. */
  stored: boolean;
}

/**
 * Every run `options` selects, in canonical order, and whether each is stored
 * already (its record's configuration hash equals the current one). Reads the
 * results folders; writes nothing. The Slurm launcher and `--shard` both use
 * this order.
 */
export async function planRuns(options: StudyOptions): Promise<PlannedRun[]> {
  const planned = plannedBackend(options.backend, options.threads);
  const env = { backend: planned.name, threads: planned.threads };
  const runs: PlannedRun[] = [];
  for (const spec of options.experiments) {
    const dir = join(options.out, spec.name, options.profile);
    const records = await exists(dir)
      ? new Map((await readRecords(dir)).map((r) => [runKey(r.run), r]))
      : new Map();
    for (const variant of spec.variants) {
      if (options.variants.length > 0 && !options.variants.includes(variant.name)) continue;
      for (const seed of options.seeds) {
        const task = { config: resolveRun(spec, variant.name, options.profile), seed };
        const record = records.get(runKey({ variant: variant.name, seed, ...env }));
        runs.push({
          index: runs.length,
          experiment: spec.name,
          variant: variant.name,
          seed,
          stored: record?.configHash === configHash(storedConfig(task, env)),
        });
      }
    }
  }
  return runs;
}

/** One experiment's share of a study. */
interface Plan {
  spec: Spec;
  dir: string;
  ref: DatasetRef;
  dataset: Awaited<ReturnType<typeof resolveDataset>>["dataset"];
  items: WorkItem[];
  /** Runs of the selection already stored with the current configuration. */
  stored: number;
  /** Runs whose stored record has another configuration and will be replaced. */
  replaced: number;
  /** Whether the folder holds any run at all. */
  hasRuns: boolean;
  /** Seconds of the runs already stored, with their machines (for the clock). */
  timings: Timing[];
}

/** Run a study: resolve data, lock folders, train the missing runs, store them. */
export async function runStudy(options: StudyOptions, command: string[]): Promise<void> {
  const began = performance.now();
  const deadline = options.timeLimit === undefined
    ? undefined
    : Date.now() + 1000 * options.timeLimit;
  const plans: Plan[] = [];
  const locks: FolderLock[] = [];
  const planned = plannedBackend(options.backend, options.threads);
  const env = { backend: planned.name, threads: planned.threads };
  let nextId = 0;
  let position = 0; // canonical position of the next experiment's first run
  const timings = options.timings ? new StudyTimings() : undefined;
  const log = (line: string) => {
    if (!options.quiet) Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  };
  // Folders this study creates: removed again if it fails before storing a run in them.
  const created: string[] = [];
  try {
    await checkBackend(options.backend);
    // Every dataset first: a missing or damaged file stops the study before any folder exists.
    const resolved = [];
    for (const spec of options.experiments) {
      resolved.push(
        await resolveDataset(spec, {
          ...options.load,
          ...(options.synthetic ? { synthetic: {} } : {}),
          ...(options.datasets?.[spec.name] ? { force: options.datasets[spec.name] } : {}),
        }),
      );
    }
    for (const [e, spec] of options.experiments.entries()) {
      const { ref, dataset } = resolved[e]!;
      const dir = join(options.out, spec.name, options.profile);
      const first = await topmostMissing(options.out, dir);
      if (first) created.push(first);
      const folderLock = await lockFolder(
        dir,
        `bnlab study of ${spec.name}/${options.profile}`,
        options.out,
        { shared: options.shard !== undefined },
      );
      locks.push(folderLock);
      if (!options.shard) await removeStaleTemporaries(dir);
      if (folderLock.previous) {
        log(
          `study: note: took over the lock of ${folderLock.previous}, which is no longer running`,
        );
      }
      const records = new Map((await readRecords(dir)).map((r) => [runKey(r.run), r]));
      const timings = timingsOf(records.values(), spec, dataset, options.profile);
      const items: WorkItem[] = [];
      let stored = 0;
      let replaced = 0;
      const chosen = spec.variants.filter((v) =>
        options.variants.length === 0 || options.variants.includes(v.name)
      );
      for (const [si, seed] of options.seeds.entries()) {
        for (const [vi, variant] of chosen.entries()) {
          const index = position + vi * options.seeds.length + si;
          if (options.shard && index % options.shard.count !== options.shard.index) continue;
          const config = resolveRun(spec, variant.name, options.profile);
          const task = { config, seed };
          const key = { variant: variant.name, seed, ...env };
          const current = configHash(storedConfig(task, env));
          const checkpoint = checkpointPath(dir, key);
          if (records.get(runKey(key))?.configHash === current) {
            stored++;
            await removeCheckpoint(checkpoint); // left by a study stopped after storing the run
            continue;
          }
          if (options.shard) {
            // Claim the run; another process of the same study may hold it.
            const claim = await tryLockFile(
              join(dir, ".claims", `${runKey(key).replaceAll("#", ".")}.lock`),
              options.out,
            );
            if (!claim) {
              log(`study: ${spec.name}/${describeKey(key)} is being trained by another process`);
              continue;
            }
            locks.push(claim);
            // It may have been stored between reading the records and the claim.
            const now = (await readRecords(dir)).find((r) => runKey(r.run) === runKey(key));
            if (now?.configHash === current) {
              stored++;
              continue;
            }
          }
          const record = records.get(runKey(key));
          if (record) replaced++;
          const modelDir = options.saveModels
            ? join(dir, "models", `${variant.name}-seed${seed}`)
            : undefined;
          if (modelDir) await refuseSymlinks(options.out, join(modelDir, "model.json"));
          items.push({
            id: nextId++,
            task,
            dataset: ref,
            ...(modelDir ? { modelDir } : {}),
            checkpoint: {
              path: checkpoint,
              root: options.out,
              ...(deadline === undefined ? {} : { deadline }),
            },
          });
        }
      }
      plans.push({
        spec,
        dir,
        ref,
        dataset,
        items,
        stored,
        replaced,
        hasRuns: records.size > 0,
        timings,
      });
      position += chosen.length * options.seeds.length;
    }
    // Several workers: longest expected runs first, so the study does not end on one busy
    // core. Only the dispatch order changes; every run is the same whatever its turn, and
    // the CSVs are written in canonical order.
    const queue = plans.flatMap((p) => p.items);
    const cpu = describeCpu();
    const here = machineOf({ arch: cpu.arch, cpu: cpu.model, ...env });
    const evidence = plans.flatMap((p) => p.timings);
    for (const other of OTHER_PROFILES.filter((o) => o !== options.profile)) {
      for (const p of plans) evidence.push(...await storedTimings(options.out, p, other));
    }
    const clock = new RunClock(here, evidence);
    const planOf = new Map(plans.flatMap((p) => p.items.map((i) => [i.id, p] as const)));
    // One Planned per item: the sort, the progress and the time limit all ask for it.
    const runs = new Map(plans.flatMap((plan) =>
      plan.items.map((item) => {
        const variant = item.task.config.variant;
        return [item.id, {
          key: `${plan.spec.name}/${variant}`,
          profile: options.profile,
          work: modelCost(plan.spec, plan.dataset, variant, options.profile),
        }] as const;
      })
    ));
    const runOf = (item: WorkItem): Planned => runs.get(item.id)!;
    const expected = (item: WorkItem) => clock.expected(runOf(item)) ?? runOf(item).work;
    const items = options.workers > 1 ? longestFirst(queue, expected) : queue;
    const skipped = plans.reduce((n, p) => n + p.stored, 0);
    const replaced = plans.reduce((n, p) => n + p.replaced, 0);
    log(
      `study: ${items.length} runs to train` + (skipped ? ` (${skipped} already stored)` : "") +
        (replaced ? ` (${replaced} stored with an older configuration, retrained)` : "") +
        ` · profile ${options.profile} · ${env.backend}, ${env.threads} thread(s) · ` +
        `${options.workers} worker(s)` +
        (options.shard ? ` · shard ${options.shard.index}/${options.shard.count}` : ""),
    );
    const progress = new Progress(items, options.workers, {
      enabled: !options.quiet,
      cost: (item) => runOf(item).work,
    });
    // --time-limit: a run starts only when at least one epoch of it is expected to end in
    // time; a run stops after the last epoch that does (`deadline`), and its checkpoint
    // continues it next time.
    const notStarted: WorkItem[] = [];
    const suspended: WorkItem[] = [];
    const fits = options.timeLimit === undefined ? undefined : (item: WorkItem) => {
      const seconds = clock.expected(runOf(item));
      if (seconds === undefined) return true; // nothing measured yet
      const epoch = seconds / item.task.config.train.epochs;
      return (performance.now() - began) / 1000 + TIME_MARGIN * epoch <= options.timeLimit!;
    };
    const metas = new Map<Plan, StudyMeta>();
    let backend: BackendInfo | undefined;
    timings?.planned();
    const workers = Math.min(options.workers, Math.max(1, items.length));
    // Each distinct dataset once; the workers get these copies instead of re-reading the files.
    const datasets = [...new Map(plans.map((p) => [JSON.stringify(p.ref), p])).values()]
      .filter((p) => p.items.length > 0)
      .map((p) => ({ ref: p.ref, dataset: p.dataset }));
    let trained = 0;
    const stop = interruptible(log);
    try {
      await runPool(items, { ...options, datasets, stop: stop.signal, ...(fits ? { fits } : {}) }, {
        onWorkerReady: (seconds) => timings?.workerReady(seconds),
        onBackend: async (info) => {
          backend = info;
          if (info.name !== env.backend || info.threads !== env.threads) {
            throw new BackendError(
              `The study planned to train on ${env.backend} (${env.threads} thread(s)) but the ` +
                `workers started ${info.name} (${info.threads}); name the backend with --backend.`,
            );
          }
          if (info.notice) log(`study: ${info.notice}`);
          for (const plan of plans) {
            const meta = describeEnvironment(info, {
              experiment: plan.spec.name,
              profile: options.profile,
              dataset: plan.dataset,
              requested: plan.ref.requested,
              command,
            });
            await writeMeta(plan.dir, meta, plan.hasRuns, options.out);
            metas.set(plan, meta);
          }
        },
        onStart: (item) => progress.start(item),
        onSkip: (item) => notStarted.push(item),
        onSuspend: (item) => {
          suspended.push(item);
          progress.suspend(item);
        },
        onNote: (_item, text) => progress.note(`  ${text}`),
        onEpoch: (item, m) => progress.epoch(item, m),
        onBatch: (item, epoch, fraction) => progress.batch(item, epoch, fraction),
        onDone: async (item, rows, runTimings) => {
          const plan = planOf.get(item.id)!;
          await writeRecord(plan.dir, {
            format: RECORD_FORMAT,
            configHash: rows.run.config_hash,
            config: storedConfig(item.task, env),
            environment: runEnvironment(metas.get(plan)!),
            run: rows.run,
            epochs: rows.epochs,
          }, options.out);
          await regenerateCsv(plan.dir, variantOrder(plan.spec), options.out);
          await removeCheckpoint(item.checkpoint!.path);
          trained++;
          clock.observe(runOf(item), Number(rows.run.seconds));
          progress.done(item, rows);
          if (timings) {
            timings.run(runTimings);
            progress.note(`  time: ${formatRunTimings(runTimings)}`);
          }
        },
      });
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
      progress.finish();
      for (const plan of plans) {
        await regenerateCsv(plan.dir, variantOrder(plan.spec), options.out);
      }
      const kept = plans.reduce((n, p) => n + p.stored, 0) + trained;
      throw new Interrupted(
        `study: stopped by ${err.signal}. ${kept} run(s) of this study are stored in ` +
          `${options.out}/ (${trained} trained now); the runs in flight keep their finished ` +
          `epochs in a checkpoint (partial/ of their results folder) and the epoch in ` +
          `progress was dropped; nothing else was written. ` +
          `Resume with: ${taskCommand(command)}`,
        err.signal,
      );
    } finally {
      stop.dispose();
    }
    progress.finish();
    if (timings && items.length > 0) { for (const line of timings.summary(workers)) log(line); }
    for (const plan of plans) {
      await regenerateCsv(plan.dir, variantOrder(plan.spec), options.out);
    }
    for (const plan of plans) await removeEmptyPartial(plan.dir);
    if (notStarted.length > 0 || suspended.length > 0) {
      const kept = plans.reduce((n, p) => n + p.stored, 0) + trained;
      const limit = formatDuration(options.timeLimit!);
      const parts: string[] = [];
      if (suspended.length > 0) {
        const first = suspended[0]!;
        parts.push(
          `${suspended.length} run(s) stopped after the last epoch that ended within the ` +
            `--time-limit of ${limit} (for example ${first.task.config.experiment}/` +
            `${first.task.config.variant} seed ${first.task.seed}); their checkpoints in ` +
            `partial/ continue them from there`,
        );
      }
      if (notStarted.length > 0) {
        const first = notStarted[0]!;
        const seconds = clock.expected(runOf(first));
        const epoch = seconds === undefined ? undefined : seconds / first.task.config.train.epochs;
        parts.push(
          `${notStarted.length} run(s) not started: not even one epoch was expected to end ` +
            `within the --time-limit of ${limit} (for example ` +
            `${first.task.config.experiment}/${first.task.config.variant} seed ${first.task.seed}` +
            `${epoch === undefined ? "" : `, about ${formatDuration(epoch)} an epoch`})`,
        );
      }
      throw new Incomplete(
        `study: ${parts.join("; ")}. ${kept} run(s) of this study are stored in ` +
          `${options.out}/ (${trained} trained now). Continue with: ${taskCommand(command)}`,
      );
    }
    if (options.bless) {
      for (const plan of plans) {
        const path = await blessPlan(plan, options, env);
        log(`study: blessed ${path}`);
      }
    }
    const on = backend ? ` on ${backend.name}` : "";
    log(`study: done${on}; results in ${options.out}/`);
  } catch (err) {
    for (const lock of locks.splice(0)) await lock.release();
    for (const dir of created) await removeIfNoRuns(dir);
    throw err;
  } finally {
    for (const lock of locks) await lock.release();
  }
}

/** The topmost folder from `root` down to `dir` that does not exist yet, if any. */
async function topmostMissing(root: string, dir: string): Promise<string | undefined> {
  if (!(await exists(root))) return root;
  let at = root;
  for (const part of relative(root, dir).split(sep).filter((p) => p !== "")) {
    at = join(at, part);
    if (!(await exists(at))) return at;
  }
  return undefined;
}

/** Remove the checkpoint folder of the results folder `dir` when it holds no checkpoint. */
async function removeEmptyPartial(dir: string): Promise<void> {
  if ((await listCheckpoints(dir)).length > 0) return;
  await Deno.remove(join(dir, "partial")).catch(() => {}); // absent, or a temporary is left
}

/**
 * Remove `dir` (created by this study) when no run record or checkpoint was
 * stored anywhere below it.
 */
async function removeIfNoRuns(dir: string): Promise<void> {
  const hasRecord = async (d: string): Promise<boolean> => {
    for await (const entry of Deno.readDir(d)) {
      if (entry.isDirectory && await hasRecord(join(d, entry.name))) return true;
      const kept = d.endsWith(`${sep}records`) || d.endsWith(`${sep}partial`);
      if (entry.isFile && kept && entry.name.endsWith(".json")) return true;
    }
    return false;
  };
  try {
    if (!(await hasRecord(dir))) await Deno.remove(dir, { recursive: true });
  } catch {
    // Already gone, or not ours to judge: leave it.
  }
}

/** The spec's variant order: the canonical order of stored rows. */
export function variantOrder(spec: Spec): string[] {
  return spec.variants.map((v) => v.name);
}

/**
 * Bless exactly the runs the command selected (its seeds, variants, backend
 * and threads), all of which are stored by now. Throws `GoldenError` when
 * they mix environments.
 */
async function blessPlan(
  plan: Plan,
  options: StudyOptions,
  env: { backend: string; threads: number },
): Promise<string> {
  const variants = new Set(
    variantOrder(plan.spec).filter((v) =>
      options.variants.length === 0 || options.variants.includes(v)
    ),
  );
  const seeds = new Set(options.seeds.map(String));
  const select = (run: RunRow) =>
    variants.has(run.variant) && seeds.has(run.seed) && run.backend === env.backend &&
    Number(run.threads) === env.threads;
  const records = await readRecords(plan.dir);
  const rows = await readRows(plan.dir, { experiment: plan.spec.name, profile: options.profile });
  return await writeGolden(selectResults(records, select, rows.runs), options.goldenDir);
}

/** A run's expected seconds are stretched by this much before checking `--time-limit`. */
const TIME_MARGIN = 1.1;

/** Profiles whose stored runs calibrate the clock of a study of another profile. */
const OTHER_PROFILES: readonly ProfileName[] = ["quick", "full"];

/** The cost model's work of one run of `variant` under `profile` (`lib/study/cost.ts`). */
function modelCost(
  spec: Spec,
  dataset: Plan["dataset"],
  variant: string,
  profile: ProfileName,
): number {
  const config = resolveRun(spec, variant, profile);
  return runCost(config, runExamples(config, dataset.train.count, dataset.test.count));
}

/** The clock's evidence from `records` of `spec` under `profile` (unknown variants left out). */
function timingsOf(
  records: Iterable<RunRecord>,
  spec: Spec,
  dataset: Plan["dataset"],
  profile: ProfileName,
): Timing[] {
  const timings: Timing[] = [];
  for (const { run, environment } of records) {
    if (!spec.variants.some((v) => v.name === run.variant)) continue;
    timings.push({
      key: `${spec.name}/${run.variant}`,
      profile,
      work: modelCost(spec, dataset, run.variant, profile),
      seconds: Number(run.seconds),
      machine: machineOf(environment),
    });
  }
  return timings;
}

/**
 * The clock's evidence from `plan`'s experiment under `profile` in `out`; a
 * folder that is missing or cannot be read counts as empty (it is not this
 * study's business).
 */
async function storedTimings(out: string, plan: Plan, profile: ProfileName): Promise<Timing[]> {
  try {
    const records = await readRecords(join(out, plan.spec.name, profile));
    return timingsOf(records, plan.spec, plan.dataset, profile);
  } catch {
    return []; // Unreadable: no calibration from it.
  }
}

/**
 * Catch SIGINT and SIGTERM while a study trains: the first aborts the
 * returned signal (the pool stops and the study keeps what is stored), a second
 * one exits at once. `dispose()` removes the listeners.
 */
function interruptible(log: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const listeners: [Deno.Signal, () => void][] = [];
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const listener = () => {
      if (controller.signal.aborted) Deno.exit(signal === "SIGINT" ? 130 : 143);
      log(`study: ${signal}: stopping; finished runs are kept (again to stop at once)`);
      controller.abort(new Interrupted(`stopped by ${signal}`, signal));
    };
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch {
      // Signals this platform does not have (SIGTERM on Windows): nothing to catch.
    }
  }
  return {
    signal: controller.signal,
    dispose: () => listeners.forEach(([s, l]) => Deno.removeSignalListener(s, l)),
  };
}

/**
 * Remove the temporary files (`*.tmp-<pid>-*`) that writers killed mid-write
 * left in `dir` and its records. Only called under the folder's exclusive
 * lock, when no other process can be writing there.
 */
async function removeStaleTemporaries(dir: string): Promise<void> {
  for (const folder of [dir, join(dir, "records"), join(dir, "partial")]) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isFile && entry.name.includes(".tmp-")) {
        await Deno.remove(join(folder, entry.name)).catch(() => {});
      }
    }
  }
}
