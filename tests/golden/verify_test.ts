import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyGolden } from "../../lib/cli/verify.ts";
import { GoldenError } from "../../lib/errors.ts";
import { loadSpec } from "../../lib/spec.ts";
import { goldenPath, readGolden, selectResults, writeGolden } from "../../lib/store/golden.ts";
import { readRecords } from "../../lib/store/records.ts";
import { runStudy } from "../../lib/study/study.ts";
import { checkReproduction } from "../../lib/verify.ts";
import { rejectsWith } from "../_assert.ts";

/** A blessed smoke study of lenet5 on the generated dataset, in a temp dir. */
async function blessedStudy(): Promise<{ results: string; golden: string; path: string }> {
  const root = await Deno.makeTempDir({ prefix: "bnlab-golden-" });
  const results = join(root, "results");
  const golden = join(root, "golden");
  await runStudy({
    experiments: [await loadSpec("lenet5")],
    variants: ["baseline", "bn"],
    seeds: [1, 2],
    profile: "smoke",
    backend: "wasm",
    workers: 1,
    threads: 1,
    out: results,
    load: {},
    synthetic: true,
    saveModels: false,
    bless: true,
    goldenDir: golden,
    quiet: true,
  }, ["test"]);
  return { results, golden, path: goldenPath("lenet5", "smoke", golden) };
}

const fixture = await blessedStudy();
const options = { rerun: false, results: fixture.results, workers: 1 };

async function editRuns(results: string, edit: (text: string) => string): Promise<string> {
  const copy = await Deno.makeTempDir({ prefix: "bnlab-golden-edit-" });
  const from = join(results, "lenet5", "smoke");
  const to = join(copy, "lenet5", "smoke");
  await Deno.mkdir(to, { recursive: true });
  for (const f of ["runs.csv", "epochs.csv", "meta.json"]) {
    await Deno.copyFile(join(from, f), join(to, f));
  }
  await Deno.mkdir(join(to, "records"));
  for (const e of Deno.readDirSync(join(from, "records"))) {
    await Deno.copyFile(join(from, "records", e.name), join(to, "records", e.name));
  }
  await Deno.writeTextFile(
    join(to, "runs.csv"),
    edit(await Deno.readTextFile(join(to, "runs.csv"))),
  );
  return copy;
}

Deno.test("verify passes the integrity and exact reproduction checks of a freshly blessed study and leaves no scratch folder behind", async () => {
  const golden = await readGolden(fixture.path);
  const checks = await verifyGolden(golden, { ...options, rerun: true });
  assert.deepEqual(checks.map((c) => [c.kind, c.pass]), [["integrity", true], [
    "reproduction (exact)",
    true,
  ]]);
  assert.deepEqual(
    Array.from(Deno.readDirSync(fixture.results), (e) => e.name).sort(),
    ["lenet5"],
  );
});

Deno.test("verify fails when one stored metric changes by one unit in its last digit, naming the row", async () => {
  const golden = await readGolden(fixture.path);
  let changed = "";
  const edited = await editRuns(fixture.results, (text) => {
    const lines = text.split("\n");
    const cells = lines[1]!.split(",");
    const col = lines[0]!.split(",").indexOf("val_loss");
    const value = cells[col]!;
    const last = Number(value.at(-1));
    cells[col] = value.slice(0, -1) + String(last === 9 ? 8 : last + 1);
    changed = `${cells[1]} seed ${cells[2]}`;
    lines[1] = cells.join(",");
    return lines.join("\n");
  });
  const [integrity] = await verifyGolden(golden, { ...options, results: edited });
  assert.equal(integrity!.pass, false);
  assert.match(integrity!.detail, /runs [0-9a-f]{12}… vs golden/);
  assert.deepEqual(
    integrity!.diff.map((d) => d.split(":")[0]),
    [changed],
    integrity!.diff.join("\n"),
  );
});

Deno.test("verify fails when a stored row is removed, listing it as missing", async () => {
  const golden = await readGolden(fixture.path);
  const edited = await editRuns(fixture.results, (text) => {
    const lines = text.split("\n");
    lines.splice(2, 1);
    return lines.join("\n");
  });
  const [integrity] = await verifyGolden(golden, { ...options, results: edited });
  assert.equal(integrity!.pass, false);
  assert.ok(integrity!.diff.some((d) => d.endsWith(": missing")), integrity!.diff.join("\n"));
});

Deno.test("readGolden() rejects missing, malformed and hand-edited golden files", async () => {
  await rejectsWith(
    () => readGolden(join(fixture.golden, "nope.smoke.json")),
    GoldenError,
    "There is no golden file",
  );
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "bad.json"), "{ not json");
  await rejectsWith(() => readGolden(join(dir, "bad.json")), GoldenError, "is not valid JSON");
  await Deno.writeTextFile(
    join(dir, "partial.json"),
    JSON.stringify({ format: "bnlab-golden-v2" }),
  );
  await rejectsWith(
    () => readGolden(join(dir, "partial.json")),
    GoldenError,
    "is malformed (missing experiment",
  );
  const text = await Deno.readTextFile(fixture.path);
  await Deno.writeTextFile(
    join(dir, "edited.json"),
    text.replace(/"mean": ([0-9.]+)/, (_, m) => `"mean": ${Number(m) + 0.001}`),
  );
  await rejectsWith(
    () => readGolden(join(dir, "edited.json")),
    GoldenError,
    "does not match its own hash",
  );
});

Deno.test("blessing twice from the same results gives byte-identical golden files", async () => {
  const again = await Deno.makeTempDir();
  const records = await readRecords(join(fixture.results, "lenet5", "smoke"));
  await writeGolden(selectResults(records, () => true), again);
  assert.equal(
    await Deno.readTextFile(goldenPath("lenet5", "smoke", again)),
    await Deno.readTextFile(fixture.path),
  );
});

Deno.test("a different environment gets the statistical check, which passes close means and fails shifted ones", async () => {
  const golden = await readGolden(fixture.path);
  const dir = join(fixture.results, "lenet5", "smoke");
  const stored = selectResults(await readRecords(dir), () => true);
  const { runs } = stored;
  const elsewhere = { ...stored, environment: { ...stored.environment, backend: "cpu" } };
  const same = checkReproduction(golden, elsewhere);
  assert.equal(same.kind, "reproduction (statistical)");
  assert.equal(same.pass, true, same.diff.join("\n"));
  assert.match(same.detail, /environment differs \(backend: wasm → cpu\)/);
  assert.match(same.detail, /retrained rows identical to the golden runs/);
  const shifted = runs.map((r) =>
    r.variant === "bn" ? { ...r, test_acc: String(Number(r.test_acc) - 0.3) } : r
  );
  const moved = checkReproduction(golden, { ...elsewhere, runs: shifted });
  assert.equal(moved.pass, false);
  assert.match(moved.detail, /retrained rows differ from the golden runs/);
  assert.match(moved.diff.join("\n"), /^bn test_acc mean/);
});
