/**
 * File-system helpers that never leave a half-written file behind: every write
 * goes to a temporary sibling, is flushed, then renamed over the target.
 *
 * @module
 */
import { dirname } from "node:path";
import { ResultsError } from "./errors.ts";

/**
 * Write `data` to `path` atomically: readers see the old bytes or the new
 * bytes, never a mix, even if the process is killed mid-write. Creates the
 * parent folder if needed.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Read a UTF-8 text file, or return `undefined` when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** True when `path` exists (file or folder). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** An exclusive advisory lock on a folder, released by `release()` or when the process dies. */
export interface FolderLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Release the lock and close the file. */
  release(): Promise<void>;
}

/**
 * Take an exclusive lock on `folder` (creating it), or throw `ResultsError`
 * naming the process that holds it. The lock is an OS file lock on
 * `folder/.lock`, so a killed process never leaves a stale lock behind.
 */
export async function lockFolder(folder: string, purpose: string): Promise<FolderLock> {
  await Deno.mkdir(folder, { recursive: true });
  const path = `${folder}/.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!(await file.tryLock(true))) {
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim() || "another process";
    file.close();
    throw new ResultsError(
      `The results folder ${folder} is in use by ${holder}. Two processes must not write the ` +
        `same folder; wait for it to finish, or choose another folder with --out.`,
    );
  }
  const note = new TextEncoder().encode(`${purpose} (pid ${Deno.pid})\n`);
  await file.truncate(0);
  await file.write(note);
  return {
    path,
    async release() {
      await file.truncate(0).catch(() => {});
      await file.unlock().catch(() => {});
      file.close();
    },
  };
}
