/**
 * `deno task calibrate`: the calibration figures of the README, by seeded
 * simulation with the project's own decision rule (lib/stats/calibration.ts).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import {
  equivalencePower,
  familyWiseError,
  intervalCoverage,
  type Rate,
  sequentialError,
  verdictRate,
} from "../stats/calibration.ts";
import { intOption, parseCommand } from "./args.ts";

const USAGE = `Usage: deno task calibrate [--replicates N] [--seed S]

Simulate the decision rule on normal data and print, with Monte-Carlo standard
errors: the family-wise error of the full verdict rule (9 comparisons, n = 5
and 10), the coverage of the shown intervals, the rate of "equivalent" at the
margin, the power of "equivalent" at the planned n, and the null error of the
sequential procedure. The test suite checks the same quantities with fewer
replicates.

Options:
      --replicates N   simulated families per figure (default 10000)
      --seed S         root seed (default 2024)
  -h, --help           show this help`;

const OPTIONS = {
  replicates: { type: "string" },
  seed: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code. */
export function run(argv: string[]): Promise<number> {
  const values = parseCommand("calibrate", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return Promise.resolve(0);
  }
  const replicates = intOption("replicates", values.replicates, 10_000, { max: 10_000_000 });
  const seed = intOption("seed", values.seed, 2024, { min: 0 });
  const o = { replicates, seed };
  const row = (what: string, target: string, r: Rate, extra = "") =>
    console.log(
      `| ${what} | ${target} | ${r.rate.toFixed(4)} ± ${
        r.se.toFixed(4)
      }${extra} | ${r.replicates} |`,
    );
  console.log("| quantity | target | simulated (± MC SE) | replicates |");
  console.log("| --- | --- | ---: | ---: |");
  for (const n of [5, 10]) {
    for (const sdB of [1, 3]) {
      row(
        `FWER, 9 comparisons, n = ${n}, sd ratio ${sdB}`,
        "≤ 0.05 + 2 SE",
        familyWiseError({ ...o, n, m: 9, sdB }),
      );
    }
  }
  for (const n of [5, 10]) {
    for (const sdB of [1, 3]) {
      row(
        `coverage of the 95% interval, n = ${n}, sd ratio ${sdB}`,
        "≥ 0.935",
        intervalCoverage({ ...o, n, m: 1, sdB }),
      );
    }
  }
  row(
    "simultaneous coverage, 9 intervals at 1 − 0.05/9, n = 5",
    "≥ 0.935",
    intervalCoverage({ ...o, n: 5, m: 9 }),
  );
  for (const n of [5, 20]) {
    row(
      `"equivalent" when the true difference is δ (1 SD), n = ${n}`,
      "≤ 0.05",
      verdictRate("equivalent", { ...o, n, m: 1, trueDiff: 1, sesoi: 1 }),
    );
  }
  for (const m of [1, 3]) {
    const r = equivalencePower({ ...o, m, sesoi: 1 });
    row(`power of "equivalent" at difference 0, δ = 1 SD, m = ${m}`, "≈ 0.80", r, ` (n = ${r.n})`);
  }
  for (const m of [1, 3, 9]) {
    const r = sequentialError({ ...o, m, start: 5, step: 5, max: 20 });
    row(
      `sequential null error, m = ${m}, looks at 5/10/15/20 seeds`,
      "≤ 0.05 + 2 SE",
      r,
      ` (mean seeds ${r.meanSeeds.toFixed(1)})`,
    );
  }
  return Promise.resolve(0);
}
