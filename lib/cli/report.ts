/**
 * `deno task report`: answer every experiment's research questions from the
 * stored results and write the findings report (per-experiment pages and
 * SVG charts, FINDINGS.md, the README summary).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { join } from "node:path";
import { loadSpec, PROFILES } from "../spec.ts";
import { writeReport } from "../report/report.ts";
import { choiceOption, listOption, parseCommand, resultsRoot, stringOption } from "./args.ts";

const USAGE = `Usage: deno task report [options]

Compute the statistics that answer each experiment's research questions from
results/<experiment>/<profile>/ and write the findings report into
reports/<profile>/ (the default --out):
  <out>/<experiment>.md        per-variant table, every comparison (mean ± sd, difference
                               with Welch's t interval at the question's Bonferroni level,
                               p and p_adj, Hedges' g, P(a > b), rank test, BCa interval
                               and exact permutation p as checks), verdicts with the seeds
                               an undetermined one needs, the protocol's deviations,
                               published numbers, quick vs full agreement, charts,
                               provenance
  <out>/<experiment>-comparisons.{json,csv}  the same comparisons as data
  <out>/<experiment>-*.svg     learning curves, test accuracy, convergence, gap
  <out>/FINDINGS.md            every question's verdict, with links
  README.md                    the summary between <!-- findings:start --> and
                               <!-- findings:end -->, only when the README declares
                               this profile as its headline (<!-- findings:headline P -->)
Experiments without results for the profile get a "no results yet" line; when no
experiment has results, or the results folder does not exist, the command fails
(exit 4) and writes and removes nothing. Files are rewritten only when their
content changes; running twice gives identical bytes. Symbolic links under the
report folder are refused, never followed.

Options:
      --results DIR       stored results root (default: $BNLAB_RESULTS, else results)
      --profile P         smoke | quick | full (default: quick)
  -e, --experiment NAME   only these experiments, repeatable (default: all); FINDINGS.md
                          and the README summary then cover only these
      --out DIR           folder for the report files (default: reports/<profile>)
      --readme FILE       README to update (default: README.md)
      --no-readme         leave the README alone
  -h, --help              show this help`;

const OPTIONS = {
  results: { type: "string" },
  profile: { type: "string" },
  experiment: { type: "string", short: "e", multiple: true },
  out: { type: "string" },
  readme: { type: "string" },
  "no-readme": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code (failures are thrown as typed errors). */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("report", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const experiments = listOption(values.experiment);
  for (const name of experiments) await loadSpec(name);
  const profile = choiceOption("profile", values.profile, PROFILES, "quick");
  const outcome = await writeReport({
    results: await resultsRoot(stringOption(values.results)),
    profile,
    experiments,
    out: stringOption(values.out) ?? join("reports", profile),
    readme: values["no-readme"] ? undefined : stringOption(values.readme) ?? "README.md",
  });
  for (const path of outcome.written) console.log(`report: wrote ${path}`);
  for (const path of outcome.removed) console.log(`report: removed ${path} (no results any more)`);
  if (outcome.readmeSkipped) console.log(`report: ${outcome.readmeSkipped}`);
  const reported = outcome.reported.length > 0 ? outcome.reported.join(", ") : "none";
  const empty = outcome.empty.length > 0 ? `; no results yet: ${outcome.empty.join(", ")}` : "";
  console.log(
    `report: ${outcome.written.length} file(s) written, ${outcome.unchanged.length} unchanged; ` +
      `experiments reported: ${reported}${empty}`,
  );
  return 0;
}
