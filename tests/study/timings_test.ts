import assert from "node:assert/strict";
import { formatRunTimings, StudyTimings } from "../../lib/study/timings.ts";

const RUN = { dataset: 0.5, prepare: 0.25, train: 6, validation: 1, test: 0.5, total: 8.5 };

Deno.test("formatRunTimings() lists every phase and what is left of the total", () => {
  assert.equal(
    formatRunTimings(RUN),
    "dataset 0.50 s · prepare 0.25 s · train 6.00 s · validation 1.00 s · test 0.50 s · other 0.25 s",
  );
});

Deno.test("StudyTimings.summary() splits the workers' time into phases that add up to it", () => {
  const t = new StudyTimings();
  t.planned();
  t.workerReady(1);
  t.workerReady(2);
  t.run(RUN);
  t.run(RUN);
  const lines = t.summary(2);
  assert.match(
    lines[0]!,
    /^timings: planning [\d.]+ s .* then 2 runs in [\d.]+ s wall on 2 worker\(s\)/,
  );
  const seconds = (name: string) =>
    Number(lines.find((l) => l.trimStart().startsWith(name))!.trim().split(/\s+/).at(-3));
  assert.equal(seconds("worker start-up"), 3);
  assert.equal(seconds("training steps"), 12);
  assert.equal(seconds("other"), 0.5);
  // Wall time here is ~0, so the runs exceed the capacity: idle time is clamped at 0, never negative.
  assert.equal(seconds("idle workers"), 0);
});
