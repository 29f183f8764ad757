import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import { listSpecs, loadSpec, parseSpec, resolveRun, specHash } from "../lib/spec.ts";
import { rejectsWith, throwsWith } from "./_assert.ts";

Deno.test("every spec in experiments/ validates and names its five seed studies' variants", async () => {
  const specs = await Promise.all((await listSpecs()).map((n) => loadSpec(n)));
  const variants = Object.fromEntries(specs.map((s) => [s.name, s.variants.map((v) => v.name)]));
  assert.deepEqual(variants, {
    dropout_bn_rules: [
      "no_dropout",
      "classifier_dropout",
      "early_conv_dropout",
      "bn_before_relu",
      "bn_after_relu",
      "bn_batch_stats_at_eval",
    ],
    enhancements: ["base", "batchnorm", "dropout", "skip"],
    lenet5: ["baseline", "dropout", "l2", "l2_opt", "bn"],
    placement: ["baseline", "post_bn", "pre_bn", "bn_dropout", "dropout_bn", "classical"],
    se_residual: ["se_cnn", "se_resnet"],
  });
});

Deno.test("resolveRun() merges variant overrides and scales epochs by profile", async () => {
  const spec = await loadSpec("lenet5");
  const full = resolveRun(spec, "l2_opt", "full");
  assert.deepEqual([full.train.epochs, full.train.weightDecay, full.testCount], [
    20,
    0.001,
    undefined,
  ]);
  assert.deepEqual(resolveRun(spec, "l2_opt", "quick").train.epochs, 10);
  assert.deepEqual(resolveRun(spec, "baseline", "quick").train.epochs, 6);
  const smoke = resolveRun(spec, "baseline", "smoke");
  assert.deepEqual([smoke.train.epochs, smoke.split.pool, smoke.testCount], [2, 400, 200]);
  throwsWith(() => resolveRun(spec, "nope", "quick"), UsageError, 'has no variant "nope"');
});

Deno.test("parseSpec() names the path of each problem and rejects unknown fields and variants", async () => {
  const good = JSON.parse(await Deno.readTextFile("experiments/lenet5.json"));
  const typo = structuredClone(good);
  typo.variants[0].layers[0].filtres = 6;
  throwsWith(() => parseSpec(typo, "x.json"), UsageError, "variants.0.layers.0");
  const unknown = structuredClone(good);
  unknown.questions[0].comparisons[0] = ["baseline", "nope"];
  throwsWith(() => parseSpec(unknown, "x.json"), UsageError, 'no variant named "nope"');
  await rejectsWith(
    () => loadSpec("nope"),
    UsageError,
    'Unknown experiment "nope"; known: dropout_bn_rules',
  );
});

Deno.test("specHash() changes with the spec and not with key order", async () => {
  const a = await loadSpec("placement");
  const reverseKeys = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reverseKeys)
      : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]))
      : v;
  const input = reverseKeys(a);
  assert.notEqual(JSON.stringify(input), JSON.stringify(a));
  const reordered = parseSpec(input, "r");
  assert.equal(specHash(reordered), specHash(a));
  const changed = structuredClone(a);
  changed.training.batchSize = 64;
  assert.notEqual(specHash(changed), specHash(a));
});
