import assert from "node:assert/strict";
import { ResultsError } from "../../lib/errors.ts";
import { RUN_COLUMNS, type RunRow } from "../../lib/store/schema.ts";
import { parseEpochs, parseRuns, toCsv } from "../../lib/store/table.ts";

/** A valid runs.csv row. */
function row(overrides: Partial<RunRow> = {}): RunRow {
  return {
    experiment: "lenet5",
    variant: "bn",
    seed: "1",
    profile: "smoke",
    backend: "wasm",
    threads: "1",
    config_hash: "a".repeat(64),
    status: "ok",
    diverged_epoch: "",
    dataset: "fashion-mnist",
    split_hash: "b".repeat(64),
    train_examples: "320",
    val_examples: "80",
    train_eval_examples: "320",
    test_examples: "200",
    params: "61706",
    best_epoch: "2",
    epochs_run: "2",
    final_epoch: "2",
    train_loss: "1.5",
    train_acc: "0.5",
    running_train_loss: "1.5",
    running_train_acc: "0.5",
    val_loss: "1.25",
    val_acc: "0.55",
    test_loss: "1.3",
    test_acc: "0.52",
    gap: "-0.05",
    seconds: "1.23",
    ...overrides,
  };
}

function problem(text: string): string {
  try {
    parseRuns(text, "r/runs.csv");
  } catch (err) {
    assert.ok(err instanceof ResultsError, String(err));
    return err.message;
  }
  assert.fail("expected a ResultsError");
}

Deno.test("parseRuns() reads a valid file, also with a BOM and CRLF line endings", () => {
  const text = toCsv([row(), row({ seed: "2" })], RUN_COLUMNS);
  const plain = parseRuns(text, "runs.csv").map((r) => r.row);
  assert.deepEqual(plain, [row(), row({ seed: "2" })]);
  const windows = "\uFEFF" + text.replaceAll("\n", "\r\n");
  assert.deepEqual(parseRuns(windows, "runs.csv").map((r) => r.row), plain);
  assert.deepEqual(parseRuns(windows, "runs.csv").map((r) => r.line), [2, 3]);
});

Deno.test("parseRuns() names the file, line and column of a non-numeric cell", () => {
  const text = toCsv([row(), row({ seed: "2", val_acc: "0.5x" })], RUN_COLUMNS);
  const col = RUN_COLUMNS.indexOf("val_acc") + 1;
  assert.match(
    problem(text),
    new RegExp(`^r/runs\\.csv line 3, column ${col} \\(val_acc\\): "0\\.5x" expected a number`),
  );
});

Deno.test("parseRuns() refuses non-finite metrics unless the run is marked diverged", () => {
  assert.match(
    problem(toCsv([row({ test_loss: "NaN" })], RUN_COLUMNS)),
    /line 2, column \d+ \(test_loss\): "NaN" not finite, but the run's status is ok/,
  );
  const diverged = row({ status: "diverged", diverged_epoch: "1", test_loss: "NaN" });
  assert.equal(parseRuns(toCsv([diverged], RUN_COLUMNS), "runs.csv").length, 1);
  assert.match(
    problem(toCsv([row({ status: "diverged" })], RUN_COLUMNS)),
    /\(diverged_epoch\): "" a diverged run needs the epoch it diverged at/,
  );
});

Deno.test("parseRuns() refuses a run key stored twice, naming both lines", () => {
  assert.match(
    problem(toCsv([row(), row({ seed: "2" }), row()], RUN_COLUMNS)),
    /^r\/runs\.csv line 4: the run bn seed 1 \(wasm, 1 thread\(s\)\) is stored twice \(also on line 2\)/,
  );
});

Deno.test("parseRuns() names unknown, missing and repeated columns", () => {
  const text = toCsv([row()], RUN_COLUMNS);
  const [head, ...rest] = text.split("\n");
  assert.match(
    problem([head + ",extra", ...rest.map((l) => l ? l + ",1" : l)].join("\n")),
    /^r\/runs\.csv line 1: unknown column\(s\) extra\./,
  );
  const cols = RUN_COLUMNS.filter((c) => c !== "gap");
  const fewer = toCsv(
    [row()].map((r) => {
      const { gap: _, ...others } = r;
      return others;
    }),
    cols,
  );
  assert.match(problem(fewer), /line 1: missing column\(s\) gap\./);
  assert.match(problem(text.replace("seconds\n", "seed\n")), /repeated column\(s\) seed/);
});

Deno.test("parseRuns() names a line with too few cells", () => {
  const text = toCsv([row()], RUN_COLUMNS).trimEnd().split(",").slice(0, -1).join(",") + "\n";
  assert.match(problem(text), /line 2: 28 cells where the header has 29/);
});

Deno.test("parseEpochs() refuses an epoch stored twice", () => {
  const e = "lenet5,bn,1,smoke,wasm,1,1,1.5,0.5,1.5,0.5,1.2,0.6,0.001,0.50";
  const header =
    "experiment,variant,seed,profile,backend,threads,epoch,train_loss,train_acc,running_train_loss,running_train_acc,val_loss,val_acc,lr,seconds";
  assert.throws(
    () => parseEpochs([header, e, e].join("\n") + "\n", "epochs.csv"),
    /epochs\.csv line 3: epoch 1 of bn seed 1 is stored twice \(also on line 2\)/,
  );
});
