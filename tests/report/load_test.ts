import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsError } from "../../lib/errors.ts";
import { loadStudy } from "../../lib/report/load.ts";
import { rejectsWith } from "../_assert.ts";
import { spec, tempDir, writeFixture } from "./_fixture.ts";

Deno.test("a study without results reads as undefined", async () => {
  const tmp = await tempDir();
  try {
    assert.equal(await loadStudy(tmp.path, await spec("placement"), "quick"), undefined);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("runs are read in spec variant order, then seed order", async () => {
  const tmp = await tempDir();
  try {
    const s = await spec("placement");
    await writeFixture(tmp.path, s, { variants: ["classical", "baseline"], seeds: [3, 1] });
    const data = (await loadStudy(tmp.path, s, "quick"))!;
    assert.deepEqual(data.runs.map((r) => `${r.variant}#${r.seed}`), [
      "baseline#1",
      "baseline#3",
      "classical#1",
      "classical#3",
    ]);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("a non-numeric cell is a ResultsError naming the file, row and column", async () => {
  const tmp = await tempDir();
  try {
    const s = await spec("placement");
    const dir = await writeFixture(tmp.path, s, { variants: ["baseline"], seeds: [0, 1] });
    const path = join(dir, "runs.csv");
    const lines = (await Deno.readTextFile(path)).split("\n");
    const header = lines[0]!.split(",");
    const row = lines[2]!.split(",");
    row[header.indexOf("test_acc")] = "oops";
    lines[2] = row.join(",");
    await Deno.writeTextFile(path, lines.join("\n"));
    const err = await rejectsWith(() => loadStudy(tmp.path, s, "quick"), ResultsError, "line 3");
    assert.match(
      err.message,
      /runs\.csv line 3, column \d+ \(test_acc\): "oops" expected a number/,
    );
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("results without meta.json are refused, since the report states their provenance", async () => {
  const tmp = await tempDir();
  try {
    const s = await spec("placement");
    const dir = await writeFixture(tmp.path, s, { variants: ["baseline"], seeds: [0, 1] });
    await Deno.remove(join(dir, "meta.json"));
    await rejectsWith(() => loadStudy(tmp.path, s, "quick"), ResultsError, "meta.json is missing");
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("a repeated variant and seed is refused", async () => {
  const tmp = await tempDir();
  try {
    const s = await spec("placement");
    const dir = await writeFixture(tmp.path, s, { variants: ["baseline"], seeds: [0, 1] });
    const path = join(dir, "runs.csv");
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    await Deno.writeTextFile(path, [...lines, lines[1]!].join("\n") + "\n");
    await rejectsWith(() => loadStudy(tmp.path, s, "quick"), ResultsError, "is stored twice");
  } finally {
    await tmp.cleanup();
  }
});
