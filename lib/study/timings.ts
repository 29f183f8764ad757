/**
 * Where a study's time goes (`deno task study --timings`): per run, the
 * seconds spent opening the dataset, preparing (split, model), in training
 * steps, in the per-epoch validation passes and in the test evaluation; per
 * study, those summed, the workers' start-up, and the worker time left idle
 * (wall time × workers − time in runs and start-up), which is what the
 * longest-first schedule (`cost.ts`) reduces.
 *
 * @module
 */
import type { RunTimings } from "./run.ts";

/** The phases of a run, in the order they are printed. */
const PHASES = ["dataset", "prepare", "train", "validation", "test"] as const;

const NAMES: Record<(typeof PHASES)[number] | "other", string> = {
  dataset: "dataset loading",
  prepare: "split and model build",
  train: "training steps",
  validation: "per-epoch validation",
  test: "test evaluation",
  other: "other (storing, early-stopping copies)",
};

/** One run's breakdown on one line, e.g. `train 6.5 s · validation 0.8 s · …`. */
export function formatRunTimings(t: RunTimings): string {
  const other = Math.max(0, t.total - PHASES.reduce((s, p) => s + t[p], 0));
  return [...PHASES.map((p) => `${p} ${t[p].toFixed(2)} s`), `other ${other.toFixed(2)} s`].join(
    " · ",
  );
}

/** Collects the runs' timings and the workers' start-ups of one study. */
export class StudyTimings {
  readonly #runs: RunTimings[] = [];
  readonly #startups: number[] = [];
  readonly #created = performance.now();
  #started = performance.now();

  /**
   * Planning is over (datasets opened and verified, stored runs read, in the
   * main process); the runs start now.
   */
  planned(): void {
    this.#started = performance.now();
  }

  /** A worker started its backend in `seconds`. */
  workerReady(seconds: number): void {
    this.#startups.push(seconds);
  }

  /** A run finished. */
  run(timings: RunTimings): void {
    this.#runs.push(timings);
  }

  /** The study's summary: one line per phase with seconds and share of the worker time. */
  summary(workers: number): string[] {
    const wall = (performance.now() - this.#started) / 1000;
    const sum = (f: (t: RunTimings) => number) => this.#runs.reduce((s, t) => s + f(t), 0);
    const rows: [string, number][] = PHASES.map((p) => [NAMES[p], sum((t) => t[p])]);
    const inRuns = sum((t) => t.total);
    rows.push([NAMES.other, Math.max(0, inRuns - rows.reduce((s, [, v]) => s + v, 0))]);
    const startup = this.#startups.reduce((a, b) => a + b, 0);
    rows.unshift(["worker start-up", startup]);
    const capacity = wall * Math.max(1, workers);
    rows.push(["idle workers", Math.max(0, capacity - inRuns - startup)]);
    const width = Math.max(...rows.map(([name]) => name.length));
    const planning = (this.#started - this.#created) / 1000;
    return [
      `timings: planning ${planning.toFixed(1)} s (datasets opened and verified once, ` +
      `stored runs read), then ${this.#runs.length} runs in ${wall.toFixed(1)} s wall on ` +
      `${workers} worker(s) (${capacity.toFixed(1)} worker-seconds):`,
      ...rows.map(([name, s]) =>
        `  ${name.padEnd(width)} ${s.toFixed(1).padStart(9)} s ${
          (100 * s / capacity).toFixed(1).padStart(5)
        }%`
      ),
    ];
  }
}
