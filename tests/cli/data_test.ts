import assert from "node:assert/strict";
import { type Finished, runMain, taskPermissions } from "./_run.ts";

/** Run `deno task data <args>` with the task's permissions, writing only to a scratch folder. */
async function data(args: string[], folder?: (dir: string) => string[]): Promise<
  Finished & { left: string[] }
> {
  const dir = await Deno.makeTempDir({ prefix: "bnlab-data-" });
  try {
    const r = await runMain(
      ["data", ...(folder?.(dir) ?? []), ...args],
      taskPermissions("data", dir),
    );
    return { ...r, left: [...Deno.readDirSync(dir)].map((e) => e.name) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("data --help describes the command and exits 0", async () => {
  const r = await data(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: deno task data/);
  assert.match(r.stdout, /3 when one cannot be\s+found, fetched or verified/);
});

Deno.test("data with a Fashion-MNIST folder that lacks the files exits 3 with one paragraph saying how to get them", async () => {
  const r = await data(["-e", "lenet5"], (dir) => ["--data-dir", dir]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /The Fashion-MNIST folder .* lacks train-images-idx3-ubyte.gz/);
  assert.match(r.stderr, /apt-get install dataset-fashion-mnist/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.deepEqual(r.left, [], "nothing written");
});

Deno.test("data for an unknown experiment exits 2 naming it", async () => {
  const r = await data(["-e", "nope"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});
