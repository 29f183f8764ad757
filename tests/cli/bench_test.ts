import assert from "node:assert/strict";
import { dropoutCounterparts } from "../../lib/cli/bench.ts";
import { loadSpec, resolveRun } from "../../lib/spec.ts";

Deno.test("bench pairs each placement variant with dropout with its dropout-free twin", async () => {
  const spec = await loadSpec("placement");
  const rows = spec.variants.map((v) => ({
    arch: v.name,
    layers: resolveRun(spec, v.name, "full").layers,
  }));
  assert.deepEqual(
    Object.fromEntries(dropoutCounterparts(rows)),
    { bn_dropout: "pre_bn", dropout_bn: "post_bn", classical: "post_bn" },
  );
  // Without the twin measured, no ratio is claimed.
  assert.deepEqual(
    dropoutCounterparts(rows.filter((r) => r.arch !== "pre_bn")).has("bn_dropout"),
    false,
  );
});
