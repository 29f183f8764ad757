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

const debian = "/usr/share/datasets/fashion-mnist";
const haveDebian = (() => {
  try {
    return Deno.statSync(`${debian}/t10k-labels-idx1-ubyte.gz`).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "data finds and verifies Debian's Fashion-MNIST and says where it is" +
    (haveDebian ? "" : ` (skipped: ${debian} is not on this machine)`),
  ignore: !haveDebian,
  fn: async () => {
    const r = await data(["-e", "lenet5", "-e", "placement", "--data-dir", debian]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      `data: fashion-mnist for lenet5, placement: ${debian} (60000 training and 10000 test ` +
        "images, SHA-256 verified)",
    );
    assert.deepEqual(r.left, []);
  },
});
