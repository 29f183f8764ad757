/**
 * Splice the findings summary into the README between its marker lines,
 * leaving every byte outside the markers untouched.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** Line that opens the generated findings summary in the README. */
export const START_MARKER = "<!-- findings:start -->";
/** Line that closes it. */
export const END_MARKER = "<!-- findings:end -->";

/** Line (alone on its line) that declares which profile's findings the README shows: `<!-- findings:headline quick -->`. */
export const HEADLINE_PATTERN = /^<!-- findings:headline (smoke|quick|full) -->$/gm;

/**
 * The profile `text` declares as its headline. Throws `UsageError` when the
 * declaration is missing or repeated; `source` names the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headlineProfile } from "./readme.ts";
 * assert.equal(headlineProfile("<!-- findings:headline quick -->", "README.md"), "quick");
 * ```
 */
export function headlineProfile(text: string, source: string): string {
  const found = [...text.matchAll(HEADLINE_PATTERN)];
  if (found.length !== 1) {
    throw new UsageError(
      `${source} must declare the one profile its findings summary shows, with exactly one line ` +
        `\`<!-- findings:headline quick -->\` (smoke, quick or full) before ${START_MARKER}; it has ` +
        `${found.length}. Add it, or run with --no-readme.`,
    );
  }
  return found[0]![1]!;
}

/**
 * `text` with whatever lies between the markers replaced by `summary` (on its
 * own lines). Throws `UsageError` when a marker is missing, repeated, or the
 * end marker comes first; `source` names the file in the message.
 */
export function spliceFindings(text: string, summary: string, source: string): string {
  const start = single(text, START_MARKER, source);
  const end = single(text, END_MARKER, source);
  if (end < start) {
    throw new UsageError(
      `${source} has ${END_MARKER} before ${START_MARKER}; put the start marker line first, then the end ` +
        `marker line, where the findings summary belongs (or run with --no-readme).`,
    );
  }
  const body = summary.trim() === "" ? "\n" : `\n${summary.trimEnd()}\n`;
  return text.slice(0, start + START_MARKER.length) + body + text.slice(end);
}

function single(text: string, marker: string, source: string): number {
  const at = text.indexOf(marker);
  if (at < 0) {
    throw new UsageError(
      `${source} has no ${marker} line. The report writes its findings summary between the lines ` +
        `${START_MARKER} and ${END_MARKER}; add both where the summary belongs, or run with --no-readme.`,
    );
  }
  if (text.indexOf(marker, at + marker.length) >= 0) {
    throw new UsageError(
      `${source} has ${marker} more than once, so it is unclear where the findings summary belongs; ` +
        `keep exactly one ${START_MARKER} line and one ${END_MARKER} line (or run with --no-readme).`,
    );
  }
  return at;
}
