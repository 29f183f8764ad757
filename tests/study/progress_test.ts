import assert from "node:assert/strict";
import { loadSpec, resolveRun } from "../../lib/spec.ts";
import type { WorkItem } from "../../lib/study/messages.ts";
import { formatDuration, Progress } from "../../lib/study/progress.ts";
import type { EpochMetrics } from "../../lib/train/loop.ts";
import type { RunRows } from "../../lib/study/run.ts";

const spec = await loadSpec("lenet5");
const item = (id: number, variant: string, seed: number): WorkItem => ({
  id,
  task: { config: resolveRun(spec, variant, "smoke"), seed },
  dataset: { requested: "fashion-mnist", id: "fashion-mnist" } as WorkItem["dataset"],
});
const metrics = (epoch: number, seconds: number): EpochMetrics => ({
  epoch,
  trainLoss: 0.5,
  trainAcc: 0.8,
  runningTrainLoss: 0.6,
  runningTrainAcc: 0.75,
  valLoss: 0.55,
  valAcc: 0.79,
  lr: 0.001,
  seconds,
});
const record = {
  run: { test_acc: "0.8", best_epoch: "2", epochs_run: "2", seconds: "20.00" },
} as unknown as RunRows;

function capture(items: WorkItem[], workers: number) {
  let clock = Date.parse("2026-12-02T10:00:00Z");
  const lines: string[] = [];
  const progress = new Progress(items, workers, {
    tty: false,
    now: () => clock,
    write: (t) => lines.push(t),
  });
  return { progress, lines, tick: (s: number) => (clock += s * 1000) };
}

Deno.test("without a terminal, every epoch and run is one timestamped line with an ETA", () => {
  const items = [item(0, "baseline", 1), item(1, "baseline", 2)];
  const epochs = items[0]!.task.config.train.epochs;
  const { progress, lines, tick } = capture(items, 1);
  progress.start(items[0]!);
  tick(10);
  progress.epoch(items[0]!, metrics(1, 10));
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /^2026-12-02T10:00:10Z lenet5\/baseline seed 1 epoch 1\/\d+: train loss 0\.5000 acc 0\.8000, val loss 0\.5500 acc 0\.7900, 10\.0 s · ETA \S+\n$/,
  );
  // One worker, 10 s per epoch: what is left is every epoch not trained yet.
  assert.equal(progress.remainingSeconds(), (2 * epochs - 1) * 10);
  for (let e = 2; e <= epochs; e++) progress.epoch(items[0]!, metrics(e, 10));
  progress.done(items[0]!, record);
  assert.match(lines.at(-1)!, /run 1\/2 lenet5\/baseline seed 1: test_acc 0\.8.* · ETA /);
  assert.equal(progress.remainingSeconds(), epochs * 10);
  progress.finish();
});

Deno.test("the ETA uses each variant's own epoch time once seen, and divides by the workers", () => {
  const items = [item(0, "baseline", 1), item(1, "bn", 1)];
  const epochs = items[0]!.task.config.train.epochs;
  const { progress } = capture(items, 2);
  assert.equal(progress.remainingSeconds(), undefined);
  progress.epoch(items[0]!, metrics(1, 4));
  // bn not seen yet: estimated from baseline's seconds per example (same data, so 4 s).
  assert.equal(progress.remainingSeconds(), ((epochs - 1) * 4 + epochs * 4) / 2);
  progress.epoch(items[1]!, metrics(1, 12));
  assert.equal(progress.remainingSeconds(), ((epochs - 1) * 4 + (epochs - 1) * 12) / 2);
  progress.finish();
});

Deno.test("a variant not seen yet is estimated from its expected cost relative to those seen", () => {
  const items = [item(0, "baseline", 1), item(1, "bn", 1)];
  const epochs = items[0]!.task.config.train.epochs;
  // The cost model expects a bn run to cost three times a baseline run.
  const progress = new Progress(items, 1, {
    tty: false,
    write: () => {},
    cost: (i) => (i.task.config.variant === "bn" ? 3 : 1),
  });
  progress.epoch(items[0]!, metrics(1, 4));
  assert.equal(progress.remainingSeconds(), (epochs - 1) * 4 + epochs * 12);
  progress.finish();
});

Deno.test("durations read as hours and minutes, minutes and seconds, or seconds", () => {
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(12.4), "12s");
  assert.equal(formatDuration(-3), "0s");
});

Deno.test("on a terminal, the live line shows how far into its epoch each run is", () => {
  const items = [item(0, "baseline", 1), item(1, "bn", 1)];
  const out: string[] = [];
  const progress = new Progress(items, 2, { tty: true, write: (t) => out.push(t) });
  progress.start(items[0]!);
  progress.batch(items[0]!, 1, 0.456);
  progress.start(items[1]!); // any redraw shows the latest state
  assert.match(
    out.at(-1)!,
    /lenet5\/baseline seed 1 epoch 1\/\d+ 45% \| lenet5\/bn seed 1 starting/,
  );
  progress.finish();
});
