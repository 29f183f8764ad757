import assert from "node:assert/strict";
import { join } from "node:path";
import { deterministicRows, runMain, start, studyPermissions } from "./_run.ts";

const STUDY = [
  "study",
  "-e",
  "placement",
  "--variant",
  "baseline",
  "--variant",
  "post_bn",
  "--profile",
  "smoke",
  "--synthetic",
  "--seeds",
  "3",
  "--workers",
  "2",
];

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} stops a study with exit ${code}, says what was kept and how to resume, and the resumed study matches an uninterrupted one`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "bnlab-signal-" });
    try {
      const out = join(tmp, "stopped");
      const child = start([...STUDY, "--out", out], studyPermissions(tmp));
      // Wait for the first stored run, then interrupt.
      const decoder = new TextDecoder();
      let stderr = "";
      const reader = child.stderr.getReader();
      while (!/run 1\/6 /.test(stderr)) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value);
      }
      child.kill(signal);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value);
      }
      const status = await child.status;
      await child.stdout.cancel();
      assert.equal(status.code, code, stderr);
      assert.match(
        stderr,
        new RegExp(`study: stopped by ${signal}\\. \\d run\\(s\\) of this study are stored`),
      );
      assert.match(stderr, /Resume with: deno task study -e placement .*--out /);
      assert.doesNotMatch(stderr, /^\s+at /m);
      // Nothing half-written: no temporary files, no lock holder left behind.
      const leftovers: string[] = [];
      for await (const e of Deno.readDir(join(out, "placement", "smoke", "records"))) {
        if (e.name.includes(".tmp-")) leftovers.push(e.name);
      }
      assert.deepEqual(leftovers, []);
      assert.equal(await Deno.readTextFile(join(out, "placement", "smoke", ".lock")), "");
      // Resume, and compare with a study that was never interrupted.
      const resumed = await runMain([...STUDY, "--out", out], studyPermissions(tmp));
      assert.equal(resumed.code, 0, resumed.stderr);
      const whole = await runMain([...STUDY, "--out", join(tmp, "whole")], studyPermissions(tmp));
      assert.equal(whole.code, 0, whole.stderr);
      assert.equal(
        await deterministicRows(join(out, "placement", "smoke")),
        await deterministicRows(join(tmp, "whole", "placement", "smoke")),
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
