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
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(describeParseError(command, err as Error & { code?: string }, options));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}" for ${command}: every value belongs to an option ` +
        `(for example --experiment NAME); run \`deno task ${command} --help\` for the options.`,
    );
  }
  for (const [name, value] of Object.entries(values)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.some((v) => typeof v === "string" && v.trim() === "")) {
      throw new UsageError(
        `--${name} was given an empty value; give it a value (run \`deno task ${command} --help\`), ` +
          `or leave the option out for its default.`,
      );
    }
  }
  return values as Record<string, string | boolean | (string | boolean)[] | undefined>;
}

/**
 * `--seeds -1` as `--seeds=-1`: `parseArgs` takes a value that starts with
 * "-" for an option, so a negative number would be refused as ambiguous
 * before its own check could say what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: OptionSpec): string[] {
  const takesValue = (token: string): string | undefined => {
    const long = /^--([^=]+)$/.exec(token)?.[1];
    if (long !== undefined) return options[long]?.type === "string" ? long : undefined;
    const short = /^-([A-Za-z])$/.exec(token)?.[1];
    if (short === undefined) return undefined;
    return Object.entries(options).find(([, o]) => o.short === short && o.type === "string")?.[0];
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = takesValue(argv[i]!);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

/** One sentence for a `parseArgs` error, naming the option and the way to the help. */
function describeParseError(
  command: string,
  err: Error & { code?: string },
  options: OptionSpec,
): string {
  const help = `run \`deno task ${command} --help\` for the options`;
  const option = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const near = closest(option.replace(/^-+/, "").split("=")[0]!, Object.keys(options));
      return `Unknown option ${option} for ${command}` +
        (near ? ` (did you mean --${near}?)` : "") + `; ${help}.`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      // node names the option as "--seeds <value>" or "-e, --experiment <value>".
      const short = /^-(\w)\b/.exec(option)?.[1];
      const long = Object.entries(options).find(([, o]) => o.short === short)?.[0];
      const name = /--[\w-]+/.exec(option)?.[0] ?? (long ? `--${long}` : option);
      if (/does not take an argument/.test(err.message)) {
        return `Option ${name} of ${command} takes no value; ${help}.`;
      }
      const dashed = /ambiguous/.test(err.message)
        ? ` (a value that starts with "-" is written ${name}=-VALUE)`
        : "";
      return `Option ${name} of ${command} needs a value${dashed}; ${help}.`;
    }
    default:
      return `${err.message.split(/\.\s|\n/)[0]!.replace(/\.$/, "")} (${command}); ${help}.`;
  }
}

/** The known name nearest to `name` (edit distance at most 2), if any. */
function closest(name: string, known: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d <= 2 && (!best || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
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
  { min = 1, max = Number.MAX_SAFE_INTEGER, why = "" } = {},
): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}${
        why ? ` (${why})` : ""
      }, got "${text}".`,
    );
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

/**
 * A duration option in seconds: `5400`, `90m`, `1h30m`, `2h`, `45s` (hours,
 * minutes and seconds in that order, each at most once). Throws `UsageError`
 * for anything else or for zero.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { durationOption } from "./args.ts";
 * assert.equal(durationOption("time-limit", "1h30m"), 5400);
 * ```
 */
export function durationOption(name: string, value: unknown): number {
  const text = String(value).trim();
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text);
  const seconds = match
    ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
    : NaN;
  if (!match || text === "" || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(
      `--${name} must be a positive duration such as 5400, 90m, 1h30m or 45s, got "${
        String(value)
      }".`,
    );
  }
  return seconds;
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

/**
 * `--workers` or `--threads`: at most the machine's logical cores, since more
 * only adds memory (each worker holds its own copy of the data and model,
 * about 0.45 GB) and contention. Throws `UsageError` above that.
 */
export function coresOption(name: string, value: unknown, fallback: number): number {
  const cores = navigator.hardwareConcurrency;
  return intOption(name, value, Math.min(fallback, cores), {
    max: cores,
    why: `this machine has ${cores} logical core${cores === 1 ? "" : "s"}`,
  });
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
