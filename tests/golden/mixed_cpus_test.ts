import assert from "node:assert/strict";
import {
  type Fingerprint,
  type GoldenFile,
  goldenText,
  type StudyResults,
  summarize,
} from "../../lib/store/golden.ts";
import { RUN_COLUMNS, type RunRow } from "../../lib/store/schema.ts";
import { checkReproduction } from "../../lib/verify.ts";

const base: Fingerprint = {
  tool: "bnlab",
  version: "0.1.0",
  deno: "2.9.6",
  tfjs: "4.22.0",
  backend: "native",
  threads: 1,
  arch: "x86_64",
  library: "oneDNN 2.6",
};

function row(variant: string, seed: number, testAcc: number): RunRow {
  const r = Object.fromEntries(RUN_COLUMNS.map((c) => [c, "1"])) as Record<string, string>;
  Object.assign(r, {
    experiment: "toy",
    variant,
    seed: String(seed),
    profile: "quick",
    backend: "native",
    threads: "1",
    config_hash: "a".repeat(64),
    status: "ok",
    diverged_epoch: "",
    dataset: "fashion-mnist",
    split_hash: "b".repeat(64),
    test_examples: "10000",
    test_acc: String(testAcc),
    seconds: "1.00",
  });
  return r as RunRow;
}

const accs = [0.90, 0.91, 0.905, 0.895];
const golden: GoldenFile = (() => {
  const runs = ["a", "b"].flatMap((v) => accs.map((acc, i) => row(v, i + 1, acc)));
  // Seeds 1-2 ran on CPU "A", seeds 3-4 on CPU "B" (two kinds of cluster node).
  const cpus = Object.fromEntries(
    runs.map((r) => [`${r.variant}#${r.seed}`, Number(r.seed) <= 2 ? "A" : "B"]),
  );
  const results: StudyResults = {
    experiment: "toy",
    profile: "quick",
    environment: { ...base, cpu: "A" },
    dataset: { id: "fashion-mnist", digests: {} },
    runs,
    cpus,
  };
  return JSON.parse(goldenText(summarize(results), runs));
})();

function retrained(onCpu: string, change: (seed: number) => number): StudyResults {
  return {
    experiment: "toy",
    profile: "quick",
    environment: { ...base, cpu: onCpu },
    dataset: { id: "fashion-mnist", digests: {} },
    runs: ["a", "b"].flatMap((v) => accs.map((acc, i) => row(v, i + 1, acc + change(i + 1)))),
  };
}

Deno.test("a golden study of mixed CPUs records each run's CPU", () => {
  assert.deepEqual(golden.runs.map((r) => r.cpu), ["A", "A", "B", "B", "A", "A", "B", "B"]);
});

Deno.test("retrained on one of the CPUs, its runs are checked exactly and the rest statistically, and the output says which", () => {
  // On CPU A: seeds 1-2 reproduce bit for bit; seeds 3-4 differ slightly (other CPU's kernels).
  const check = checkReproduction(golden, retrained("A", (seed) => (seed <= 2 ? 0 : 0.001)));
  assert.equal(check.kind, "reproduction (exact + statistical)");
  assert.ok(check.pass, check.diff.join("; "));
  assert.match(
    check.detail,
    /exact for the 4 run\(s\) trained on this CPU \(A\): 4 identical; statistical for the 4 trained on other CPUs/,
  );
});

Deno.test("a run on a matching CPU that does not reproduce exactly fails the check, by name", () => {
  const check = checkReproduction(golden, retrained("A", (seed) => (seed === 1 ? 0.0001 : 0)));
  assert.equal(check.pass, false);
  assert.ok(
    check.diff.some((d) => /^a seed 1: row \w+ vs golden \w+ \(same CPU: must match\)$/.test(d)),
    check.diff.join("; "),
  );
});

Deno.test("retrained on a CPU no golden run used, every run is checked statistically", () => {
  const check = checkReproduction(golden, retrained("C", () => 0.001));
  assert.equal(check.kind, "reproduction (statistical)");
  assert.ok(check.pass, check.diff.join("; "));
});
