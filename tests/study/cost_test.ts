import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { sampleRankCorrelation } from "simple-statistics";
import { listSpecs, loadSpec, resolveRun } from "../../lib/spec.ts";
import {
  ELEMENT_COST,
  forwardWork,
  layerCount,
  longestFirst,
  runCost,
  runExamples,
} from "../../lib/study/cost.ts";

Deno.test("forwardWork() counts a small network's multiply-adds and activation elements", () => {
  const work = forwardWork([
    { type: "conv2d", filters: 4, kernel: 3 }, // same: 28x28x4, 28·28·4·9 MACs
    { type: "relu" }, // 28·28·4
    { type: "maxpool" }, // 14x14x4
    { type: "conv2d", filters: 2, kernel: 3, padding: "valid" }, // 12x12x2, ·9·4 MACs
    { type: "flatten" },
    { type: "dense", units: 10 }, // 288·10
  ]);
  assert.equal(work.macs, 28 * 28 * 4 * 9 + 12 * 12 * 2 * 9 * 4 + 288 * 10);
  assert.equal(work.elements, 28 * 28 * 4 * 2 + 14 * 14 * 4 + 12 * 12 * 2 + 10);
  assert.equal(
    layerCount([{ type: "residual", body: [{ type: "relu" }, { type: "relu" }] }]),
    3,
  );
  assert.ok(ELEMENT_COST > 0);
});

Deno.test("longestFirst() orders by cost, descending, and keeps ties in their given order", () => {
  const items = ["a1", "b5", "c5", "d2", "e9"];
  const cost = (s: string) => Number(s.slice(1));
  assert.deepEqual(longestFirst(items, cost), ["e9", "b5", "c5", "d2", "a1"]);
  assert.deepEqual(items, ["a1", "b5", "c5", "d2", "e9"], "input untouched");
});

/** Mean stored run seconds and the model's cost of every variant of the committed quick study. */
async function committedQuickRuns(): Promise<{ name: string; seconds: number[]; cost: number }[]> {
  const out = [];
  for (const name of await listSpecs()) {
    const spec = await loadSpec(name);
    const text = await Deno.readTextFile(`results/${name}/quick/runs.csv`);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    for (const v of spec.variants) {
      const config = resolveRun(spec, v.name, "quick");
      const seconds = rows.filter((r) => r.variant === v.name).map((r) => Number(r.seconds));
      out.push({
        name: `${name}/${v.name}`,
        seconds,
        cost: runCost(config, runExamples(config, 60000, 10000)),
      });
    }
  }
  return out;
}

/** Makespan of greedy list scheduling of `durations`, in order, on `workers` workers. */
function makespan(durations: number[], workers: number): number {
  const free = new Array<number>(workers).fill(0);
  for (const d of durations) {
    const w = free.indexOf(Math.min(...free));
    free[w]! += d;
  }
  return Math.max(...free);
}

Deno.test("the cost model ranks the committed quick study's variants by their measured seconds", async () => {
  const runs = await committedQuickRuns();
  const mean = runs.map((r) => r.seconds.reduce((a, b) => a + b, 0) / r.seconds.length);
  const rho = sampleRankCorrelation(runs.map((r) => r.cost), mean);
  assert.ok(rho >= 0.85, `Spearman's rho ${rho.toFixed(3)}`);
});

Deno.test(
  "longest-first by the cost model shortens the committed quick study on two workers",
  async () => {
    // The study's own order (experiment, seed, variant), with each run's measured seconds.
    const runs = await committedQuickRuns();
    const seeds = Math.min(...runs.map((r) => r.seconds.length));
    const planned: { seconds: number; cost: number }[] = [];
    for (let s = 0; s < seeds; s++) {
      for (const r of runs) planned.push({ seconds: r.seconds[s]!, cost: r.cost });
    }
    const total = planned.reduce((a, r) => a + r.seconds, 0);
    const lower = Math.max(total / 2, ...planned.map((r) => r.seconds));
    const before = makespan(planned.map((r) => r.seconds), 2);
    const after = makespan(longestFirst(planned, (r) => r.cost).map((r) => r.seconds), 2);
    assert.ok(
      after <= before,
      `longest-first ${after.toFixed(0)} s vs planned ${before.toFixed(0)} s`,
    );
    // Within 2% of the ideal split of the work (the planned order is not guaranteed to be).
    assert.ok(
      after <= 1.02 * lower,
      `longest-first ${after.toFixed(0)} s, bound ${lower.toFixed(0)} s`,
    );
  },
);
