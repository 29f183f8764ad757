import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsError } from "../lib/errors.ts";
import {
  parseJsonText,
  readTextIfExists,
  refuseSymlinks,
  writeFileAtomic,
  writeFileAtomicSync,
} from "../lib/fs.ts";
import { rejectsWith, symlink, throwsWith } from "./_assert.ts";

Deno.test("parseJsonText returns the parsed value of valid JSON", () => {
  assert.deepEqual(parseJsonText("a.json", '{"x": [1, 2]}', (m) => new ResultsError(m)), {
    x: [1, 2],
  });
});

Deno.test("parseJsonText turns a syntax error into the caller's error naming the file", () => {
  const err = throwsWith(
    () => parseJsonText("results/x/meta.json", "{", (m) => new ResultsError(`${m}; restore it`)),
    ResultsError,
    "results/x/meta.json is not valid JSON (",
  );
  assert.match(err.message, /\); restore it$/);
});

Deno.test("writeFileAtomic replaces a file whole and leaves no temporary sibling", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bnlab-fs-" });
  try {
    const path = join(dir, "sub", "f.txt");
    await writeFileAtomic(path, "old");
    await writeFileAtomic(path, "new");
    assert.equal(await readTextIfExists(path), "new");
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["f.txt"]);
    assert.equal(await readTextIfExists(join(dir, "missing.txt")), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refuseSymlinks refuses a path through a symbolic link below the root", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bnlab-fs-" });
  const outside = await Deno.makeTempDir({ prefix: "bnlab-fs-outside-" });
  try {
    await symlink(outside, join(dir, "link"));
    await rejectsWith(
      () => writeFileAtomic(join(dir, "link", "f.txt"), "x", { root: dir }),
      ResultsError,
      "is a symbolic link",
    );
    assert.deepEqual([...Deno.readDirSync(outside)], []);
    await rejectsWith(() => refuseSymlinks(dir, "/etc/passwd"), ResultsError, "lies outside");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("writeFileAtomicSync replaces a file whole and refuses a symbolic link below the root", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bnlab-fs-" });
  const outside = await Deno.makeTempDir({ prefix: "bnlab-fs-outside-" });
  try {
    const path = join(dir, "sub", "f.bin");
    writeFileAtomicSync(path, new Uint8Array([1, 2]), { root: dir });
    writeFileAtomicSync(path, new Uint8Array([3]), { root: dir });
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([3]));
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["f.bin"]);
    await symlink(outside, join(dir, "link"));
    throwsWith(
      () => writeFileAtomicSync(join(dir, "link", "f.bin"), "x", { root: dir }),
      ResultsError,
      "is a symbolic link",
    );
    assert.deepEqual([...Deno.readDirSync(outside)], []);
    throwsWith(
      () => writeFileAtomicSync("/tmp/x", "x", { root: dir }),
      ResultsError,
      "lies outside",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
