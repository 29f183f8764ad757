/**
 * Progress of a study on stderr: one self-updating line on a terminal
 * (run i of n, current epochs, ETA), plain lines otherwise.
 *
 * @module
 */
import type { EpochMetrics } from "../train/loop.ts";
import type { WorkItem } from "./messages.ts";
import type { RunRecord } from "./results.ts";

/** Tracks and prints the progress of `total` runs. */
export class Progress {
  readonly #total: number;
  readonly #workers: number;
  readonly #tty: boolean;
  readonly #enabled: boolean;
  readonly #started = performance.now();
  readonly #active = new Map<number, string>();
  #done = 0;
  #runSeconds = 0;

  /** `enabled: false` prints nothing; `tty` defaults to whether stderr is a terminal. */
  constructor(total: number, workers: number, options: { enabled?: boolean; tty?: boolean } = {}) {
    this.#total = total;
    this.#workers = Math.max(1, workers);
    this.#enabled = options.enabled ?? true;
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
  }

  /** A run started. */
  start(item: WorkItem): void {
    this.#active.set(item.id, `${label(item)} starting`);
    this.#draw();
  }

  /** A run finished an epoch. */
  epoch(item: WorkItem, m: EpochMetrics): void {
    const epochs = item.task.config.train.epochs;
    this.#active.set(
      item.id,
      `${label(item)} epoch ${m.epoch}/${epochs} val_acc ${m.valAcc.toFixed(3)}`,
    );
    this.#draw();
  }

  /** A run completed and was stored. */
  done(item: WorkItem, record: RunRecord): void {
    this.#done++;
    this.#runSeconds += Number(record.run.seconds);
    this.#active.delete(item.id);
    const line =
      `run ${this.#done}/${this.#total} ${label(item)}: test_acc ${record.run.test_acc}, ` +
      `best epoch ${record.run.best_epoch}/${record.run.epochs_run}, ${record.run.seconds} s`;
    this.#write(line, true);
    this.#draw();
  }

  /** Print `line` as a permanent line (below the last finished run). */
  note(line: string): void {
    this.#write(line, true);
    this.#draw();
  }

  /** Clear the status line (call before printing anything else). */
  finish(): void {
    if (this.#tty) this.#write("", false);
  }

  #eta(): string {
    if (this.#done === 0) return "ETA …";
    const perRun = this.#runSeconds / this.#done;
    const left = ((this.#total - this.#done) * perRun) / this.#workers;
    return `ETA ${formatDuration(left)}`;
  }

  #draw(): void {
    if (!this.#tty) return;
    const elapsed = formatDuration((performance.now() - this.#started) / 1000);
    const active = [...this.#active.values()].join(" | ");
    this.#write(
      `[${this.#done}/${this.#total}] ${elapsed} ${this.#eta()} ${active}`.slice(0, 160),
      false,
    );
  }

  #write(text: string, permanent: boolean): void {
    if (!this.#enabled || (!permanent && !this.#tty)) return;
    const prefix = this.#tty ? "\r\x1b[2K" : "";
    Deno.stderr.writeSync(new TextEncoder().encode(prefix + text + (permanent ? "\n" : "")));
  }
}

function label(item: WorkItem): string {
  const c = item.task.config;
  return `${c.experiment}/${c.variant} seed ${item.task.seed}`;
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
