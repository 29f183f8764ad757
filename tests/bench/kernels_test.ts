import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backends/select.ts";
import { profileKernels } from "../../lib/bench/kernels.ts";
import { loadSpec, resolveRun } from "../../lib/spec.ts";

Deno.test("a kernel profile lists each kernel of a training step once, with its calls and share", async () => {
  await initBackend("cpu");
  const config = resolveRun(await loadSpec("enhancements"), "base", "smoke");
  const before = tf.memory().numTensors;
  const profile = await profileKernels(config, { warmup: 1, steps: 2, inferenceImages: 100 });
  assert.equal(tf.memory().numTensors, before, "tensors left behind");
  const names = profile.step.map((k) => k.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(!names.some((n) => n.endsWith("__op")));
  assert.ok(names.includes("BnlabConv2D") && names.includes("BnlabAdam"), names.join(", "));
  const conv = profile.step.find((k) => k.name === "BnlabConv2D")!;
  assert.equal(conv.calls, 1, "one convolution per step in this network");
  for (let i = 1; i < profile.step.length; i++) {
    assert.ok(profile.step[i - 1]!.ms >= profile.step[i]!.ms, "sorted, most expensive first");
  }
  assert.ok(profile.stepMs > 0);
  assert.ok(profile.inference && profile.inference.some((k) => k.name === "FusedConv2D"));
});

Deno.test("a kernel profile needs at least one step", async () => {
  await initBackend("cpu");
  const config = resolveRun(await loadSpec("enhancements"), "base", "smoke");
  await assert.rejects(profileKernels(config, { steps: 0 }), RangeError);
});
