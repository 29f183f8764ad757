/**
 * Expected seconds of a study's runs, for `--time-limit` and for handing the
 * longest runs out first. Evidence is every stored run of the experiments
 * (this profile and the other non-smoke profiles) and every run this study
 * finishes, each tagged with the machine that made it (`machineOf`: CPU
 * model, architecture, backend and threads), because results folders fill up
 * on several machines and the same run can take twice as long on another
 * CPU.
 *
 * A run is expected to take, in order of preference:
 * 1. the median seconds of the same variant in the same profile on this machine;
 * 2. that median on other machines, times this machine's speed relative to them;
 * 3. the cost model's work (`lib/study/cost.ts`) times the median seconds per unit
 *    of work measured on this machine (the same variant's first, else any);
 * 4. the same from other machines, times the relative speed.
 *
 * The relative speed is the median, over variants measured both here and
 * elsewhere, of the ratio of their seconds per unit of work; without such a
 * variant, the ratio of the medians over all runs; without runs here, 1. It
 * is re-estimated whenever a run of this study finishes, so a study on a
 * slower machine than its stored runs came from corrects itself after its
 * first runs. Only starting decisions depend on it, never a result.
 *
 * @module
 */
import { median } from "simple-statistics";

/** One measured run: which one (experiment and variant), its profile, work and seconds. */
export interface Timing {
  /** `<experiment>/<variant>`. */
  key: string;
  profile: string;
  /** The cost model's work for this run (any positive unit, the same for all timings). */
  work: number;
  seconds: number;
  /** `machineOf(...)` of the machine that ran it. */
  machine: string;
}

/** A run to estimate: which one, in which profile, and its work. */
export type Planned = Pick<Timing, "key" | "profile" | "work">;

/** Where a run was made, as far as its speed goes. */
export interface MachineFacts {
  arch: string;
  /** CPU model name (absent when it could not be read). */
  cpu?: string;
  backend: string;
  threads: number;
}

/**
 * One string per kind of machine: runs with the same string are expected to take equally long.
 *
 * @example
 * ```ts
 * import { machineOf } from "./clock.ts";
 * machineOf({ arch: "x86_64", cpu: "AMD EPYC", backend: "native", threads: 1 });
 * // "x86_64 · AMD EPYC · native · 1 thread(s)"
 * ```
 */
export function machineOf(m: MachineFacts): string {
  return `${m.arch} · ${m.cpu ?? "unknown CPU"} · ${m.backend} · ${m.threads} thread(s)`;
}

/** Expected seconds of runs from machine-tagged evidence (module notes). */
export class RunClock {
  readonly #here: string;
  readonly #timings: Timing[] = [];

  /** `here`: `machineOf` the machine this study runs on; `timings`: stored runs. */
  constructor(here: string, timings: Iterable<Timing>) {
    this.#here = here;
    for (const t of timings) this.#add(t);
  }

  /** Expected seconds of `run`, or `undefined` while nothing is measured. */
  expected(run: Planned): number | undefined {
    const { here, other } = this.#sides();
    const same = (t: Timing) => t.key === run.key && t.profile === run.profile;
    const sameKey = (t: Timing) => t.key === run.key;
    const seconds = (ts: Timing[]) => median(ts.map((t) => t.seconds));
    const rate = (ts: Timing[]) => median(ts.map((t) => t.seconds / t.work));
    if (here.some(same)) return seconds(here.filter(same));
    if (other.some(same)) return seconds(other.filter(same)) * this.speed();
    if (here.some(sameKey)) return rate(here.filter(sameKey)) * run.work;
    if (here.length > 0) return rate(here) * run.work;
    if (other.length > 0) return rate(other) * run.work;
    return undefined;
  }

  /**
   * This machine's seconds per unit of work relative to the other machines' (2 = half as
   * fast); 1 while either side has no runs.
   */
  speed(): number {
    const { here, other } = this.#sides();
    if (here.length === 0 || other.length === 0) return 1;
    const rates = (ts: Timing[]) => {
      const byKey = new Map<string, number[]>();
      for (const t of ts) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t.seconds / t.work]);
      return byKey;
    };
    const hereRates = rates(here);
    const otherRates = rates(other);
    const paired = [...hereRates].filter(([key]) => otherRates.has(key))
      .map(([key, r]) => median(r) / median(otherRates.get(key)!));
    if (paired.length > 0) return median(paired);
    return median([...hereRates.values()].flat()) / median([...otherRates.values()].flat());
  }

  /** A run of this study, on this machine, took `seconds`. */
  observe(run: Planned, seconds: number): void {
    this.#add({ ...run, seconds, machine: this.#here });
  }

  /** The timings measured on this machine and on others. */
  #sides(): { here: Timing[]; other: Timing[] } {
    const here: Timing[] = [];
    const other: Timing[] = [];
    for (const t of this.#timings) (t.machine === this.#here ? here : other).push(t);
    return { here, other };
  }

  #add(t: Timing): void {
    if (Number.isFinite(t.seconds) && t.seconds > 0 && t.work > 0) this.#timings.push(t);
  }
}
