/**
 * Progress of a study on stderr. On a terminal: one self-updating line (runs
 * done, elapsed, ETA, what each worker is doing), redrawn every second so the
 * ETA counts down between epochs. Otherwise (a cluster job, `nohup`, CI):
 * plain lines, each starting with a UTC timestamp, one per finished epoch and
 * one per finished run, each with the ETA.
 *
 * The ETA sums the expected time of every epoch still to train, divided by the
 * number of workers. An epoch's expected time is the mean of the epochs of the
 * same experiment and variant seen so far, or, for variants not seen yet, the
 * seconds per unit of expected cost seen so far times the variant's expected
 * cost per epoch (the study's cost model, `cost.ts`; by default training
 * examples), so neither a cheap nor a costly variant that happens to start
 * first skews the estimate for long. Early stopping can only make the study
 * end sooner.
 *
 * @module
 */
import type { EpochMetrics } from "../train/loop.ts";
import type { WorkItem } from "./messages.ts";
import type { RunRows } from "./run.ts";

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** `false` prints nothing (default true). */
  enabled?: boolean;
  /** Whether stderr is a terminal (default: ask it). */
  tty?: boolean;
  /** Clock for timestamps and elapsed time (tests). */
  now?: () => number;
  /** Where text goes (default: stderr). */
  write?: (text: string) => void;
  /**
   * Expected cost of a whole run in any fixed unit (seconds, or the cost
   * model's units); only ratios between runs matter. Default: training
   * examples per epoch times epochs.
   */
  cost?: (item: WorkItem) => number;
}

interface Tracked {
  item: WorkItem;
  epochsDone: number;
  finished: boolean;
}

/** Tracks and prints the progress of a study's runs. */
export class Progress {
  readonly #workers: number;
  readonly #tty: boolean;
  readonly #enabled: boolean;
  readonly #now: () => number;
  readonly #out: (text: string) => void;
  readonly #started: number;
  readonly #runs = new Map<number, Tracked>();
  readonly #active = new Map<number, string>();
  /** Seconds and epochs seen per experiment/variant. */
  readonly #perVariant = new Map<string, { seconds: number; epochs: number }>();
  readonly #cost: (item: WorkItem) => number;
  #seconds = 0;
  /** Expected cost of the epochs seen so far, in the unit of `#cost`. */
  #costSeen = 0;
  #done = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The last estimate and when it was made, so the terminal line counts down between epochs. */
  #estimate: { seconds: number; at: number } | undefined;

  /** Progress of `items`, trained by `workers` workers in parallel. */
  constructor(items: WorkItem[], workers: number, options: ProgressOptions = {}) {
    for (const item of items) {
      this.#runs.set(item.id, { item, epochsDone: 0, finished: false });
    }
    this.#workers = Math.max(1, Math.min(workers, items.length));
    this.#enabled = options.enabled ?? true;
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#now = options.now ?? (() => Date.now());
    this.#cost = options.cost ??
      ((item) => examplesPerEpoch(item) * item.task.config.train.epochs);
    this.#out = options.write ??
      ((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
    this.#started = this.#now();
    if (this.#enabled && this.#tty && items.length > 0) {
      const timer = setInterval(() => this.#draw(), 1000);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** A run started. */
  start(item: WorkItem): void {
    this.#active.set(item.id, `${label(item)} starting`);
    this.#draw();
  }

  /** A run is `fraction` of the way through `epoch` (shown on a terminal only). */
  batch(item: WorkItem, epoch: number, fraction: number): void {
    if (!this.#tty) return;
    const epochs = item.task.config.train.epochs;
    this.#active.set(
      item.id,
      `${label(item)} epoch ${epoch}/${epochs} ${Math.floor(fraction * 100)}%`,
    );
  }

  /** A run finished an epoch. */
  epoch(item: WorkItem, m: EpochMetrics): void {
    const tracked = this.#runs.get(item.id);
    if (tracked) tracked.epochsDone = m.epoch;
    const key = variantKey(item);
    const seen = this.#perVariant.get(key) ?? { seconds: 0, epochs: 0 };
    seen.seconds += m.seconds;
    seen.epochs += 1;
    this.#perVariant.set(key, seen);
    this.#seconds += m.seconds;
    this.#costSeen += this.#epochCost(item);
    const epochs = item.task.config.train.epochs;
    this.#active.set(
      item.id,
      `${label(item)} epoch ${m.epoch}/${epochs} val_acc ${m.valAcc.toFixed(3)}`,
    );
    if (this.#tty) {
      this.#eta();
      this.#draw();
    } else {
      this.#line(
        `${label(item)} epoch ${m.epoch}/${epochs}: train loss ${fmt(m.trainLoss)} acc ` +
          `${fmt(m.trainAcc)}, val loss ${fmt(m.valLoss)} acc ${fmt(m.valAcc)}, ` +
          `${m.seconds.toFixed(1)} s · ${this.#eta()}`,
      );
    }
  }

  /** A run completed and was stored. */
  done(item: WorkItem, record: RunRows): void {
    this.#done++;
    const tracked = this.#runs.get(item.id);
    if (tracked) tracked.finished = true;
    this.#active.delete(item.id);
    this.#line(
      `run ${this.#done}/${this.#runs.size} ${label(item)}: test_acc ${record.run.test_acc}, ` +
        `best epoch ${record.run.best_epoch}/${record.run.epochs_run}, ${record.run.seconds} s` +
        ` · ${this.#eta()}`,
    );
    this.#draw();
  }

  /** A run stopped unfinished at its deadline; its checkpoint keeps the finished epochs. */
  suspend(item: WorkItem): void {
    const tracked = this.#runs.get(item.id);
    if (tracked) tracked.finished = true;
    this.#active.delete(item.id);
    this.#line(
      `stopped ${label(item)} after epoch ${tracked?.epochsDone ?? 0}/` +
        `${item.task.config.train.epochs} to end within the time limit; its checkpoint ` +
        `continues it · ${this.#eta()}`,
    );
    this.#draw();
  }

  /** Print `line` as a permanent continuation of the last line (no timestamp of its own). */
  note(line: string): void {
    if (!this.#enabled) return;
    this.#out(`${this.#tty ? "\r\x1b[2K" : ""}${line}\n`);
    this.#draw();
  }

  /** Stop redrawing and clear the status line (call before printing anything else). */
  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#enabled && this.#tty) this.#out("\r\x1b[2K");
  }

  /** Expected seconds of wall time left, or `undefined` before the first epoch. */
  remainingSeconds(): number | undefined {
    if (this.#costSeen === 0) return undefined;
    const perCost = this.#seconds / this.#costSeen;
    let left = 0;
    let unfinished = 0;
    for (const { item, epochsDone, finished } of this.#runs.values()) {
      if (finished) continue;
      unfinished++;
      const seen = this.#perVariant.get(variantKey(item));
      const perEpoch = seen ? seen.seconds / seen.epochs : perCost * this.#epochCost(item);
      left += Math.max(0, item.task.config.train.epochs - epochsDone) * perEpoch;
    }
    return left / Math.max(1, Math.min(this.#workers, unfinished));
  }

  /** Expected cost of one epoch of `item`'s run. */
  #epochCost(item: WorkItem): number {
    return this.#cost(item) / item.task.config.train.epochs;
  }

  /** A fresh estimate (after an epoch or a run), remembered for the countdown. */
  #eta(): string {
    const left = this.remainingSeconds();
    this.#estimate = left === undefined ? undefined : { seconds: left, at: this.#now() };
    return left === undefined ? "ETA …" : `ETA ${formatDuration(left)}`;
  }

  /** The last estimate, less the time since it was made. */
  #countdown(): string {
    if (!this.#estimate) return "ETA …";
    const left = this.#estimate.seconds - (this.#now() - this.#estimate.at) / 1000;
    return `ETA ${formatDuration(left)}`;
  }

  #draw(): void {
    if (!this.#enabled || !this.#tty) return;
    const elapsed = formatDuration((this.#now() - this.#started) / 1000);
    const active = [...this.#active.values()].join(" | ");
    const columns = (() => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 160;
      }
    })();
    this.#out(
      "\r\x1b[2K" +
        `[${this.#done}/${this.#runs.size}] ${elapsed} ${this.#countdown()} ${active}`.slice(
          0,
          Math.max(40, columns - 1),
        ),
    );
  }

  #line(text: string): void {
    if (!this.#enabled) return;
    if (this.#tty) {
      this.#out(`\r\x1b[2K${text}\n`);
    } else {
      this.#out(`${new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z")} ${text}\n`);
    }
  }
}

function label(item: WorkItem): string {
  const c = item.task.config;
  return `${c.experiment}/${c.variant} seed ${item.task.seed}`;
}

function variantKey(item: WorkItem): string {
  return `${item.task.config.experiment}/${item.task.config.variant}`;
}

/** Training examples per epoch, as far as the config tells before the split (an estimate). */
function examplesPerEpoch(item: WorkItem): number {
  const { split } = item.task.config;
  return (split.pool ?? 60_000) * (1 - split.validation);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
