import assert from "node:assert/strict";
import { join } from "node:path";
import { spec, tempDir, writeFixture } from "../report/_fixture.ts";
import { runMain, taskPermissions } from "./_run.ts";

Deno.test("compare on two results folders gives the report's verdict as JSON", async () => {
  const tmp = await tempDir();
  try {
    const s = await spec("se_residual");
    const a = await writeFixture(join(tmp.path, "a"), s, {
      variants: ["se_cnn"],
      values: { se_cnn: { test_acc: [0.91, 0.912, 0.915, 0.909, 0.913] } },
    });
    const b = await writeFixture(join(tmp.path, "b"), s, {
      variants: ["se_cnn"],
      values: { se_cnn: { test_acc: [0.88, 0.884, 0.879, 0.882, 0.881] } },
    });
    const out = await runMain(
      ["compare", "--a", a, "--b", b, "--sesoi", "0.5", "--json"],
      taskPermissions("compare", tmp.path),
    );
    assert.equal(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assert.equal(r.verdict, "better");
    assert.ok(Math.abs(r.diff - 3.06) < 1e-9, `diff ${r.diff} in percentage points`);
    assert.equal(r.p_a_gt_b, 1);
    assert.equal(r.n_a, 5);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("compare on two CSV columns of two files reads the numbers and says undetermined with seeds", async () => {
  const tmp = await tempDir();
  try {
    const x = join(tmp.path, "x.csv");
    const y = join(tmp.path, "y.csv");
    await Deno.writeTextFile(x, "run,score\n1,0.52\n2,0.61\n3,0.47\n4,0.58\n");
    await Deno.writeTextFile(
      y,
      "name,score,other\na,0.55,1\nb,0.49,2\nc,0.6,3\nd,0.5,\ne,0.57,5\n",
    );
    const out = await runMain(
      ["compare", "--a", `${x}:score`, "--b", `${y}:score`, "--sesoi", "0.01"],
      taskPermissions("compare", tmp.path),
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /n = 4\)/);
    assert.match(out.stdout, /n = 5\)/);
    assert.match(out.stdout, /verdict: undetermined \(δ = 0\.01\)/);
    assert.match(out.stdout, /seeds per arm to settle it: \d+/);
  } finally {
    await tmp.cleanup();
  }
});

Deno.test("compare refuses bad input with one paragraph and a documented exit code", async () => {
  const tmp = await tempDir();
  try {
    const x = join(tmp.path, "x.csv");
    await Deno.writeTextFile(x, "score\n0.5\nbad\n");
    const g = join(tmp.path, "g.csv");
    await Deno.writeTextFile(g, "score\n0.5\n0.6\n0.7\n");
    const perms = taskPermissions("compare", tmp.path);
    const cases: [string[], number, RegExp][] = [
      [["compare", "--a", `${g}:score`], 2, /needs two samples/],
      [["compare", "--a", `${g}:score`, "--b", `${g}:nope`], 4, /no column "nope"/],
      [["compare", "--a", `${g}:score`, "--b", `${x}:score`], 4, /row 3, column score: "bad"/],
      [["compare", "--a", join(tmp.path, "missing"), "--b", `${g}:score`], 4, /Cannot read/],
      [["compare", "--a", `${g}:score`, "--b", `${g}:score`, "--alpha", "2"], 2, /--alpha/],
    ];
    for (const [args, code, message] of cases) {
      const out = await runMain(args, perms);
      assert.equal(out.code, code, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, message);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      assert.doesNotMatch(out.stderr, /\bat .*\.ts:\d+/);
    }
  } finally {
    await tmp.cleanup();
  }
});
