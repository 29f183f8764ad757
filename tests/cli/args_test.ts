import assert from "node:assert/strict";
import { coresOption, durationOption, intOption, parseCommand } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/errors.ts";
import { throwsWith } from "../_assert.ts";

const OPTIONS = {
  experiment: { type: "string", short: "e", multiple: true },
  seeds: { type: "string" },
  workers: { type: "string" },
  bless: { type: "boolean" },
} as const;

function refusal(argv: string[]): string {
  try {
    parseCommand("study", argv, OPTIONS);
  } catch (err) {
    assert.ok(err instanceof UsageError, `not a UsageError: ${err}`);
    return err.message;
  }
  assert.fail(`${argv.join(" ")} was accepted`);
}

Deno.test("a negative number reaches the option's own check instead of an 'ambiguous' refusal", () => {
  assert.deepEqual(parseCommand("study", ["--seeds", "-1"], OPTIONS).seeds, "-1");
  // Only values that look like numbers are joined: "-x" stays an (unknown) option.
  assert.match(refusal(["-e", "-x"]), /Unknown option -x|needs a value/);
  assert.throws(
    () => intOption("seeds", "-1", 5, { max: 1000 }),
    /--seeds must be a whole number from 1 to 1000, got "-1"/,
  );
});

Deno.test("an empty value is refused, never read as 'all'", () => {
  assert.match(refusal(["--experiment", ""]), /--experiment was given an empty value/);
  assert.match(refusal(["-e", "placement", "-e", " "]), /--experiment was given an empty value/);
  assert.match(refusal(["--seeds="]), /--seeds was given an empty value/);
});

Deno.test("an unknown option is named, with the nearest known one and the way to the help", () => {
  const message = refusal(["--worker", "2"]);
  assert.match(
    message,
    /^Unknown option --worker for study \(did you mean --workers\?\); run `deno task study --help`/,
  );
  assert.doesNotMatch(message, /positional/);
  assert.doesNotMatch(refusal(["--zzzzzz"]), /did you mean/);
});

Deno.test("a missing value, a value given to a flag and a stray argument each get their own sentence", () => {
  assert.match(refusal(["--seeds"]), /Option --seeds of study needs a value/);
  assert.match(refusal(["--bless=yes"]), /Option --bless of study takes no value/);
  assert.match(refusal(["-e", "placement", "stray"]), /Unexpected argument "stray" for study/);
});

Deno.test("workers and threads are limited to the machine's cores, with the reason", () => {
  const cores = navigator.hardwareConcurrency;
  assert.equal(coresOption("workers", undefined, 64), cores);
  assert.equal(coresOption("workers", String(cores), 1), cores);
  assert.throws(
    () => coresOption("workers", String(cores + 1), 1),
    (err: unknown) =>
      err instanceof UsageError && err.message.includes(`this machine has ${cores} logical core`),
  );
  assert.throws(() => coresOption("threads", "-1", 1), /--threads must be a whole number from 1/);
});

Deno.test("a duration is seconds, or hours, minutes and seconds in that order", () => {
  assert.equal(durationOption("time-limit", "5400"), 5400);
  assert.equal(durationOption("time-limit", "90m"), 5400);
  assert.equal(durationOption("time-limit", "1h30m"), 5400);
  assert.equal(durationOption("time-limit", "2h"), 7200);
  assert.equal(durationOption("time-limit", "1h2m3s"), 3723);
  assert.equal(durationOption("time-limit", "45s"), 45);
  for (const bad of ["", "0", "0m", "-5", "1.5h", "30m1h", "h", "1d", "90 m", "m30"]) {
    throwsWith(() => durationOption("time-limit", bad), UsageError, "--time-limit must be");
  }
});
