import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../lib/cli/report.ts";
import { ResultsError, UsageError } from "../../lib/errors.ts";
import { DEFAULT_ANALYSIS } from "../../lib/report/analyze.ts";
import { buildReport, type ReportOptions, writeReport } from "../../lib/report/report.ts";
import { rejectsWith, symlink } from "../_assert.ts";
import { PLACEMENT_EPOCHS, spec, tempDir, writeFixture } from "./_fixture.ts";

const README =
  "# bnlab\n\nIntro.\n\n<!-- findings:headline quick -->\n<!-- findings:start -->\n<!-- findings:end -->\n\nOutro.\n";

/** A results root with placement (all variants) and enhancements (trained on Fashion-MNIST). */
async function fixture(root: string): Promise<ReportOptions> {
  await writeFixture(join(root, "results"), await spec("placement"), { values: PLACEMENT_EPOCHS });
  await writeFixture(join(root, "results"), await spec("enhancements"), {
    datasetId: "fashion-mnist",
    seeds: [0, 1, 2],
  });
  await Deno.writeTextFile(join(root, "README.md"), README);
  return {
    results: join(root, "results"),
    profile: "quick",
    experiments: [],
    out: join(root, "reports"),
    readme: join(root, "README.md"),
    analysis: { ...DEFAULT_ANALYSIS, resamples: 1000 },
  };
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    files[entry.name] = await Deno.readTextFile(join(dir, entry.name));
  }
  return files;
}

Deno.test("regenerating the report from the same CSVs gives byte-identical files", async () => {
  const a = await tempDir();
  const b = await tempDir();
  try {
    const first = await writeReport(await fixture(a.path));
    const second = await writeReport(await fixture(b.path));
    assert.deepEqual(first.reported, ["enhancements", "placement"]);
    const x = await snapshot(join(a.path, "reports"));
    const y = await snapshot(join(b.path, "reports"));
    assert.deepEqual(Object.keys(x).sort(), [
      "FINDINGS.md",
      "enhancements-comparisons.csv",
      "enhancements-comparisons.json",
      "enhancements-convergence.svg",
      "enhancements-curves.svg",
      "enhancements-gap.svg",
      "enhancements-test_acc.svg",
      "enhancements.md",
      "placement-comparisons.csv",
      "placement-comparisons.json",
      "placement-convergence.svg",
      "placement-curves.svg",
      "placement-gap.svg",
      "placement-test_acc.svg",
      "placement.md",
    ]);
    assert.deepEqual(Object.keys(y).sort(), Object.keys(x).sort());
    for (const name of Object.keys(x)) {
      // Paths of the two temporary folders differ; everything else must be identical.
      assert.equal(y[name]!.replaceAll(b.path, "ROOT"), x[name]!.replaceAll(a.path, "ROOT"), name);
    }
    assert.equal(second.written.length, first.written.length);
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

Deno.test("a second run in the same folder rewrites nothing", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    const first = await writeReport(options);
    const before = await snapshot(join(tmp.path, "reports"));
    const second = await writeReport(options);
    assert.deepEqual(second.written, []);
    assert.equal(second.unchanged.length, first.written.length);
    assert.deepEqual(await snapshot(join(tmp.path, "reports")), before);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("the report answers each question, cross-checks the seed study and flags another dataset", async () => {
  const tmp = await tempDir();
  try {
    const built = await buildReport(await fixture(tmp.path));
    const file = (name: string) => built.files.find((f) => f.path.endsWith(name))!.content;
    const placement = file("placement.md");
    assert.match(
      placement,
      /\*\*`pre_bn` better than `post_bn`:\*\* `pre_bn` reached its best validation loss earlier than `post_bn`/,
    );
    assert.match(
      placement,
      /Welch's t interval at level 1 − 0\.05\/m for a family of m comparisons/,
    );
    assert.match(placement, /\| 5\.40 ± 0\.55 \(2 of 5 at cap 6\) \|/);
    const csv = file("placement-comparisons.csv").split("\n");
    assert.equal(csv.length, 1 + 9 + 1, "a header, 9 comparisons and a final newline");
    const json = JSON.parse(file("placement-comparisons.json"));
    assert.equal(json.length, 9);
    assert.equal(json[0].verdict, "better");
    assert.equal(json[0].censored_b, 2);
    assert.match(placement, /!\[[^\]]+\]\(placement-curves\.svg\)/);
    assert.match(
      placement,
      /\| Configurations \| every run's configuration hash matches experiments\/placement\.json \|/,
    );
    const enhancements = file("enhancements.md");
    assert.match(
      enhancements,
      /The spec asks for MNIST, but these results were trained on Fashion-MNIST/,
    );
    assert.match(enhancements, /\| `skip` \| Test accuracy \(%\) \| 98\.78 \|/);
    assert.match(enhancements, /quick profile trains on subsampled data for fewer epochs/);
    const findings = file("FINDINGS.md");
    assert.match(findings, /## lenet5: .*\n\nNo results yet for profile quick/);
    assert.match(findings, /\[Full report\]\(placement\.md\)/);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("each experiment page prints the profile's protocol deviations and names likely reasons where a published value lies outside", async () => {
  const tmp = await tempDir();
  try {
    const built = await buildReport(await fixture(tmp.path));
    const file = (name: string) => built.files.find((f) => f.path.endsWith(name))!.content;
    const placement = file("placement.md");
    const protocol = placement.slice(
      placement.indexOf("## Protocol"),
      placement.indexOf("## Research questions"),
    );
    assert.ok(placement.indexOf("## Variants") < placement.indexOf("## Protocol"));
    assert.match(protocol, /\| Aspect \| Kind \| Seed study \| bnlab \| Why \| Applies to \|/);
    assert.match(
      protocol,
      /\| BatchNorm settings \| choice \(seed silent\) \| Keras BatchNormalization/,
    );
    assert.match(
      protocol,
      /\| profile subsampling \| deviation \| .*20,000.*\| all variants; quick only \|/,
    );
    assert.doesNotMatch(protocol, /smoke only/);
    const enhancements = file("enhancements.md");
    assert.match(
      enhancements,
      /\| `skip` \| Test accuracy \(%\) \| 98\.78 \| [^|]+\| \[[^|]+\] \| \[[^|]+\] \| [^|]+\| no \|/,
    );
    assert.match(
      enhancements,
      /"Inside PI\?" uses it because each published value is a single run/,
    );
    assert.match(
      enhancements,
      /- `skip` Test accuracy \(%\): trained on Fashion-MNIST, not MNIST; dataset \(MNIST, the official files .*\); .*profile subsampling \(The quick profile trains on a stratified subsample of 6,000/,
    );
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("the README summary links the reports relative to the README and leaves the rest alone", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await writeReport(options);
    const readme = await Deno.readTextFile(options.readme!);
    assert.ok(
      readme.startsWith(
        "# bnlab\n\nIntro.\n\n<!-- findings:headline quick -->\n<!-- findings:start -->\n",
      ),
    );
    assert.ok(readme.endsWith("\n<!-- findings:end -->\n\nOutro.\n"));
    assert.match(readme, /\*\*placement\*\* \(\[report\]\(reports\/placement\.md\)/);
    assert.match(readme, /\[FINDINGS\.md\]\(reports\/FINDINGS\.md\)/);
    assert.match(readme, /\*\*se_residual\*\*: No results yet for profile quick/);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("report files of an experiment that lost its results are removed", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await writeReport(options);
    await Deno.remove(join(tmp.path, "results", "enhancements"), { recursive: true });
    const outcome = await writeReport(options);
    assert.equal(outcome.removed.length, 7);
    assert.deepEqual(
      Object.keys(await snapshot(options.out)).filter((n) => n.startsWith("enhancements")),
      [],
    );
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("a README without markers stops the report before anything is written", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await Deno.writeTextFile(options.readme!, "# bnlab\n");
    await rejectsWith(() => writeReport(options), UsageError, "<!-- findings:start -->");
    await rejectsWith(() => Deno.stat(options.out), Deno.errors.NotFound, "");
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("the report command writes the requested experiment into --out", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    const argv = [
      "--results",
      options.results,
      "--out",
      options.out,
      "-e",
      "placement",
      "--no-readme",
    ];
    assert.equal(await run(argv), 0);
    const files = Object.keys(await snapshot(options.out)).sort();
    assert.deepEqual(files, [
      "FINDINGS.md",
      "placement-comparisons.csv",
      "placement-comparisons.json",
      "placement-convergence.svg",
      "placement-curves.svg",
      "placement-gap.svg",
      "placement-test_acc.svg",
      "placement.md",
    ]);
    assert.equal(await Deno.readTextFile(options.readme!), README);
    await rejectsWith(() => run(["--profile", "huge"]), UsageError, "--profile must be one of");
    await rejectsWith(() => run(["-e", "nope"]), UsageError, 'Unknown experiment "nope"');
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("the committed report and README summary are exactly what the committed results produce", async () => {
  const options = {
    results: "results",
    profile: "quick" as const,
    experiments: [],
    out: "reports/quick",
    readme: "README.md",
  };
  const built = await buildReport(options);
  assert.ok(built.reported.length > 0, "no committed quick results to report on");
  for (const path of built.stale) {
    await rejectsWith(() => Deno.stat(path), Deno.errors.NotFound, "");
  }
  // A spec added since the report was last generated (no results yet) only adds a
  // "no results yet" line to FINDINGS.md and the README; either form is current.
  const reportedOnly = built.empty.length > 0
    ? await buildReport({ ...options, experiments: built.reported })
    : built;
  for (const file of built.files) {
    const committed = await Deno.readTextFile(file.path).catch(() => undefined);
    const alternative = reportedOnly.files.find((f) => f.path === file.path)?.content;
    assert.ok(
      committed === file.content || committed === alternative,
      `${file.path} is stale: run deno task report`,
    );
  }
});

/** Every file under `dir` with its bytes, recursively. */
async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) Object.assign(files, await tree(path));
    else {files[path] = entry.isSymlink
        ? `-> ${await Deno.readLink(path)}`
        : await Deno.readTextFile(path);}
  }
  return files;
}

Deno.test("a report of a profile without results fails with exit 4 and writes and removes nothing", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await writeReport(options);
    const before = await tree(tmp.path);
    const err = await rejectsWith(
      () => writeReport({ ...options, profile: "full" }),
      ResultsError,
      "No results of the full profile",
    );
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /Nothing was written or removed/);
    await rejectsWith(
      () => writeReport({ ...options, results: join(tmp.path, "resluts") }),
      ResultsError,
      "does not exist",
    );
    assert.deepEqual(await tree(tmp.path), before);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("a report of a profile the README does not declare as headline leaves the README alone", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await writeFixture(join(tmp.path, "results"), await spec("placement"), { profile: "smoke" });
    const outcome = await writeReport({
      ...options,
      profile: "smoke",
      out: join(tmp.path, "reports", "smoke"),
    });
    assert.match(outcome.readmeSkipped ?? "", /declares the quick profile as its headline/);
    assert.equal(await Deno.readTextFile(options.readme!), README);
    assert.deepEqual(outcome.reported, ["placement"]);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("a symbolic link under the report folder is refused and nothing outside changes", async () => {
  const tmp = await tempDir();
  const outside = await Deno.makeTempDir({ prefix: "bnlab-outside-" });
  try {
    const options = await fixture(tmp.path);
    await Deno.writeTextFile(join(outside, "victim.md"), "keep me\n");
    await Deno.mkdir(options.out, { recursive: true });
    await symlink(join(outside, "victim.md"), join(options.out, "placement.md"));
    await rejectsWith(() => writeReport(options), ResultsError, "is a symbolic link");
    assert.equal(await Deno.readTextFile(join(outside, "victim.md")), "keep me\n");
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["victim.md"]);
    assert.equal(await Deno.readTextFile(options.readme!), README);
  } finally {
    await tmp.cleanup();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("diverged runs are counted and shown in the report and left out of the means", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    await writeFixture(join(tmp.path, "results"), await spec("placement"), {
      values: PLACEMENT_EPOCHS,
      diverged: ["baseline#1"],
    });
    const built = await buildReport({ ...options, experiments: ["placement"], readme: undefined });
    const page = built.files.find((f) => f.path.endsWith("placement.md"))!.content;
    assert.match(page, /1 run diverged .* `baseline` seed 1 \(epoch 1\)/);
    assert.match(page, /29 runs/);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("the provenance states the runs' seconds in all and per CPU model their records name", async () => {
  const tmp = await tempDir();
  try {
    const options = await fixture(tmp.path);
    const se = await spec("se_residual");
    const cpus: Record<string, string> = {};
    const seconds: Record<string, number> = {};
    for (const variant of ["se_cnn", "se_resnet"]) {
      for (const seed of [0, 1, 2]) {
        if (seed < 2) cpus[`${variant}#${seed}`] = seed === 0 ? "AMD EPYC" : "Intel Xeon";
        seconds[`${variant}#${seed}`] = 100 + 10 * seed; // 100, 110, 120 s
      }
    }
    await writeFixture(join(tmp.path, "results"), se, {
      seeds: [0, 1, 2],
      records: { cpus, seconds },
    });
    const built = await buildReport({
      ...options,
      experiments: ["se_residual"],
      readme: undefined,
    });
    const page = built.files.find((f) => f.path.endsWith("se_residual.md"))!.content;
    assert.match(
      page,
      /\| Run time \| 660 run-seconds, median 110 s per run; AMD EPYC: 2 runs, 200 s; CPU not recorded: 2 runs, 240 s; Intel Xeon: 2 runs, 220 s\./,
    );
    // Without records (CSV-only folders) the seconds are still summed.
    const other = await buildReport({ ...options, experiments: ["placement"], readme: undefined });
    const page2 = other.files.find((f) => f.path.endsWith("placement.md"))!.content;
    assert.match(
      page2,
      /\| Run time \| 370 run-seconds, median 12 s per run; CPU not recorded: 30 runs, 370 s\./,
    );
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("with quick and full results the full report tabulates both verdicts per comparison and the README counts the agreements", async () => {
  const tmp = await tempDir();
  try {
    const results = join(tmp.path, "results");
    const placement = await spec("placement");
    await writeFixture(results, placement, { values: PLACEMENT_EPOCHS });
    // Full: post_bn converges earlier instead, so RQ1's verdict flips.
    await writeFixture(results, placement, {
      profile: "full",
      values: { pre_bn: PLACEMENT_EPOCHS.post_bn!, post_bn: PLACEMENT_EPOCHS.pre_bn! },
    });
    await Deno.writeTextFile(
      join(tmp.path, "README.md"),
      README.replace("headline quick", "headline full"),
    );
    const options = {
      results,
      profile: "full" as const,
      experiments: ["placement"],
      out: join(tmp.path, "reports"),
      readme: join(tmp.path, "README.md"),
      analysis: { ...DEFAULT_ANALYSIS, resamples: 1000 },
    };
    const built = await buildReport(options);
    const file = (name: string) => built.files.find((f) => f.path.endsWith(name))!.content;
    const page = file("placement.md");
    assert.match(page, /## Quick vs full profile/);
    assert.match(
      page,
      /\| RQ1 \| `pre_bn` − `post_bn` \| `pre_bn` better than `post_bn` \| `post_bn` better than `pre_bn` \| no \|/,
    );
    const rows = page.split("\n").filter((l) => /^\| RQ\d \| `/.test(l));
    assert.equal(rows.length, 9, "one row per comparison");
    const agreed = rows.filter((l) => l.endsWith("| yes |")).length;
    assert.equal(agreed, 8, "only RQ1 differs between the two fixtures");
    assert.match(page, /they agree in 8 of 9 comparisons testable under both profiles/);
    const readme = file("README.md");
    assert.match(
      readme,
      /The quick profile's verdict agreed with the full profile's in 8 of 9 comparisons \(`placement`;/,
    );
    // The quick report has no agreement table; without quick results neither does the full one.
    const quickReport = await buildReport({ ...options, profile: "quick", readme: undefined });
    const quickPage = quickReport.files.find((f) => f.path.endsWith("placement.md"))!.content;
    assert.doesNotMatch(quickPage, /Quick vs full/);
    await Deno.remove(join(results, "placement", "quick"), { recursive: true });
    const alone = await buildReport(options);
    const alonePage = alone.files.find((f) => f.path.endsWith("placement.md"))!.content;
    assert.doesNotMatch(alonePage, /Quick vs full/);
    const aloneReadme = alone.files.find((f) => f.path.endsWith("README.md"))!.content;
    assert.doesNotMatch(aloneReadme, /quick profile's verdict agreed/);
  } finally {
    await tmp.cleanup();
  }
});
