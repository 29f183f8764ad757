import assert from "node:assert/strict";
import { join } from "node:path";
import { readRows } from "../../lib/store/records.ts";
import { TIMING_COLUMNS } from "../../lib/store/schema.ts";
import { runMain, studyPermissions } from "./_run.ts";

const SMOKE = ["study", "--profile", "smoke", "--synthetic", "--backend", "wasm", "-e", "lenet5"];

/** Rows without their timing columns, sorted, as text. */
function deterministicPart(rows: Record<string, string>[]): string[] {
  return rows
    .map((r) =>
      Object.entries(r).filter(([k]) => !TIMING_COLUMNS.includes(k)).map(([k, v]) => `${k}=${v}`)
        .join(",")
    )
    .sort();
}

Deno.test("study --timings prints each run's time breakdown and a study summary, and changes no result", async () => {
  const a = await Deno.makeTempDir({ prefix: "bnlab-timings-" });
  const b = await Deno.makeTempDir({ prefix: "bnlab-timings-" });
  try {
    const common = [...SMOKE, "--seed-list", "1,2", "--workers", "2"];
    const [timed, plain] = await Promise.all([
      runMain([...common, "--timings", "--out", a], studyPermissions(a)),
      runMain([...common, "--out", b], studyPermissions(b)),
    ]);
    assert.equal(timed.code, 0, timed.stderr);
    assert.equal(plain.code, 0, plain.stderr);
    const lines = timed.stderr.split("\n");
    const perRun = lines.filter((l) => l.trimStart().startsWith("time: dataset"));
    assert.equal(perRun.length, 10, timed.stderr);
    assert.ok(!plain.stderr.includes("time: dataset"), "no breakdown without --timings");
    for (
      const phase of ["worker start-up", "training steps", "per-epoch validation", "idle workers"]
    ) {
      assert.ok(lines.some((l) => l.trimStart().startsWith(phase)), `summary line "${phase}"`);
    }
    // The summary's shares of the worker time add up to 100% (rounding aside).
    const shares = lines.filter((l) => /^ {2}\S.* s +[\d.]+%$/.test(l)).map((l) =>
      Number(l.match(/([\d.]+)%$/)![1])
    );
    const total = shares.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(total - 100) < 0.6, `shares add up to ${total}% in:\n${timed.stderr}`);
    const x = await readRows(join(a, "lenet5", "smoke"));
    const y = await readRows(join(b, "lenet5", "smoke"));
    assert.equal(x.runs.length, 10);
    assert.deepEqual(deterministicPart(x.runs), deterministicPart(y.runs));
    assert.deepEqual(deterministicPart(x.epochs), deterministicPart(y.epochs));
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
