/**
 * Regression tests against the committed golden files, through the same code
 * path as `deno task verify`: smoke studies are retrained and compared
 * (exactly when this machine's environment matches the golden fingerprint,
 * statistically otherwise); committed studies of other profiles are checked
 * for integrity against their stored results.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyGolden } from "../../lib/cli/verify.ts";
import { DATASETS } from "../../lib/data/datasets.ts";
import { findDataset } from "../../lib/data/load.ts";
import { GOLDEN_DIR, readGolden } from "../../lib/store/golden.ts";

const goldens = [...Deno.readDirSync(GOLDEN_DIR)].map((e) => e.name).filter((n) =>
  n.endsWith(".json")
).sort();
/** Whether the dataset a golden file was made on is on this machine (`deno task data` fetches it). */
async function haveDataset(id: string): Promise<boolean> {
  const info = DATASETS[id];
  return info !== undefined && (await findDataset(info).catch(() => undefined)) !== undefined;
}

Deno.test("every golden file belongs to an experiment spec and a profile", () => {
  // A new spec without a golden file yet is fine (verify says how to bless one);
  // a golden file whose spec is gone is not.
  const experiments = new Set(
    [...Deno.readDirSync("experiments")].map((e) => e.name.replace(/\.json$/, "")),
  );
  for (const name of goldens) {
    const m = name.match(/^([a-z0-9_]+)\.(smoke|quick|full)\.json$/);
    assert.ok(m, `${name} is not named <experiment>.<profile>.json`);
    assert.ok(experiments.has(m[1]!), `${name} has no experiments/${m[1]}.json`);
  }
});

for (const name of goldens) {
  const smoke = name.endsWith(".smoke.json");
  const { dataset } = await readGolden(join(GOLDEN_DIR, name));
  const haveData = await haveDataset(dataset.id);
  const skipped = haveData
    ? ""
    : ` (skipped: ${DATASETS[dataset.id]?.title ?? dataset.id} is not on this machine; ` +
      "`deno task data` fetches it)";
  Deno.test({
    name: (smoke
      ? `the smoke study ${name.replace(".smoke.json", "")} reproduces its golden file`
      : `the stored results of ${name.replace(".json", "")} match their golden file`) + skipped,
    ignore: !haveData,
    fn: async () => {
      const golden = await readGolden(join(GOLDEN_DIR, name));
      const scratch = await Deno.makeTempDir({ prefix: "bnlab-regression-" });
      const checks = await verifyGolden(golden, {
        rerun: false,
        results: smoke ? scratch : "results",
        workers: navigator.hardwareConcurrency,
      });
      assert.ok(checks.length > 0);
      for (const c of checks) {
        assert.ok(c.pass, `${c.kind} ${c.study}: ${c.detail}\n${c.diff.join("\n")}`);
      }
    },
  });
}
