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
import { FASHION_MNIST } from "../../lib/data/datasets.ts";
import { findDataset } from "../../lib/data/load.ts";
import { GOLDEN_DIR, readGolden } from "../../lib/golden.ts";

const goldens = [...Deno.readDirSync(GOLDEN_DIR)].map((e) => e.name).filter((n) =>
  n.endsWith(".json")
).sort();
const haveData = (await findDataset(FASHION_MNIST).catch(() => undefined)) !== undefined;
const skipped = haveData ? "" : " (skipped: Fashion-MNIST is not on this machine)";

Deno.test("every experiment has a smoke golden file", () => {
  const experiments = [...Deno.readDirSync("experiments")].map((e) => e.name.replace(/\.json$/, ""))
    .sort();
  assert.deepEqual(
    goldens.filter((n) => n.endsWith(".smoke.json")).map((n) => n.replace(".smoke.json", "")),
    experiments,
  );
});

for (const name of goldens) {
  const smoke = name.endsWith(".smoke.json");
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
