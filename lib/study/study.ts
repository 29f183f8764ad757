/**
 * Running a study: resolve each experiment's dataset, lock its results folder,
 * plan the runs that are not stored yet, train them (in workers) and store
 * each as it completes. Used by `deno task study` and by `verify --rerun`.
 *
 * @module
 */
import { join } from "node:path";
import type { BackendChoice, BackendInfo } from "../backends/select.ts";
import type { LoadOptions } from "../data/load.ts";
import { type FolderLock, lockFolder } from "../fs.ts";
import { blessStudy } from "../golden.ts";
import { type ProfileName, resolveRun, type Spec, specHash } from "../spec.ts";
import { longestFirst, runCost, runExamples } from "./cost.ts";
import { type DatasetRef, resolveDataset } from "./datasets.ts";
import type { WorkItem } from "./messages.ts";
import { describeEnvironment, writeMeta } from "./meta.ts";
import { runPool } from "./pool.ts";
import { Progress } from "./progress.ts";
import { appendRun, readResults, runKey } from "./results.ts";
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
  /** Force a dataset id per experiment (verify reruns on the golden's dataset). */
  datasets?: Record<string, string>;
  /** Print progress to stderr (default true). */
  quiet?: boolean;
  /** Print each run's time breakdown and the study's (`--timings`). */
  timings?: boolean;
}

/** One experiment's share of a study. */
interface Plan {
  spec: Spec;
  dir: string;
  ref: DatasetRef;
  dataset: Awaited<ReturnType<typeof resolveDataset>>["dataset"];
  items: WorkItem[];
  stored: number;
  /** Seconds of the runs already stored, per variant (for the schedule). */
  seconds: Map<string, number[]>;
}

/** Run a study: resolve data, lock folders, train the missing runs, store them. */
export async function runStudy(options: StudyOptions, command: string[]): Promise<void> {
  const plans: Plan[] = [];
  const locks: FolderLock[] = [];
  let nextId = 0;
  const timings = options.timings ? new StudyTimings() : undefined;
  try {
    for (const spec of options.experiments) {
      const { ref, dataset } = await resolveDataset(spec, {
        ...options.load,
        ...(options.synthetic ? { synthetic: {} } : {}),
        ...(options.datasets?.[spec.name] ? { force: options.datasets[spec.name] } : {}),
      });
      const dir = join(options.out, spec.name, options.profile);
      locks.push(await lockFolder(dir, `bnlab study of ${spec.name}/${options.profile}`));
      const storedRuns = (await readResults(dir)).runs;
      const done = new Set(storedRuns.map(runKey));
      const seconds = new Map<string, number[]>();
      for (const r of storedRuns) {
        const s = Number(r.seconds);
        if (Number.isFinite(s)) seconds.set(r.variant, [...(seconds.get(r.variant) ?? []), s]);
      }
      const items: WorkItem[] = [];
      for (const seed of options.seeds) {
        for (const variant of spec.variants) {
          if (options.variants.length > 0 && !options.variants.includes(variant.name)) continue;
          if (done.has(runKey({ variant: variant.name, seed }))) continue;
          const config = resolveRun(spec, variant.name, options.profile);
          const modelDir = options.saveModels
            ? join(dir, "models", `${variant.name}-seed${seed}`)
            : undefined;
          items.push({
            id: nextId++,
            task: { config, seed },
            dataset: ref,
            ...(modelDir ? { modelDir } : {}),
          });
        }
      }
      plans.push({ spec, dir, ref, dataset, items, stored: done.size, seconds });
    }
    // Several workers: longest expected runs first, so the study does not end on one busy
    // core. Only the dispatch order changes; every run is the same whatever its turn.
    const planned = plans.flatMap((p) => p.items);
    const items = options.workers > 1
      ? longestFirst(planned, expectedSeconds(plans, options.profile))
      : planned;
    const skipped = plans.reduce((n, p) => n + p.stored, 0);
    const log = (line: string) => {
      if (!options.quiet) Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
    };
    log(
      `study: ${items.length} runs to train` + (skipped ? ` (${skipped} already stored)` : "") +
        ` · profile ${options.profile} · ${options.workers} worker(s)`,
    );
    const progress = new Progress(
      items.length,
      Math.min(options.workers, Math.max(1, items.length)),
      {
        enabled: !options.quiet,
      },
    );
    const dirOf = new Map(plans.flatMap((p) => p.items.map((i) => [i.id, p.dir] as const)));
    let backend: BackendInfo | undefined;
    timings?.planned();
    const workers = Math.min(options.workers, Math.max(1, items.length));
    // Each distinct dataset once; the workers get these copies instead of re-reading the files.
    const datasets = [...new Map(plans.map((p) => [JSON.stringify(p.ref), p])).values()]
      .filter((p) => p.items.length > 0)
      .map((p) => ({ ref: p.ref, dataset: p.dataset }));
    await runPool(items, { ...options, datasets }, {
      onWorkerReady: (seconds) => timings?.workerReady(seconds),
      onBackend: async (info) => {
        backend = info;
        if (info.notice) log(`study: ${info.notice}`);
        for (const plan of plans) await writePlanMeta(plan, info, options, command);
      },
      onStart: (item) => progress.start(item),
      onEpoch: (item, m) => progress.epoch(item, m),
      onDone: async (item, record, runTimings) => {
        await appendRun(dirOf.get(item.id)!, record);
        progress.done(item, record);
        if (timings) {
          timings.run(runTimings);
          progress.note(`  time: ${formatRunTimings(runTimings)}`);
        }
      },
    });
    progress.finish();
    if (timings && items.length > 0) { for (const line of timings.summary(workers)) log(line); }
    if (options.bless) {
      for (const plan of plans) {
        const path = await blessStudy(plan.dir);
        log(`study: blessed ${path}`);
      }
    }
    log(`study: done${backend ? ` on ${backend.name}` : ""}; results in ${options.out}/`);
  } finally {
    for (const lock of locks) await lock.release();
  }
}

async function writePlanMeta(
  plan: Plan,
  info: BackendInfo,
  options: StudyOptions,
  command: string[],
) {
  const meta = describeEnvironment(info, {
    experiment: plan.spec.name,
    specHash: specHash(plan.spec),
    profile: options.profile,
    dataset: plan.dataset,
    requested: plan.ref.requested,
    command,
  });
  await writeMeta(plan.dir, meta, plan.stored > 0);
}

/**
 * Expected seconds of each item: the median stored seconds of its variant
 * where the study has some (a resumed study), else the cost model
 * (`lib/study/cost.ts`) converted to seconds with the median seconds-per-cost
 * of the variants that have stored runs (with none, the cost itself: only
 * the order matters).
 */
function expectedSeconds(plans: Plan[], profile: ProfileName): (item: WorkItem) => number {
  const planOf = new Map(plans.flatMap((p) => p.items.map((i) => [i.id, p] as const)));
  const model = (plan: Plan, variant: string) => {
    const config = resolveRun(plan.spec, variant, profile);
    return runCost(config, runExamples(config, plan.dataset.train.count, plan.dataset.test.count));
  };
  const ratios: number[] = [];
  for (const plan of plans) {
    for (const [variant, secs] of plan.seconds) {
      if (plan.spec.variants.some((v) => v.name === variant)) {
        ratios.push(median(secs) / model(plan, variant));
      }
    }
  }
  const scale = ratios.length > 0 ? median(ratios) : 1;
  return (item) => {
    const plan = planOf.get(item.id)!;
    const stored = plan.seconds.get(item.task.config.variant);
    return stored ? median(stored) : scale * model(plan, item.task.config.variant);
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
