/**
 * Quick vs full agreement: for every comparison of an experiment, the verdict
 * of the quick profile beside the full profile's, and whether they agree. It
 * says how far the quick profile is a trustworthy proxy of the seeds' protocol.
 *
 * @module
 */
import type { Comparison, StudyAnalysis } from "./analyze.ts";

/** One comparison under both profiles. */
export interface AgreementRow {
  question: string;
  a: string;
  b: string;
  quick: Comparison;
  full: Comparison;
  /** Same decision under both profiles; undefined when either is untestable. */
  agree?: boolean;
}

/** Every comparison of an experiment under both profiles, with the tally. */
export interface Agreement {
  rows: AgreementRow[];
  /** Comparisons testable under both profiles. */
  compared: number;
  /** Of those, the ones with the same decision. */
  agreed: number;
}

/**
 * Pair the comparisons of `quick` and `full` (the same experiment's analyses under the two
 * profiles) by question and variant pair, in the full analysis' order. A comparison agrees when
 * both profiles reach the same decision (better, worse, equivalent, undetermined or no
 * difference); an untestable one under either profile is left out of the tally.
 */
export function quickFullAgreement(quick: StudyAnalysis, full: StudyAnalysis): Agreement {
  const key = (q: string, c: Comparison) => `${q}\u0000${c.a}\u0000${c.b}`;
  const quickByKey = new Map(
    quick.questions.flatMap((q) => q.comparisons.map((c) => [key(q.question.id, c), c] as const)),
  );
  const rows: AgreementRow[] = [];
  for (const q of full.questions) {
    for (const c of q.comparisons) {
      const other = quickByKey.get(key(q.question.id, c));
      if (!other) continue;
      const testable = c.decision !== "untestable" && other.decision !== "untestable";
      rows.push({
        question: q.question.id,
        a: c.a,
        b: c.b,
        quick: other,
        full: c,
        ...(testable ? { agree: other.decision === c.decision } : {}),
      });
    }
  }
  const compared = rows.filter((r) => r.agree !== undefined).length;
  return { rows, compared, agreed: rows.filter((r) => r.agree === true).length };
}
