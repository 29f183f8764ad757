/**
 * Reading and writing `runs.csv` and `epochs.csv`: CSV text to validated rows
 * and back. Every row is checked against its zod schema (`schema.ts`); a
 * problem is a `ResultsError` naming the file, the line and the column.
 * A UTF-8 byte-order mark and CRLF line endings are accepted on reading;
 * files are always written with LF and no BOM.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import type { z } from "zod";
import { ResultsError } from "../errors.ts";
import {
  EPOCH_COLUMNS,
  type EpochRow,
  EpochRowSchema,
  RUN_COLUMNS,
  runKey,
  type RunRow,
  RunRowSchema,
} from "./schema.ts";

/** Rows as CSV text with a header, LF line endings, no BOM. */
export function toCsv<T extends Record<string, string>>(
  rows: readonly T[],
  columns: readonly string[],
): string {
  return stringify([...rows], { header: true, columns: [...columns], record_delimiter: "\n" });
}

/** A row and the 1-based line of the file it starts on. */
export interface Located<T> {
  row: T;
  line: number;
}

/**
 * Parse and validate runs.csv text (`path` names it in errors). Throws
 * `ResultsError` for unknown or missing columns, a cell that fails the schema
 * (non-numeric, non-finite in a run that did not diverge, ...), or a run key
 * that repeats.
 */
export function parseRuns(text: string | undefined, path: string): Located<RunRow>[] {
  const rows = parseTable(text, path, RUN_COLUMNS, RunRowSchema);
  const seen = new Map<string, number>();
  for (const { row, line } of rows) {
    const key = runKey(row);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ResultsError(
        `${path} line ${line}: the run ${row.variant} seed ${row.seed} (${row.backend}, ` +
          `${row.threads} thread(s)) is stored twice (also on line ${first}); each run is stored ` +
          `once. Delete runs.csv and epochs.csv and rerun the study to regenerate them from the ` +
          `per-run records, or remove the duplicate line.`,
      );
    }
    seen.set(key, line);
  }
  return rows;
}

/**
 * Parse and validate epochs.csv text. Throws `ResultsError` like
 * {@linkcode parseRuns}, and when a (run, epoch) repeats.
 */
export function parseEpochs(text: string | undefined, path: string): Located<EpochRow>[] {
  const rows = parseTable(text, path, EPOCH_COLUMNS, EpochRowSchema);
  const seen = new Map<string, number>();
  for (const { row, line } of rows) {
    const key = `${runKey(row)}:${row.epoch}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ResultsError(
        `${path} line ${line}: epoch ${row.epoch} of ${row.variant} seed ${row.seed} is stored ` +
          `twice (also on line ${first}). Delete runs.csv and epochs.csv and rerun the study to ` +
          `regenerate them from the per-run records.`,
      );
    }
    seen.set(key, line);
  }
  return rows;
}

function parseTable<T>(
  text: string | undefined,
  path: string,
  columns: readonly string[],
  schema: z.ZodType<T>,
): Located<T>[] {
  if (text === undefined) return [];
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (body.trim() === "") return [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(body, {
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new ResultsError(
      `Cannot read ${path}: ${(err as Error).message}. Delete it and rerun the study to ` +
        `regenerate it from the per-run records.`,
    );
  }
  const [head, ...data] = records;
  const header = head!.record.map((h) => h.trim());
  const unknown = header.filter((h) => !columns.includes(h));
  const missing = columns.filter((c) => !header.includes(c));
  const repeated = header.filter((h, i) => header.indexOf(h) !== i);
  if (unknown.length > 0 || missing.length > 0 || repeated.length > 0) {
    const problems = [
      unknown.length > 0 ? `unknown column(s) ${unknown.join(", ")}` : "",
      missing.length > 0 ? `missing column(s) ${missing.join(", ")}` : "",
      repeated.length > 0 ? `repeated column(s) ${repeated.join(", ")}` : "",
    ].filter((p) => p !== "");
    throw new ResultsError(
      `${path} line 1: ${problems.join("; ")}. Expected ${columns.join(",")}; the file was ` +
        `written by another version of bnlab or edited by hand. Migrate or regenerate it ` +
        `(delete it and rerun the study).`,
    );
  }
  return data.map(({ record, info }) => {
    const line = info.lines;
    if (record.length !== header.length) {
      throw new ResultsError(
        `${path} line ${line}: ${record.length} cells where the header has ${header.length}. ` +
          `The file is damaged or was edited by hand; delete it and rerun the study to ` +
          `regenerate it from the per-run records.`,
      );
    }
    const object = Object.fromEntries(header.map((h, i) => [h, record[i]!]));
    const result = schema.safeParse(object);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const column = String(issue.path[0] ?? "");
      const at = header.indexOf(column);
      const where = at >= 0 ? `, column ${at + 1} (${column})` : "";
      const value = at >= 0 ? ` "${record[at]}"` : "";
      throw new ResultsError(
        `${path} line ${line}${where}:${value} ${issue.message}. The file is damaged or was ` +
          `edited by hand; delete it and rerun the study to regenerate it from the per-run ` +
          `records.`,
      );
    }
    return { row: result.data, line };
  });
}
