/**
 * The record of a sequential study (`looks.json` in its results folder):
 * the group-sequential design, and at every look the seeds per variant, the
 * nominal level of each research question and every comparison's verdict.
 * Written by `deno task study --until-resolved` after each round, read by the
 * report to use the last look's levels and show the path.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { ResultsError } from "../errors.ts";
import { parseJsonText, readTextIfExists, writeFileAtomic } from "../fs.ts";
import { lookSchedule, sequentialBounds } from "../stats/sequential.ts";
import type { StudyAnalysis } from "./analyze.ts";

const LookSchema = z.strictObject({
  look: z.number().int().positive(),
  seeds: z.number().int().positive(),
  fraction: z.number().positive().max(1),
  /** Nominal two-sided level per comparison, by question id. */
  levels: z.record(z.string(), z.number().positive().lt(1)),
  comparisons: z.array(z.strictObject({
    question: z.string(),
    a: z.string(),
    b: z.string(),
    verdict: z.string(),
    lower: z.number().nullable(),
    upper: z.number().nullable(),
  })),
});

const RecordSchema = z.strictObject({
  version: z.literal(1),
  design: z.strictObject({
    alpha: z.number().positive().lt(1),
    spending: z.literal("lan-demets-obrien-fleming"),
    start: z.number().int().min(2),
    step: z.number().int().positive(),
    max: z.number().int().min(2),
  }),
  looks: z.array(LookSchema),
  /** Why the study stopped, once it has. */
  stopped: z.enum(["resolved", "cap"]).optional(),
});

/** The record of a sequential study. */
export type LookRecord = z.infer<typeof RecordSchema>;
/** One look of it. */
export type Look = z.infer<typeof LookSchema>;

/** Path of the record in a results folder. */
export function looksPath(dir: string): string {
  return join(dir, "looks.json");
}

/** Read `looks.json` of a results folder, or `undefined` when there is none; `ResultsError` when malformed. */
export async function readLooks(dir: string): Promise<LookRecord | undefined> {
  const path = looksPath(dir);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  const json = parseJsonText(path, text, (m) =>
    new ResultsError(
      `${m}. It records the sequential looks of the study; restore it, or delete it to report ` +
        `the folder as a fixed-size study.`,
    ));
  const parsed = RecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ResultsError(
      `${path} is malformed at ${
        issue.path.join(".") || "(root)"
      }: ${issue.message}. Restore it, ` +
        `or delete it to report the folder as a fixed-size study.`,
    );
  }
  return parsed.data;
}

/** Write the record atomically. */
export async function writeLooks(dir: string, record: LookRecord): Promise<void> {
  await writeFileAtomic(looksPath(dir), JSON.stringify(record, null, 2) + "\n");
}

/**
 * The nominal per-comparison level of every question at the look with
 * `seeds` per variant: the O'Brien–Fleming-type Lan–DeMets boundary for
 * α / m (m testable comparisons of the question) at information fraction
 * seeds / max, over the looks of the design's schedule up to this one.
 *
 * @throws {RangeError} When `seeds` is not a look of the schedule.
 */
export function lookLevels(
  design: LookRecord["design"],
  seeds: number,
  familySizes: Record<string, number>,
): { fraction: number; levels: Record<string, number> } {
  const schedule = lookSchedule(design.start, design.step, design.max);
  const k = schedule.indexOf(seeds);
  if (k < 0) {
    throw new RangeError(`${seeds} seeds is not a look of the schedule ${schedule.join(", ")}`);
  }
  const fractions = schedule.slice(0, k + 1).map((n) => n / design.max);
  const levels: Record<string, number> = {};
  for (const [id, m] of Object.entries(familySizes)) {
    levels[id] = sequentialBounds(fractions, design.alpha / m).nominal[k]!;
  }
  return { fraction: fractions[k]!, levels };
}

/** The look entry of an analysis made at `levels`. */
export function lookOf(
  analysis: StudyAnalysis,
  look: number,
  seeds: number,
  fraction: number,
  levels: Record<string, number>,
): Look {
  return {
    look,
    seeds,
    fraction,
    levels,
    comparisons: analysis.questions.flatMap((q) =>
      q.comparisons.map((c) => ({
        question: c.question,
        a: c.a,
        b: c.b,
        verdict: c.decision,
        lower: c.interval ? c.interval.lower : null,
        upper: c.interval ? c.interval.upper : null,
      }))
    ),
  };
}

/** Whether every comparison of a look is settled (better, worse, equivalent, identical or untestable). */
export function lookResolved(look: Look): boolean {
  return look.comparisons.every((c) => c.verdict !== "undetermined");
}
