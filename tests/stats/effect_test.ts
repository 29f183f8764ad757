import assert from "node:assert/strict";
import fc from "fast-check";
import { hedgesG } from "../../lib/stats/effect.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);

Deno.test("hedgesG() matches a hand computation with equal group sizes", () => {
  // a = [2, 4, 6], b = [1, 2, 3]: means 4 and 2, variances 4 and 1;
  // pooled sd = √((2·4 + 2·1) / 4) = √2.5 = 1.5811388; d = 2 / 1.5811388 = 1.2649111;
  // J = 1 − 3 / (4·6 − 9) = 1 − 3/15 = 0.8; g = 0.8 · 1.2649111 = 1.0119289.
  close(hedgesG([2, 4, 6], [1, 2, 3]), 0.8 * (2 / Math.sqrt(2.5)));
  close(hedgesG([2, 4, 6], [1, 2, 3]), 1.0119289, 1e-7);
});

Deno.test("hedgesG() matches a hand computation with unequal group sizes", () => {
  // a = [3, 5, 7, 9]: mean 6, squared deviations 9 + 1 + 1 + 9 = 20, variance 20/3;
  // b = [2, 4, 6]: mean 4, squared deviations 4 + 0 + 4 = 8, variance 4;
  // pooled sd = √((3 · 20/3 + 2 · 4) / 5) = √5.6 = 2.3664319; d = 2 / 2.3664319 = 0.8451543;
  // J = 1 − 3 / (4·7 − 9) = 16/19 = 0.8421053; g = 0.7117088.
  close(hedgesG([3, 5, 7, 9], [2, 4, 6]), (16 / 19) * (2 / Math.sqrt(5.6)));
  // Same numbers from numpy 1.24.2: 0.7117088460871718.
  close(hedgesG([3, 5, 7, 9], [2, 4, 6]), 0.7117088460871718);
});

Deno.test("hedgesG() is 0 or ±Infinity when both groups are constant", () => {
  assert.equal(hedgesG([1, 1], [1, 1]), 0);
  assert.equal(hedgesG([2, 2], [1, 1]), Infinity);
  assert.equal(hedgesG([0.1, 0.1, 0.1], [0.2, 0.2]), -Infinity);
  // One constant group still has a pooled spread: √((0 + 2 · 1) / 3), J = 1 − 3/11.
  close(hedgesG([5, 5], [1, 2, 3]), (3 / Math.sqrt(2 / 3)) * (8 / 11));
});

Deno.test("hedgesG() rejects groups of fewer than 2 values", () => {
  assert.throws(() => hedgesG([1], [1, 2]), RangeError);
  assert.throws(() => hedgesG([1, 2], [3]), RangeError);
});

const sample = fc.array(fc.integer({ min: -1000, max: 1000 }).map((i) => i / 100), {
  minLength: 2,
  maxLength: 10,
}).filter((x) => new Set(x).size > 1);

Deno.test("hedgesG() changes sign when the groups swap and ignores location and scale", () => {
  fc.assert(
    fc.property(
      sample,
      sample,
      fc.integer({ min: -100, max: 100 }),
      fc.integer({ min: 1, max: 100 }),
      (a, b, shift, scale) => {
        const g = hedgesG(a, b);
        assert.equal(hedgesG(b, a), -g);
        const moved = (x: number[]) => x.map((v) => v * scale + shift);
        close(hedgesG(moved(a), moved(b)), g, 1e-9 * Math.max(1, Math.abs(g)));
        // |J| < 1 shrinks g towards 0 relative to Cohen's d.
        assert.ok(Math.abs(g) <= Math.abs(g / (1 - 3 / (4 * (a.length + b.length) - 9))));
      },
    ),
    { numRuns: 200 },
  );
});
