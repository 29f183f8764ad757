/**
 * Writing commands for a person or a shell to run: the one place that quotes
 * words for bash (resume hints, sbatch scripts).
 *
 * @module
 */

/**
 * `value` as one word for bash: unchanged when it is plainly safe, else
 * single-quoted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellQuote } from "./shell.ts";
 * assert.equal(shellQuote("--seeds"), "--seeds");
 * assert.equal(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `deno task <args>` as one line a user can paste. */
export function taskCommand(args: string[]): string {
  return `deno task ${args.map(shellQuote).join(" ")}`;
}
