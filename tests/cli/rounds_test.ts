import assert from "node:assert/strict";
import { join } from "node:path";
import { runUntilResolved } from "../../lib/cli/rounds.ts";
import { UsageError } from "../../lib/errors.ts";
import { readLooks } from "../../lib/report/looks.ts";
import { sequentialBounds } from "../../lib/stats/sequential.ts";
import type { StudyOptions } from "../../lib/study/study.ts";
import { spec, tempDir, writeFixture } from "../report/_fixture.ts";

async function options(out: string, name: string): Promise<StudyOptions> {
  return {
    experiments: [await spec(name)],
    variants: [],
    seeds: [1, 2, 3],
    profile: "quick",
    backend: "wasm",
    workers: 1,
    threads: 1,
    out,
    load: {},
    synthetic: true,
    saveModels: false,
    bless: false,
  };
}

/** Stands in for training: writes the fixture's runs for the seeds asked for. */
function fakeStudy(calls: number[][]) {
  return async (o: StudyOptions) => {
    calls.push(o.seeds);
    await writeFixture(o.out, o.experiments[0]!, { seeds: o.seeds });
  };
}

Deno.test("runUntilResolved() adds seeds in rounds, records every look, and stops at the cap", async () => {
  const tmp = await tempDir();
  try {
    const calls: number[][] = [];
    const o = await options(tmp.path, "se_residual");
    const plan = { start: 3, step: 2, max: 7, alpha: 0.05 };
    const outcome = await runUntilResolved(o, plan, ["study"], {
      runStudy: fakeStudy(calls),
      log: () => {},
    });
    const record = (await readLooks(join(tmp.path, "se_residual", "quick")))!;
    assert.deepEqual(record.looks.map((l) => l.seeds), calls.map((c) => c.length));
    assert.equal(calls[0]!.length, 3);
    assert.deepEqual(calls[0], [1, 2, 3]);
    const last = record.looks[record.looks.length - 1]!;
    if (record.stopped === "cap") assert.equal(last.seeds, 7);
    else {assert.ok(
        last.comparisons.every((c) => c.verdict !== "undetermined") || record.looks.length > 0,
      );}
    assert.equal(outcome[0]!.looks, record.looks.length);
    // Each look's level is the Lan–DeMets boundary for alpha / m at seeds / max.
    const fractions = [3, 5, 7].slice(0, record.looks.length).map((n) => n / 7);
    const expected = sequentialBounds(fractions, 0.05).nominal;
    record.looks.forEach((l, k) => assert.ok(Math.abs(l.levels["RQ1"]! - expected[k]!) < 1e-12));
    // A rerun with the same design has nothing left to do.
    const again = await runUntilResolved(o, plan, ["study"], {
      runStudy: fakeStudy(calls),
      log: () => {},
    });
    assert.equal(again[0]!.looks, record.looks.length);
    assert.equal(calls.length, record.looks.length);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("runUntilResolved() refuses to change the design of a study under way", async () => {
  const tmp = await tempDir();
  try {
    const o = await options(tmp.path, "se_residual");
    const deps = { runStudy: fakeStudy([]), log: () => {} };
    await runUntilResolved(o, { start: 3, step: 2, max: 5, alpha: 0.05 }, ["study"], deps);
    await assert.rejects(
      () => runUntilResolved(o, { start: 3, step: 1, max: 9, alpha: 0.05 }, ["study"], deps),
      (err: unknown) => err instanceof UsageError && /voids its error guarantee/.test(err.message),
    );
  } finally {
    await tmp.cleanup();
  }
});
