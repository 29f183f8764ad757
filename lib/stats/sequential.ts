/**
 * Group-sequential designs with Lan–DeMets alpha spending (Lan & DeMets,
 * 1983), for adding seeds in rounds while keeping the error rate at α under
 * repeated looks. The boundaries come from the recursive numerical
 * integration of Armitage, McPherson & Rowe (1969) as set out in Jennison &
 * Turnbull (2000, ch. 19): under the null the standardised statistics
 * Z_1, …, Z_K at information fractions t_1 < … < t_K have
 * Cov(Z_i, Z_j) = √(t_i / t_j), and the boundary c_k at look k is the value
 * with P(|Z_1| < c_1, …, |Z_{k−1}| < c_{k−1}, |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1}).
 *
 * Each boundary is used through its nominal two-sided level
 * p_k = 2(1 − Φ(c_k)): at look k the comparison's interval is the Welch t
 * interval at confidence 1 − p_k (a repeated confidence interval, Jennison &
 * Turnbull ch. 9), so every look reads its verdict off one interval exactly
 * as the fixed-sample rule does.
 *
 * @module
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";

/** An alpha-spending function: cumulative two-sided α spent by information fraction t ∈ (0, 1]. */
export type SpendingFunction = (t: number, alpha: number) => number;

/**
 * Lan–DeMets spending function of O'Brien–Fleming type, two-sided:
 * α(t) = 4(1 − Φ(z(1 − α/4) / √t)), so α(1) = α and almost nothing is spent
 * at early looks (each side spends 2 − 2Φ(z(1 − α/4)/√t)).
 *
 * @param t Information fraction, in (0, 1] (values above 1 count as 1).
 * @param alpha Total two-sided error, in (0, 1).
 * @returns Cumulative α spent by `t`.
 * @throws {RangeError} When t ≤ 0 or alpha is outside (0, 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { obrienFlemingSpending } from "./sequential.ts";
 * assert.ok(Math.abs(obrienFlemingSpending(1, 0.05) - 0.05) < 1e-12);
 * assert.ok(obrienFlemingSpending(0.5, 0.05) < 0.006);
 * ```
 */
export function obrienFlemingSpending(t: number, alpha: number): number {
  if (!(t > 0)) throw new RangeError(`The information fraction must be positive, got ${t}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  const z = normalQuantile(1 - alpha / 4, 0, 1);
  return 4 * (1 - normalCdf(z / Math.sqrt(Math.min(1, t)), 0, 1));
}

/** Two-sided boundaries of a group-sequential design. */
export interface SequentialBounds {
  /** Information fractions of the looks. */
  fractions: number[];
  /** Boundaries on the standard-normal scale, |Z_k| ≥ c_k rejects at look k. */
  critical: number[];
  /** Nominal two-sided level of each look, 2(1 − Φ(c_k)). */
  nominal: number[];
  /** Cumulative α spent by each look. */
  spent: number[];
}

/**
 * Two-sided symmetric boundaries for looks at `fractions` with total error
 * `alpha` spent by `spending` (default O'Brien–Fleming type). Only the
 * fractions up to the current look matter, so boundaries of earlier looks do
 * not change when later looks are added (the Lan–DeMets property).
 *
 * @param fractions Strictly increasing information fractions in (0, 1].
 * @param alpha Total two-sided error, in (0, 1).
 * @param spending The spending function (default {@linkcode obrienFlemingSpending}).
 * @returns Boundaries, nominal levels and α spent per look.
 * @throws {RangeError} When the fractions are not increasing within (0, 1] or alpha is out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sequentialBounds } from "./sequential.ts";
 * // Five equally spaced looks, α = 0.05: 4.877, 3.357, 2.680, 2.290, 2.031 (Reboussin et al., 2000).
 * const b = sequentialBounds([0.2, 0.4, 0.6, 0.8, 1], 0.05);
 * assert.deepEqual(b.critical.map((c) => Math.round(c * 1000) / 1000), [4.877, 3.357, 2.68, 2.29, 2.031]);
 * ```
 */
export function sequentialBounds(
  fractions: readonly number[],
  alpha: number,
  spending: SpendingFunction = obrienFlemingSpending,
): SequentialBounds {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  fractions.forEach((t, i) => {
    if (!(t > 0 && t <= 1) || (i > 0 && !(t > fractions[i - 1]!))) {
      throw new RangeError(
        `Information fractions must increase strictly within (0, 1], got ${fractions.join(", ")}`,
      );
    }
  });
  const critical: number[] = [];
  const spent: number[] = [];
  let grid: Float64Array = new Float64Array(0);
  let density: Float64Array = new Float64Array(0);
  let weights: Float64Array = new Float64Array(0);
  let previousSpent = 0;
  fractions.forEach((t, k) => {
    const cumulative = Math.min(alpha, spending(t, alpha));
    const target = Math.max(0, cumulative - previousSpent);
    let c: number;
    if (k === 0) {
      c = target > 0 ? normalQuantile(1 - target / 2, 0, 1) : Infinity;
      c = Math.min(c, LIMIT);
      grid = linspace(-c, c);
      weights = simpson(grid);
      density = grid.map((z) => phi(z));
    } else {
      const tPrev = fractions[k - 1]!;
      const r = Math.sqrt(tPrev / t);
      const s = Math.sqrt((t - tPrev) / t);
      const crossing = (bound: number): number => {
        let p = 0;
        for (let i = 0; i < grid.length; i++) {
          const m = grid[i]! * r;
          const tail = 1 - normalCdf((bound - m) / s, 0, 1) + normalCdf((-bound - m) / s, 0, 1);
          p += weights[i]! * density[i]! * tail;
        }
        return p;
      };
      if (target <= 0 || crossing(LIMIT) >= target) c = LIMIT;
      else {
        let lo = 0;
        let hi = LIMIT;
        for (let it = 0; it < 100 && hi - lo > 1e-10; it++) {
          const mid = (lo + hi) / 2;
          if (crossing(mid) > target) lo = mid;
          else hi = mid;
        }
        c = (lo + hi) / 2;
      }
      const next = linspace(-c, c);
      const nextDensity = new Float64Array(next.length);
      for (let j = 0; j < next.length; j++) {
        let f = 0;
        for (let i = 0; i < grid.length; i++) {
          f += weights[i]! * density[i]! * phi((next[j]! - grid[i]! * r) / s);
        }
        nextDensity[j] = f / s;
      }
      grid = next;
      density = nextDensity;
      weights = simpson(grid);
    }
    critical.push(c);
    previousSpent += target;
    spent.push(previousSpent);
  });
  return {
    fractions: [...fractions],
    critical,
    nominal: critical.map((c) => 2 * (1 - normalCdf(c, 0, 1))),
    spent,
  };
}

/**
 * Seeds per arm at each planned look: `start`, then `step` more each round,
 * up to and including `max`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lookSchedule } from "./sequential.ts";
 * assert.deepEqual(lookSchedule(5, 3, 12), [5, 8, 11, 12]);
 * ```
 */
export function lookSchedule(start: number, step: number, max: number): number[] {
  if (!(Number.isInteger(start) && Number.isInteger(step) && Number.isInteger(max))) {
    throw new RangeError(`Look sizes must be whole numbers, got ${start}, ${step}, ${max}`);
  }
  if (!(start >= 2 && step >= 1 && max >= start)) {
    throw new RangeError(
      `A sequential design needs start ≥ 2, step ≥ 1 and max ≥ start, got ${start}, ${step}, ${max}`,
    );
  }
  const looks: number[] = [];
  for (let n = start; n < max; n += step) looks.push(n);
  looks.push(max);
  return looks;
}

/** Beyond this |z| a boundary is treated as never crossed (P < 1e-40). */
const LIMIT = 14;
/** Grid points per look (odd, for Simpson's rule). */
const POINTS = 601;

function linspace(lo: number, hi: number): Float64Array {
  const out = new Float64Array(POINTS);
  for (let i = 0; i < POINTS; i++) out[i] = lo + ((hi - lo) * i) / (POINTS - 1);
  return out;
}

function simpson(grid: Float64Array): Float64Array {
  const h = (grid[grid.length - 1]! - grid[0]!) / (grid.length - 1);
  return grid.map((_, i) => (h / 3) * (i === 0 || i === grid.length - 1 ? 1 : i % 2 === 1 ? 4 : 2));
}

function phi(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}
