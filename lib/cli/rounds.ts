/**
 * `deno task study --until-resolved`: add seeds in rounds until every
 * comparison of an experiment is settled or the seed cap is reached, with a
 * group-sequential design (O'Brien–Fleming-type Lan–DeMets spending per
 * research question, repeated confidence intervals) so the family-wise error
 * stays at α over all looks. Each round calls the ordinary `runStudy` for
 * seeds 1..n and reads the results back through the report's loader; every
 * look and its verdicts are recorded in `looks.json` beside the results.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { UsageError } from "../errors.ts";
import { analyzeStudy, DEFAULT_ANALYSIS } from "../report/analyze.ts";
import { loadStudy } from "../report/load.ts";
import { lookLevels, lookOf, type LookRecord, readLooks, writeLooks } from "../report/looks.ts";
import { join } from "node:path";
import { lookSchedule } from "../stats/sequential.ts";
import { runStudy, type StudyOptions } from "../study/study.ts";

/** The sequential design asked for on the command line. */
export interface RoundsPlan {
  /** Seeds per variant at the first look. */
  start: number;
  /** Seeds added per round. */
  step: number;
  /** Cap on seeds per variant. */
  max: number;
  /** Family-wise error per research question (0.05). */
  alpha: number;
}

/** What the loop needs from the study layer (injectable for tests). */
export interface RoundsDeps {
  runStudy: (options: StudyOptions, command: string[]) => Promise<void>;
  log: (line: string) => void;
}

/** How each experiment ended. */
export interface RoundsOutcome {
  experiment: string;
  looks: number;
  seeds: number;
  stopped: "resolved" | "cap";
}

/**
 * Run the rounds for every experiment of `options`. Resumable: an existing
 * `looks.json` with the same design continues from its last look; one with
 * another design is refused (changing the design mid-study breaks its error
 * guarantee). Throws `UsageError` for such a conflict.
 */
export async function runUntilResolved(
  options: StudyOptions,
  plan: RoundsPlan,
  command: string[],
  deps: RoundsDeps = { runStudy, log: (line) => console.error(line) },
): Promise<RoundsOutcome[]> {
  const schedule = lookSchedule(plan.start, plan.step, plan.max);
  const outcomes: RoundsOutcome[] = [];
  for (const spec of options.experiments) {
    const dir = join(options.out, spec.name, options.profile);
    const design: LookRecord["design"] = {
      alpha: plan.alpha,
      spending: "lan-demets-obrien-fleming",
      start: plan.start,
      step: plan.step,
      max: plan.max,
    };
    const existing = await readLooks(dir);
    if (existing && JSON.stringify(existing.design) !== JSON.stringify(design)) {
      throw new UsageError(
        `${join(dir, "looks.json")} records a sequential design (start ${existing.design.start}, ` +
          `step ${existing.design.step}, at most ${existing.design.max} seeds) that differs from the ` +
          `one asked for; changing the design during a study voids its error guarantee. Rerun with ` +
          `--seeds ${existing.design.start} --round-seeds ${existing.design.step} --max-seeds ` +
          `${existing.design.max}, or move the folder aside to start afresh.`,
      );
    }
    const record: LookRecord = existing ?? { version: 1, design, looks: [] };
    const settled = new Set<string>();
    for (const look of record.looks) {
      for (const c of look.comparisons) {
        if (c.verdict !== "undetermined") settled.add(`${c.question}|${c.a}|${c.b}`);
      }
    }
    let seeds = record.looks[record.looks.length - 1]?.seeds ?? 0;
    for (let k = record.looks.length; k < schedule.length && !record.stopped; k++) {
      seeds = schedule[k]!;
      deps.log(`study: ${spec.name} look ${k + 1} of at most ${schedule.length}: ${seeds} seeds`);
      await deps.runStudy(
        { ...options, experiments: [spec], seeds: Array.from({ length: seeds }, (_, i) => i + 1) },
        command,
      );
      const data = await loadStudy(options.out, spec, options.profile);
      if (!data) throw new UsageError(`No results in ${dir} after training; nothing to judge.`);
      const first = analyzeStudy(spec, data, DEFAULT_ANALYSIS);
      const familySizes = Object.fromEntries(
        first.questions.map((q) => [q.question.id, q.comparisons[0]?.familySize ?? 1]),
      );
      const { fraction, levels } = lookLevels(design, seeds, familySizes);
      const analysis = analyzeStudy(spec, data, { ...DEFAULT_ANALYSIS, levels, alpha: plan.alpha });
      const look = lookOf(analysis, k + 1, seeds, fraction, levels);
      for (const c of look.comparisons) {
        if (c.verdict !== "undetermined") settled.add(`${c.question}|${c.a}|${c.b}`);
      }
      record.looks.push(look);
      if (look.comparisons.every((c) => settled.has(`${c.question}|${c.a}|${c.b}`))) {
        record.stopped = "resolved";
      } else if (seeds >= plan.max) record.stopped = "cap";
      await writeLooks(dir, record);
      const open = look.comparisons.filter((c) => !settled.has(`${c.question}|${c.a}|${c.b}`));
      deps.log(
        `study: ${spec.name} look ${k + 1}: ${look.comparisons.length - open.length} of ` +
          `${look.comparisons.length} comparisons settled` +
          (record.stopped ? ` — stopped (${record.stopped})` : ""),
      );
    }
    outcomes.push({
      experiment: spec.name,
      looks: record.looks.length,
      seeds,
      stopped: record.stopped ?? "cap",
    });
  }
  return outcomes;
}
