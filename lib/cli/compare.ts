/**
 * `deno task compare`: the report's statistics on any two samples a user
 * points at — two variants of a results folder, two results folders, or two
 * CSV columns — in the spirit of `dvc exp diff`.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { parse } from "csv-parse/sync";
import { join } from "node:path";
import { ResultsError, UsageError } from "../errors.ts";
import { readTextIfExists } from "../fs.ts";
import { METRIC_INFO } from "../report/metrics.ts";
import { type Metric, METRICS } from "../spec.ts";
import { decideComparison } from "../stats/decision.ts";
import { meanAndVariance } from "../stats/describe.ts";
import { hedgesG } from "../stats/effect.ts";
import { detectableEffect, seedsPerArm } from "../stats/power.ts";
import { readRows } from "../store/records.ts";
import { choiceOption, intOption, parseCommand, stringOption } from "./args.ts";

const USAGE = `Usage: deno task compare --a SOURCE --b SOURCE [options]

Compare two samples with bnlab's decision rule: Welch's t interval at level
1 − alpha/m, read as better / worse / equivalent within ±sesoi / undetermined,
with Hedges' g, P(a > b), the Mann–Whitney rank test as a robustness check, and
for an undetermined comparison the seeds per arm that would settle it.

A SOURCE is one of:
  DIR:VARIANT       the runs of VARIANT in a results folder (DIR/runs.csv)
  DIR               a results folder whose runs.csv holds one variant
  FILE.csv:COLUMN   the numbers in COLUMN of a CSV file with a header row
Two variants of one study: --a results/placement/quick:pre_bn --b results/placement/quick:post_bn

Options:
      --a SOURCE            first sample (a in a − b)
      --b SOURCE            second sample
      --metric M            runs.csv column for results folders (default test_acc); accuracies
                            are shown in percent, their differences in percentage points
      --sesoi D             smallest effect of interest, in the units shown (pp for accuracies);
                            without it nothing is called equivalent
      --better higher|lower which direction is better (default higher)
      --alpha A             family-wise error rate (default 0.05)
      --family-size M       comparisons in the family, for the Bonferroni level (default 1)
      --censored-at X       values at or above X are right-censored (an epoch cap)
      --json                print the result as JSON instead of text
  -h, --help                show this help

Exit codes: 0 compared; 2 bad arguments; 4 a source cannot be read or has
fewer than 2 numbers.`;

const OPTIONS = {
  a: { type: "string" },
  b: { type: "string" },
  metric: { type: "string" },
  sesoi: { type: "string" },
  better: { type: "string" },
  alpha: { type: "string" },
  "family-size": { type: "string" },
  "censored-at": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A sample read from a source, with its label and unit. */
export interface Sample {
  label: string;
  values: number[];
}

/** Run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("compare", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sourceA = stringOption(values.a);
  const sourceB = stringOption(values.b);
  if (sourceA === undefined || sourceB === undefined) {
    throw new UsageError(
      "compare needs two samples, --a SOURCE and --b SOURCE (a results folder with :VARIANT, or a " +
        "CSV file with :COLUMN); see `compare --help`.",
    );
  }
  const metric = choiceOption("metric", values.metric, METRICS, "test_acc");
  const better = choiceOption("better", values.better, ["higher", "lower"] as const, "higher");
  const alpha = numberOption("alpha", values.alpha, 0.05, (x) => x > 0 && x < 1);
  const familySize = intOption("family-size", values["family-size"], 1, { max: 10_000 });
  const sesoi = values.sesoi === undefined
    ? undefined
    : numberOption("sesoi", values.sesoi, 0, (x) => x > 0);
  const censoredAt = values["censored-at"] === undefined
    ? undefined
    : numberOption("censored-at", values["censored-at"], 0, Number.isFinite);
  const a = await readSample(sourceA, metric);
  const b = await readSample(sourceB, metric);
  const result = compareSamples(a, b, { alpha, familySize, better, sesoi, censoredAt });
  console.log(values.json ? JSON.stringify(result, null, 2) : describeResult(result));
  return 0;
}

/** Everything `compare` reports. */
export interface CompareResult {
  a: string;
  b: string;
  n_a: number;
  n_b: number;
  mean_a: number;
  mean_b: number;
  sd_a: number;
  sd_b: number;
  diff: number;
  level: number;
  ci_lower: number;
  ci_upper: number;
  p: number;
  p_adj: number;
  hedges_g: number | null;
  p_a_gt_b: number;
  rank_p: number;
  rank_p_adj: number;
  sesoi: number | null;
  verdict: string;
  method: string;
  disagreement: string | null;
  censored_a: number | null;
  censored_b: number | null;
  detectable_diff: number | null;
  seeds_to_resolve: number | null;
}

/** The decision rule and its companions on two samples (pure). */
export function compareSamples(
  a: Sample,
  b: Sample,
  options: {
    alpha: number;
    familySize: number;
    better: "higher" | "lower";
    sesoi?: number | undefined;
    censoredAt?: number | undefined;
  },
): CompareResult {
  const d = decideComparison(a.values, b.values, options);
  const ma = meanAndVariance(a.values);
  const mb = meanAndVariance(b.values);
  const g = hedgesG(a.values, b.values);
  const v = { varA: ma.variance, varB: mb.variance };
  const undetermined = d.verdict === "undetermined";
  const planned = options.alpha / options.familySize;
  const target = options.sesoi ?? Math.abs(d.estimate);
  return {
    a: a.label,
    b: b.label,
    n_a: a.values.length,
    n_b: b.values.length,
    mean_a: ma.mean,
    mean_b: mb.mean,
    sd_a: Math.sqrt(ma.variance),
    sd_b: Math.sqrt(mb.variance),
    diff: d.estimate,
    level: d.level,
    ci_lower: d.interval.lower,
    ci_upper: d.interval.upper,
    p: d.p,
    p_adj: d.pAdjusted,
    hedges_g: Number.isFinite(g) ? g : null,
    p_a_gt_b: d.rank.probability,
    rank_p: d.rank.p,
    rank_p_adj: d.rank.pAdjusted,
    sesoi: options.sesoi ?? null,
    verdict: d.verdict,
    method: d.method,
    disagreement: d.disagreement ?? null,
    censored_a: d.censored?.a ?? null,
    censored_b: d.censored?.b ?? null,
    detectable_diff: undetermined
      ? detectableEffect(v, a.values.length, b.values.length, { alpha: d.level })
      : null,
    seeds_to_resolve: undetermined && target > 0
      ? finite(seedsPerArm(v, target, options.sesoi ? "equivalence" : "detect", { alpha: planned }))
      : null,
  };
}

function describeResult(r: CompareResult): string {
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(2) : x.toPrecision(4));
  const confidence = `${((1 - r.level) * 100).toFixed(1).replace(/\.0$/, "")}%`;
  const lines = [
    `a = ${r.a}: mean ${f(r.mean_a)} ± ${f(r.sd_a)} (n = ${r.n_a})`,
    `b = ${r.b}: mean ${f(r.mean_b)} ± ${f(r.sd_b)} (n = ${r.n_b})`,
    `a − b = ${f(r.diff)}, ${confidence} Welch CI [${f(r.ci_lower)}, ${f(r.ci_upper)}], ` +
    `p = ${r.p.toPrecision(3)}, p_adj = ${r.p_adj.toPrecision(3)}`,
    `Hedges' g = ${r.hedges_g === null ? "—" : r.hedges_g.toFixed(2)}, P(a > b) = ${
      r.p_a_gt_b.toFixed(2)
    }, rank test p_adj = ${r.rank_p_adj.toPrecision(3)}`,
    `verdict: ${r.verdict}${r.sesoi === null ? "" : ` (δ = ${r.sesoi})`}${
      r.disagreement ? ` — the tests disagree (${r.disagreement} alone is significant)` : ""
    }${r.method === "gehan" ? " — decided by the rank test because of censoring" : ""}`,
  ];
  if (r.detectable_diff !== null) {
    lines.push(
      `smallest difference detectable with 80% power at these n: ${f(r.detectable_diff)}; ` +
        `seeds per arm to settle it: ${r.seeds_to_resolve ?? "more than 100,000"}`,
    );
  }
  return lines.join("\n");
}

/** Read the numbers a SOURCE names; `ResultsError` when they cannot be read. */
export async function readSample(source: string, metric: Metric): Promise<Sample> {
  const colon = source.lastIndexOf(":");
  const path = colon > 0 ? source.slice(0, colon) : source;
  const name = colon > 0 ? source.slice(colon + 1) : undefined;
  if (path.toLowerCase().endsWith(".csv")) {
    if (!name) {
      throw new UsageError(
        `The CSV source "${source}" names no column; write it as FILE.csv:COLUMN.`,
      );
    }
    return { label: source, values: await csvColumn(path, name) };
  }
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (err) {
    throw new ResultsError(
      `Cannot read the source "${source}": ${(err as Error).message.split("\n")[0]}. A source is ` +
        `a results folder (DIR or DIR:VARIANT) or a CSV file with a column (FILE.csv:COLUMN).`,
    );
  }
  if (!stat.isDirectory) {
    throw new UsageError(
      `The source "${source}" is neither a results folder nor a .csv file; a source is DIR, ` +
        `DIR:VARIANT or FILE.csv:COLUMN.`,
    );
  }
  // Diverged runs have no metrics to compare; the report counts them separately.
  const runs = (await readRows(path)).runs.filter((r) => r.status === "ok");
  if (runs.length === 0) {
    throw new ResultsError(
      `${
        join(path, "runs.csv")
      } has no runs, so "${source}" gives nothing to compare; point at a ` +
        `folder that \`deno task study\` filled.`,
    );
  }
  const variants = [...new Set(runs.map((r) => r.variant))];
  if (name === undefined && variants.length > 1) {
    throw new UsageError(
      `${path} holds ${variants.length} variants (${variants.join(", ")}); name one as ` +
        `${path}:VARIANT.`,
    );
  }
  const variant = name ?? variants[0]!;
  const rows = runs.filter((r) => r.variant === variant);
  if (rows.length === 0) {
    throw new ResultsError(
      `${path} has no runs of variant "${variant}"; it holds ${variants.join(", ")}.`,
    );
  }
  const scale = METRIC_INFO[metric].scale;
  const values = rows.map((r, i) => {
    const raw = metric === "acc_per_mparam"
      ? Number(r.test_acc) / (Number(r.params) / 1e6)
      : Number((r as Record<string, string>)[metric]);
    if (!Number.isFinite(raw)) {
      throw new ResultsError(
        `${join(path, "runs.csv")}: run ${i + 1} of ${variant} has no number in column ${metric}.`,
      );
    }
    return raw * scale;
  });
  return { label: `${path}:${variant}`, values: atLeastTwo(values, source) };
}

async function csvColumn(path: string, column: string): Promise<number[]> {
  let text: string | undefined;
  try {
    text = await readTextIfExists(path);
  } catch (err) {
    throw new ResultsError(`Cannot read ${path}: ${(err as Error).message.split("\n")[0]}.`);
  }
  if (text === undefined) throw new ResultsError(`${path} does not exist.`);
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    throw new ResultsError(
      `${path} is not a CSV file with a header row (${(err as Error).message.split("\n")[0]}).`,
    );
  }
  if (rows.length === 0 || !(column in rows[0]!)) {
    const known = rows.length > 0 ? Object.keys(rows[0]!).join(", ") : "none";
    throw new ResultsError(`${path} has no column "${column}"; its columns: ${known}.`);
  }
  const values: number[] = [];
  rows.forEach((row, i) => {
    const cell = row[column] ?? "";
    if (cell === "") return; // empty cells: columns of unequal length
    const x = Number(cell);
    if (!Number.isFinite(x)) {
      throw new ResultsError(
        `${path} row ${
          i + 2
        }, column ${column}: "${cell}" is not a number. Fix the cell or leave ` +
          `it empty to skip it.`,
      );
    }
    values.push(x);
  });
  return atLeastTwo(values, `${path}:${column}`);
}

function atLeastTwo(values: number[], source: string): number[] {
  if (values.length < 2) {
    throw new ResultsError(
      `"${source}" gives ${values.length} number(s); a comparison needs at least 2 per sample.`,
    );
  }
  return values;
}

function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  valid: (x: number) => boolean,
): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (String(value).trim() === "" || !valid(x)) {
    throw new UsageError(`--${name} got "${String(value)}", which is not a valid value.`);
  }
  return x;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
