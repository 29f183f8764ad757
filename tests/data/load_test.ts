import assert from "node:assert/strict";
import { rejectsWith } from "../_assert.ts";
import { join } from "node:path";
import {
  type DatasetInfo,
  FASHION_MNIST,
  FILE_ROLES,
  type FileRole,
} from "../../lib/data/datasets.ts";
import { encodeIdx } from "../../lib/data/idx.ts";
import { defaultCacheRoot, findDataset, loadDataset } from "../../lib/data/load.ts";
import { DataError } from "../../lib/errors.ts";
import { sha256Hex } from "../../lib/hash.ts";

/** Write a tiny 4-file dataset into `dir`; returns a DatasetInfo whose digests match it. */
async function writeFixture(dir: string, train = 30, test = 10): Promise<DatasetInfo> {
  const arrays: Record<FileRole, { dims: number[]; data: Uint8Array }> = {
    trainImages: {
      dims: [train, 28, 28],
      data: new Uint8Array(train * 784).map((_, i) => i % 256),
    },
    trainLabels: { dims: [train], data: new Uint8Array(train).map((_, i) => i % 10) },
    testImages: {
      dims: [test, 28, 28],
      data: new Uint8Array(test * 784).map((_, i) => (i * 7) % 256),
    },
    testLabels: { dims: [test], data: new Uint8Array(test).map((_, i) => i % 10) },
  };
  const files = {} as DatasetInfo["files"];
  for (const role of FILE_ROLES) {
    const gz = encodeIdx(arrays[role], true);
    const name = FASHION_MNIST.files[role].name;
    await Deno.writeFile(join(dir, name), gz);
    files[role] = { name, gzSha256: sha256Hex(gz), count: role.startsWith("train") ? train : test };
  }
  return { ...FASHION_MNIST, envVar: "BNLAB_TEST_NO_SUCH_VAR", systemDirs: [], files };
}

const noEnv = () => undefined;

Deno.test("loadDataset() reads and verifies a dataset from --data-dir", async () => {
  const dir = await Deno.makeTempDir();
  const info = await writeFixture(dir);
  const d = await loadDataset(info, { dataDir: dir, env: noEnv, download: false });
  assert.deepEqual([d.train.count, d.test.count, d.train.images.length], [30, 10, 30 * 784]);
  assert.deepEqual(d.source, dir);
  assert.deepEqual(
    d.digests.trainLabels,
    sha256Hex(encodeIdx({ dims: [30], data: d.train.labels })),
  );
});

Deno.test("loadDataset() names file, expected and actual digest when a file is wrong", async () => {
  const dir = await Deno.makeTempDir();
  const info = await writeFixture(dir);
  const wrong = {
    ...info,
    files: { ...info.files, testLabels: { ...info.files.testLabels, gzSha256: "0".repeat(64) } },
  };
  await rejectsWith(
    () => loadDataset(wrong, { dataDir: dir, env: noEnv, download: false }),
    DataError,
    `t10k-labels-idx1-ubyte.gz fails its digest check`,
  );
});

Deno.test("loadDataset() rejects a label/image count mismatch", async () => {
  const dir = await Deno.makeTempDir();
  const info = await writeFixture(dir);
  const labels = encodeIdx({ dims: [29], data: new Uint8Array(29) }, true);
  await Deno.writeFile(join(dir, info.files.trainLabels.name), labels);
  const patched = {
    ...info,
    files: {
      ...info.files,
      trainLabels: { ...info.files.trainLabels, gzSha256: sha256Hex(labels) },
    },
  };
  await rejectsWith(
    () => loadDataset(patched, { dataDir: dir, env: noEnv, download: false }),
    DataError,
    "train files disagree: 30 images, 29 labels",
  );
});

Deno.test("loadDataset() says where it looked and how to get the data when files are missing", async () => {
  const cache = await Deno.makeTempDir();
  const system = join(cache, "no-such-system-dir");
  const err = await rejectsWith(
    () =>
      loadDataset({ ...FASHION_MNIST, systemDirs: [system] }, {
        cacheRoot: cache,
        env: noEnv,
        download: false,
      }),
    DataError,
    "was not found",
  );
  for (
    const part of [
      join(cache, "fashion-mnist"),
      system,
      "apt-get install dataset-fashion-mnist",
      "--data-dir",
    ]
  ) {
    assert.deepEqual(err.message.includes(part), true, `message lacks "${part}": ${err.message}`);
  }
});

Deno.test("findDataset() refuses an explicit folder that lacks files", async () => {
  const dir = await Deno.makeTempDir();
  await rejectsWith(
    () => findDataset(FASHION_MNIST, { dataDir: dir, env: noEnv }),
    DataError,
    `The Fashion-MNIST folder ${dir} lacks train-images-idx3-ubyte.gz`,
  );
});

Deno.test("loadDataset() never leaves a failed download in the cache", async () => {
  const cache = await Deno.makeTempDir();
  const fixtureDir = await Deno.makeTempDir();
  const info = await writeFixture(fixtureDir);
  const served = async (url: string | URL | Request) => {
    const name = String(url).split("/").pop()!;
    const bytes = await Deno.readFile(join(fixtureDir, name));
    // Corrupt one file in transit: its digest check must fail.
    if (name.startsWith("t10k-labels")) bytes[bytes.length - 1]! ^= 0xff;
    return new Response(bytes);
  };
  await rejectsWith(
    () => loadDataset(info, { cacheRoot: cache, env: noEnv, fetch: served as typeof fetch }),
    DataError,
    "nothing was written to the cache",
  );
  const names = [...Deno.readDirSync(join(cache, "fashion-mnist"))].map((e) => e.name).sort();
  assert.deepEqual(
    names,
    [info.files.testImages.name, info.files.trainImages.name, info.files.trainLabels.name].sort(),
  );
});

Deno.test("loadDataset() downloads into the cache and reads from it afterwards", async () => {
  const cache = await Deno.makeTempDir();
  const fixtureDir = await Deno.makeTempDir();
  const info = await writeFixture(fixtureDir);
  let requests = 0;
  const served = async (url: string | URL | Request) => {
    requests++;
    return new Response(await Deno.readFile(join(fixtureDir, String(url).split("/").pop()!)));
  };
  const first = await loadDataset(info, {
    cacheRoot: cache,
    env: noEnv,
    fetch: served as typeof fetch,
  });
  const second = await loadDataset(info, { cacheRoot: cache, env: noEnv, download: false });
  assert.deepEqual([requests, first.source, second.digests], [
    4,
    join(cache, "fashion-mnist"),
    first.digests,
  ]);
});

Deno.test("defaultCacheRoot() prefers XDG_CACHE_HOME over HOME", () => {
  assert.deepEqual(defaultCacheRoot((k) => ({ XDG_CACHE_HOME: "/x", HOME: "/h" })[k]), "/x/bnlab");
  assert.deepEqual(defaultCacheRoot((k) => ({ HOME: "/h" })[k as "HOME"]), "/h/.cache/bnlab");
});

const haveReal =
  await findDataset(FASHION_MNIST, { env: noEnv }).catch(() => undefined) !== undefined;

Deno.test({
  name:
    "loadDataset() accepts the real Fashion-MNIST files (Debian's re-compressed copy included)" +
    (haveReal ? "" : ` (skipped: not in ${FASHION_MNIST.systemDirs[0]} or the cache)`),
  ignore: !haveReal,
  fn: async () => {
    const d = await loadDataset(FASHION_MNIST, { env: noEnv, download: false });
    assert.deepEqual([d.train.count, d.test.count, d.classes], [60000, 10000, 10]);
    assert.deepEqual(d.digests.testLabels, FASHION_MNIST.files.testLabels.idxSha256);
  },
});
