import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import {
  deviationsFor,
  listSpecs,
  loadSpec,
  parseSpec,
  PROFILES,
  resolveRun,
  specHash,
} from "../lib/spec.ts";
import { rejectsWith, throwsWith } from "./_assert.ts";

for (const name of await listSpecs()) {
  Deno.test(`experiments/${name}.json validates, is named after its file, and resolves every variant at every profile`, async () => {
    const spec = await loadSpec(name);
    assert.equal(spec.name, name);
    assert.ok(spec.variants.length > 0);
    for (const v of spec.variants) {
      for (const profile of PROFILES) {
        const config = resolveRun(spec, v.name, profile);
        assert.ok(config.layers.length > 0 && config.train.epochs >= 1, `${v.name}/${profile}`);
      }
    }
  });
}

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

Deno.test("a profile's batch-norm recalibration reaches only variants it changes, leaving the others' configuration as it was", async () => {
  const spec = await loadSpec("dropout_bn_rules");
  const before = Object.fromEntries(
    spec.variants.map((v) => [v.name, resolveRun(spec, v.name, "quick")]),
  );
  const beforeFull = resolveRun(spec, "bn_after_relu", "full");
  spec.profiles.quick.recalibrateBatchNorm = true;
  const changed = spec.variants.filter((v) =>
    JSON.stringify(resolveRun(spec, v.name, "quick")) !== JSON.stringify(before[v.name])
  ).map((v) => v.name);
  // Variants with batch norm, except the one that evaluates with batch statistics.
  assert.deepEqual(changed, ["bn_before_relu", "bn_after_relu"]);
  assert.equal(resolveRun(spec, "bn_after_relu", "quick").eval.recalibrateBatchNorm, true);
  assert.equal(resolveRun(spec, "bn_after_relu", "full").eval.recalibrateBatchNorm, undefined);
  // An explicit false is the same configuration as none at all.
  spec.evaluation.recalibrateBatchNorm = false;
  assert.deepEqual(resolveRun(spec, "bn_after_relu", "full"), beforeFull);
});

Deno.test("parseSpec() names the path of each problem and rejects unknown fields and variants", async () => {
  const good = JSON.parse(await Deno.readTextFile("experiments/lenet5.json"));
  const typo = structuredClone(good);
  typo.variants[0].layers[0].filtres = 6;
  throwsWith(() => parseSpec(typo, "x.json"), UsageError, "x.json: variants[0].layers[0]");
  const unknown = structuredClone(good);
  unknown.questions[1].comparisons[0] = ["baseline", "dropuot"];
  throwsWith(
    () => parseSpec(unknown, "x.json"),
    UsageError,
    'x.json: questions[1].comparisons[0][1]: no variant named "dropuot"',
  );
  const published = structuredClone(good);
  published.published[0].variant = "nope";
  throwsWith(() => parseSpec(published, "x.json"), UsageError, "published[0].variant");
  await rejectsWith(
    () => loadSpec("nope"),
    UsageError,
    'Unknown experiment "nope"; known: ',
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

/** A small spec with a baseline and variants declared as changes to it. */
async function extended(variants: unknown[]): Promise<unknown> {
  const spec = JSON.parse(await Deno.readTextFile("experiments/lenet5.json"));
  const baseline = spec.variants[0];
  spec.variants = [baseline, ...variants];
  spec.questions = [{ ...spec.questions[0], comparisons: [["baseline", "baseline"]] }];
  spec.published = [];
  spec.deviations = [];
  return spec;
}

Deno.test("a variant that extends another resolves to the same configuration as its layers written out", async () => {
  const base = JSON.parse(await Deno.readTextFile("experiments/lenet5.json")).variants[0];
  const bn = { type: "batchnorm" };
  const written = {
    name: "bn2",
    description: "written out",
    layers: [base.layers[0], bn, ...base.layers.slice(1, 4), bn, ...base.layers.slice(4)],
    training: { weightDecay: 0.01 },
  };
  const patched = {
    name: "bn2",
    description: "written out",
    extends: "baseline",
    insert: [{ after: [0, 3], layers: [bn] }],
    training: { weightDecay: 0.01 },
  };
  const a = parseSpec(await extended([written]), "a.json");
  const b = parseSpec(await extended([patched]), "b.json");
  assert.deepEqual(b.variants, a.variants);
  assert.equal(specHash(b), specHash(a));
  assert.deepEqual(resolveRun(b, "bn2", "quick"), resolveRun(a, "bn2", "quick"));
  const replaced = parseSpec(
    await extended([{
      name: "r",
      description: "tanh → relu, drop the last pooling",
      extends: "baseline",
      replace: [{ at: 1, layers: [{ type: "relu" }] }, { at: 5, layers: [] }],
    }]),
    "r.json",
  );
  const layers = replaced.variants[1]!.layers;
  assert.equal(layers.length, base.layers.length - 1);
  assert.deepEqual(layers[1], { type: "relu" });
});

Deno.test("extends errors name the JSON path: unknown parent, cycle, position past the end", async () => {
  const cases: [unknown[], string][] = [
    [[{ name: "x", description: "d", extends: "nope" }], 'variants[1].extends: no variant "nope"'],
    [
      [
        { name: "x", description: "d", extends: "y" },
        { name: "y", description: "d", extends: "x" },
      ],
      "(a cycle)",
    ],
    [
      [{
        name: "x",
        description: "d",
        extends: "baseline",
        insert: [{ after: 99, layers: [{ type: "relu" }] }],
      }],
      "variants[1].insert[0].after: position 99 is past the last layer",
    ],
    [[{ name: "x", description: "d" }], 'variants[1]: needs "layers" or "extends"'],
    [
      [{
        name: "x",
        description: "d",
        extends: "baseline",
        insert: [{ after: 0, layers: [{ type: "relu", x: 1 }] }],
      }],
      "variants[1].layers[1]",
    ],
  ];
  for (const [variants, message] of cases) {
    const json = await extended(variants);
    throwsWith(() => parseSpec(json, "s.json"), UsageError, message);
  }
});

Deno.test("specHash() and every resolved run ignore the protocol deviations, which only document the spec", async () => {
  const json = JSON.parse(await Deno.readTextFile("experiments/placement.json"));
  const without = parseSpec({ ...json, deviations: [] }, "without.json");
  const withOne = parseSpec({
    ...json,
    deviations: [{
      aspect: "epochs",
      seed: "at most 12 epochs",
      bnlab: "at most 6 epochs",
      why: "a test",
      profiles: ["quick"],
    }],
  }, "with.json");
  assert.equal(withOne.deviations.length, 1);
  assert.equal(specHash(withOne), specHash(without));
  for (const v of without.variants) {
    for (const profile of PROFILES) {
      assert.deepEqual(resolveRun(withOne, v.name, profile), resolveRun(without, v.name, profile));
    }
  }
});

Deno.test("a deviation naming an unknown variant or aspect is refused with its path", async () => {
  const json = JSON.parse(await Deno.readTextFile("experiments/placement.json"));
  const base = { aspect: "dropout", seed: "s", bnlab: "b", why: "w" };
  throwsWith(
    () => parseSpec({ ...json, deviations: [{ ...base, variants: ["nope"] }] }, "x.json"),
    UsageError,
    'deviations[0].variants[0]: no variant named "nope"',
  );
  throwsWith(
    () => parseSpec({ ...json, deviations: [{ ...base, aspect: "vibes" }] }, "x.json"),
    UsageError,
    "deviations[0].aspect",
  );
});

Deno.test("deviationsFor() keeps the deviations of the profile and the variant asked for", async () => {
  const json = JSON.parse(await Deno.readTextFile("experiments/placement.json"));
  const spec = parseSpec({
    ...json,
    deviations: [
      { aspect: "dataset", seed: "s", bnlab: "b", why: "every profile and variant" },
      { aspect: "profile", seed: "s", bnlab: "b", why: "quick only", profiles: ["quick"] },
      { aspect: "dropout", seed: "s", bnlab: "b", why: "classical only", variants: ["classical"] },
    ],
  }, "x.json");
  const whys = (profile: "quick" | "full", variant?: string) =>
    deviationsFor(spec, profile, variant).map((d) => d.why);
  assert.deepEqual(whys("full"), ["every profile and variant", "classical only"]);
  assert.deepEqual(whys("quick", "baseline"), ["every profile and variant", "quick only"]);
  assert.deepEqual(whys("full", "classical"), ["every profile and variant", "classical only"]);
});

for (const name of await listSpecs()) {
  Deno.test(`experiments/${name}.json records what its smoke and quick profiles change as deviations of those profiles`, async () => {
    const spec = await loadSpec(name);
    assert.ok(deviationsFor(spec, "full").length > 0, "the full profile's deviations");
    for (const profile of ["smoke", "quick"] as const) {
      const own = spec.deviations.filter((d) => d.profiles?.includes(profile));
      assert.ok(
        own.some((d) => d.aspect === "profile"),
        `${name}: no "profile" deviation for ${profile}`,
      );
    }
    for (const d of spec.deviations) {
      if (d.aspect === "profile") {
        assert.ok(d.profiles, `${name}: a profile deviation names its profiles`);
      }
    }
  });
}
