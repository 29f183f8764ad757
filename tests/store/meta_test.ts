import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsError } from "../../lib/errors.ts";
import { describeEnvironment, readMeta, writeMeta } from "../../lib/store/meta.ts";
import { rejectsWith } from "../_assert.ts";

function meta(id: string, digest: string) {
  return describeEnvironment(
    { name: "wasm", threads: 1, tfjs: "4.22.0" },
    {
      experiment: "enhancements",
      profile: "quick",
      dataset: {
        id,
        source: "/data",
        classes: 10,
        train: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
        test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
        digests: {
          trainImages: digest,
          trainLabels: digest,
          testImages: digest,
          testLabels: digest,
        },
      },
      requested: "mnist",
      command: ["study"],
    },
  );
}

Deno.test("a folder with runs on other dataset files is refused, naming both datasets and what to do, and meta.json is kept", async () => {
  const root = await Deno.makeTempDir({ prefix: "bnlab-meta-" });
  try {
    const dir = join(root, "enhancements", "quick");
    await writeMeta(dir, meta("fashion-mnist", "aa"), false, root);
    await rejectsWith(
      () => writeMeta(dir, meta("mnist", "bb"), true, root),
      ResultsError,
      "holds results made on other dataset files (fashion-mnist) than this study's (mnist)",
    );
    assert.equal((await readMeta(dir))?.dataset.id, "fashion-mnist");
    // Without rows in the folder, a new study may take it over.
    await writeMeta(dir, meta("mnist", "bb"), false, root);
    assert.equal((await readMeta(dir))?.dataset.id, "mnist");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
