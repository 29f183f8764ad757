/**
 * The arithmetic of the decision rule against SciPy: reference values in
 * tests/fixtures/scipy_reference.json, made by tests/fixtures/scipy_reference.py
 * with the SciPy version the file records (1.10.1, Debian python3-scipy).
 */
import assert from "node:assert/strict";
import { mannWhitneyTest } from "../../lib/stats/rank.ts";
import { seedsPerArm } from "../../lib/stats/power.ts";
import { tQuantile } from "../../lib/stats/quantile.ts";
import { obrienFlemingSpending, sequentialBounds } from "../../lib/stats/sequential.ts";
import { welchInterval } from "../../lib/stats/welch.ts";

const REF = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/scipy_reference.json", import.meta.url)),
);

const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} vs SciPy ${b}`);

Deno.test("the fixture says which SciPy made it", () => {
  assert.equal(REF.scipy, "1.10.1");
});

Deno.test("tQuantile() matches scipy.stats.t.ppf", () => {
  for (const r of REF.t_quantile) close(tQuantile(r.p, r.df), r.x, 1e-8, `t(${r.p}; ${r.df})`);
});

Deno.test("welchInterval() matches SciPy's Welch df and t quantile at adjusted levels", () => {
  for (const r of REF.welch_interval) {
    const ci = welchInterval(r.a, r.b, 1 - r.level);
    close(ci.df, r.df, 1e-10, "df");
    close(ci.lower, r.lower, 1e-8, "lower");
    close(ci.upper, r.upper, 1e-8, "upper");
  }
});

Deno.test("mannWhitneyTest() matches scipy.stats.mannwhitneyu, exact and asymptotic", () => {
  for (const r of REF.mann_whitney) {
    const m = mannWhitneyTest(r.a, r.b);
    assert.equal(m.method, r.method);
    assert.equal(m.u, r.u);
    close(m.p, r.p, 1e-10, `p of ${JSON.stringify(r.a)} vs ${JSON.stringify(r.b)}`);
  }
});

Deno.test("sequentialBounds() reproduces the published boundaries whose crossing SciPy confirms", () => {
  const s = REF.sequential;
  const b = sequentialBounds(s.fractions, 0.05);
  b.critical.forEach((c: number, k: number) => close(c, s.bounds[k], 2e-4, `boundary ${k + 1}`));
  s.fractions.forEach((t: number, k: number) => {
    close(obrienFlemingSpending(t, 0.05), s.spending[k], 1e-12, `spending ${k + 1}`);
    // SciPy's multivariate normal probability of crossing the published boundaries by look k.
    assert.ok(Math.abs(b.spent[k]! - s.crossing[k]) < 2e-5, `crossing ${k + 1}`);
  });
});

Deno.test("seedsPerArm() is within one seed of the exact noncentral-t sample size", () => {
  for (const r of REF.power_n) {
    const n = seedsPerArm({ varA: r.sd ** 2, varB: r.sd ** 2 }, r.delta, "detect", {
      alpha: r.alpha,
    });
    assert.ok(Math.abs(n - r.n) <= 1, `n = ${n}, SciPy ${r.n}`);
  }
});
