/**
 * Command-line parsing on top of `node:util`'s `parseArgs`, turning its errors
 * and every invalid value into one-line `UsageError`s.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** Option declarations, as `node:util` `parseArgs` takes them. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parse `argv` against `options` (strict: unknown options and missing values
 * are errors). Throws `UsageError` naming the offending argument and the
 * command's `--help`.
 */
export function parseCommand(
  command: string,
  argv: string[],
  options: OptionSpec,
): Record<string, string | boolean | (string | boolean)[] | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument "${positionals[0]}" for ${command}; see \`${command} --help\`.`,
      );
    }
    return values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const message = (err as Error).message.split("\n")[0]!.replace(/\.$/, "");
    throw new UsageError(`${message} (${command}); see \`${command} --help\`.`);
  }
}

/** A string option's value, or `undefined`. */
export function stringOption(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A repeatable string option's values (also splitting comma lists). */
export function listOption(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/**
 * A positive integer option, or `fallback` when absent. Throws `UsageError`
 * for anything that is not a whole number in [min, max].
 */
export function intOption(
  name: string,
  value: unknown,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}".`);
  }
  return n;
}

/** A comma-separated list of integer seeds. Throws `UsageError` for non-numeric or repeated seeds. */
export function seedListOption(value: string): number[] {
  const seeds = listOption(value).map((s) => intOption("seed-list", s, 0, { min: 0 }));
  if (seeds.length === 0) {
    throw new UsageError(`--seed-list needs at least one seed, got "${value}".`);
  }
  if (new Set(seeds).size !== seeds.length) {
    throw new UsageError(`--seed-list repeats a seed: "${value}".`);
  }
  return seeds;
}

/** One of `allowed`, or `fallback` when absent; `UsageError` otherwise. */
export function choiceOption<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${String(value)}".`);
}

/** Environment variable naming the results root (granted to the tasks' permissions). */
export const RESULTS_ENV = "BNLAB_RESULTS";

/**
 * The results root: `value` (an option), else `$BNLAB_RESULTS`, else `results`.
 * Throws `UsageError` for an empty value.
 */
export function resultsRoot(value: string | undefined): Promise<string> {
  let root = value;
  if (root === undefined) {
    try {
      root = Deno.env.get(RESULTS_ENV);
    } catch {
      root = undefined; // not granted: the default
    }
  }
  if (root !== undefined && root.trim() === "") {
    throw new UsageError(`The results folder must not be empty; give a folder name.`);
  }
  return Promise.resolve(root ?? "results");
}
