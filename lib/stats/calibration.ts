/**
 * Seeded Monte-Carlo checks of the decision rule's error rates, run with the
 * project's own code on normal data: family-wise error of the full verdict
 * rule, coverage of the shown intervals, the rate of "equivalent" at the
 * equivalence margin, the power of "equivalent" at the planned sample size,
 * and the error of the sequential procedure under the null. The test suite
 * runs them with few replicates, `deno task calibrate` with many.
 *
 * @module
 */
import { type Rng, rngAt } from "../rng.ts";
import { decideComparison, type Verdict } from "./decision.ts";
import { seedsPerArm } from "./power.ts";
import { lookSchedule, sequentialBounds } from "./sequential.ts";

/** A simulated rate with its Monte-Carlo standard error. */
export interface Rate {
  /** Share of replicates with the event, in [0, 1]. */
  rate: number;
  /** √(rate (1 − rate) / replicates). */
  se: number;
  /** Number of replicates. */
  replicates: number;
}

/** Common settings of the simulations. */
export interface SimulationOptions {
  /** Replicates (simulated families). */
  replicates: number;
  /** Root seed of the draws. */
  seed: number;
  /** Family-wise α (default 0.05). */
  alpha?: number;
}

/** Normal draws (Box–Muller) from a seeded stream. */
export function normals(rng: Rng, n: number, mean = 0, sd = 1): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rng.nextFloat();
    const v = rng.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(mean + sd * r * Math.cos(2 * Math.PI * v));
    if (out.length < n) out.push(mean + sd * r * Math.sin(2 * Math.PI * v));
  }
  return out;
}

/**
 * Family-wise error of the full verdict rule when every null is true: the
 * share of families of `m` comparisons (n per arm, sd 1 and `sdB` in the
 * second arm, true difference 0) where some comparison is called better or
 * worse. δ is 0.5 SD, so "equivalent" verdicts also occur.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyWiseError } from "./calibration.ts";
 * const r = familyWiseError({ n: 5, m: 3, replicates: 200, seed: 1 });
 * assert.ok(r.rate >= 0 && r.rate <= 0.2);
 * ```
 */
export function familyWiseError(
  options: SimulationOptions & { n: number; m: number; sdB?: number },
): Rate {
  const { n, m, replicates, seed, alpha = 0.05, sdB = 1 } = options;
  const rng = rngAt(seed, "calibration", "fwer", n, m, sdB);
  let errors = 0;
  for (let r = 0; r < replicates; r++) {
    let wrong = false;
    for (let c = 0; c < m; c++) {
      const v = decideComparison(normals(rng, n), normals(rng, n, 0, sdB), {
        alpha,
        familySize: m,
        better: "higher",
        sesoi: 0.5,
      }).verdict;
      if (v === "better" || v === "worse") wrong = true;
    }
    if (wrong) errors++;
  }
  return rate(errors, replicates);
}

/**
 * Simultaneous coverage of the shown intervals: the share of families of `m`
 * comparisons whose every interval (level 1 − α/m) covers its true
 * difference (here 1 SD), arms with sd 1 and `sdB`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intervalCoverage } from "./calibration.ts";
 * assert.ok(intervalCoverage({ n: 5, m: 1, replicates: 200, seed: 1 }).rate > 0.85);
 * ```
 */
export function intervalCoverage(
  options: SimulationOptions & { n: number; m: number; sdB?: number },
): Rate {
  const { n, m, replicates, seed, alpha = 0.05, sdB = 1 } = options;
  const rng = rngAt(seed, "calibration", "coverage", n, m, sdB);
  let covered = 0;
  for (let r = 0; r < replicates; r++) {
    let all = true;
    for (let c = 0; c < m; c++) {
      const d = decideComparison(normals(rng, n, 1), normals(rng, n, 0, sdB), {
        alpha,
        familySize: m,
        better: "higher",
      });
      if (!(d.interval.lower <= 1 && 1 <= d.interval.upper)) all = false;
    }
    if (all) covered++;
  }
  return rate(covered, replicates);
}

/**
 * Share of comparisons called `verdict` when the true difference is
 * `trueDiff` (SD units, both arms sd 1), δ = `sesoi`, n per arm, family of m.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdictRate } from "./calibration.ts";
 * const r = verdictRate("equivalent", { n: 5, m: 1, trueDiff: 1, sesoi: 1, replicates: 200, seed: 1 });
 * assert.ok(r.rate < 0.1);
 * ```
 */
export function verdictRate(
  verdict: Verdict,
  options: SimulationOptions & { n: number; m: number; trueDiff: number; sesoi: number },
): Rate {
  const { n, m, trueDiff, sesoi, replicates, seed, alpha = 0.05 } = options;
  const rng = rngAt(seed, "calibration", "verdict", verdict, n, m, trueDiff, sesoi);
  let hits = 0;
  for (let r = 0; r < replicates; r++) {
    const d = decideComparison(normals(rng, n, trueDiff), normals(rng, n), {
      alpha,
      familySize: m,
      better: "higher",
      sesoi,
    });
    if (d.verdict === verdict) hits++;
  }
  return rate(hits, replicates);
}

/**
 * The n per arm the power calculation plans for showing equivalence within
 * ±δ (SD units) at 80% power in a family of m, and the simulated share of
 * "equivalent" verdicts at that n when the true difference is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { equivalencePower } from "./calibration.ts";
 * const r = equivalencePower({ m: 1, sesoi: 1.5, replicates: 200, seed: 1 });
 * assert.ok(r.n >= 2 && r.rate > 0.6);
 * ```
 */
export function equivalencePower(
  options: SimulationOptions & { m: number; sesoi: number },
): Rate & { n: number } {
  const { m, sesoi, alpha = 0.05 } = options;
  const n = seedsPerArm({ varA: 1, varB: 1 }, sesoi, "equivalence", { alpha: alpha / m });
  return { ...verdictRate("equivalent", { ...options, n, trueDiff: 0 }), n };
}

/**
 * Error of the sequential procedure under the null: families of m
 * comparisons start at `start` per arm and add `step` per round up to `max`,
 * each look reading Welch intervals at the O'Brien–Fleming-type Lan–DeMets
 * nominal level for α/m; a comparison is settled at its first better, worse
 * or equivalent verdict, the family stops when all are settled. Returns the
 * share of families with a wrong better/worse verdict (true difference 0)
 * and the mean seeds per arm used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sequentialError } from "./calibration.ts";
 * const r = sequentialError({ m: 2, start: 5, step: 5, max: 15, replicates: 50, seed: 1 });
 * assert.ok(r.rate <= 0.2 && r.meanSeeds >= 5 && r.meanSeeds <= 15);
 * ```
 */
export function sequentialError(
  options: SimulationOptions & {
    m: number;
    start: number;
    step: number;
    max: number;
    trueDiff?: number;
    sesoi?: number;
  },
): Rate & { meanSeeds: number } {
  const { m, start, step, max, replicates, seed, alpha = 0.05, trueDiff = 0, sesoi = 0.5 } =
    options;
  const looks = lookSchedule(start, step, max);
  const bounds = sequentialBounds(looks.map((n) => n / max), alpha / m);
  const rng = rngAt(seed, "calibration", "sequential", m, start, step, max, trueDiff, sesoi);
  let errors = 0;
  let seeds = 0;
  for (let r = 0; r < replicates; r++) {
    const arms = Array.from({ length: m }, () => ({
      a: normals(rng, max, trueDiff),
      b: normals(rng, max),
    }));
    const settled = new Array<Verdict | undefined>(m).fill(undefined);
    let used = max;
    for (let k = 0; k < looks.length; k++) {
      const n = looks[k]!;
      arms.forEach((arm, c) => {
        if (settled[c] !== undefined) return;
        const v = decideComparison(arm.a.slice(0, n), arm.b.slice(0, n), {
          alpha,
          familySize: m,
          better: "higher",
          sesoi,
          level: bounds.nominal[k]!,
        }).verdict;
        if (v !== "undetermined") settled[c] = v;
      });
      if (settled.every((v) => v !== undefined)) {
        used = n;
        break;
      }
    }
    const wrong = trueDiff === 0
      ? settled.some((v) => v === "better" || v === "worse")
      : settled.some((v) => v === "equivalent");
    if (wrong) errors++;
    seeds += used;
  }
  return { ...rate(errors, replicates), meanSeeds: seeds / replicates };
}

function rate(events: number, replicates: number): Rate {
  const p = events / replicates;
  return { rate: p, se: Math.sqrt((p * (1 - p)) / replicates), replicates };
}
