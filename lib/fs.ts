/**
 * File-system helpers that never leave a half-written file behind: every write
 * goes to a temporary sibling, is flushed, then renamed over the target.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ResultsError } from "./errors.ts";

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteOptions {
  /**
   * The folder the write must stay inside: every existing path component from
   * below `root` down to the file itself is checked with `lstat`, and a
   * symbolic link is refused (`ResultsError`) instead of followed.
   */
  root?: string;
}

/**
 * Throw `ResultsError` when `path` lies outside `root` or when any existing
 * component of `path` below `root` (the file itself included) is a symbolic
 * link, so a write can never be redirected outside `root`. `root` itself may
 * be a link (a user's choice of folder). Components that do not exist yet are
 * fine (they will be created as real folders).
 *
 * @example
 * ```ts
 * import { refuseSymlinks } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await refuseSymlinks(dir, `${dir}/a/b.txt`); // nothing there yet: fine
 * ```
 */
export async function refuseSymlinks(root: string, path: string): Promise<void> {
  for (const at of componentsBelow(root, path)) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(at);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    if (info.isSymlink) throw symlinkRefused(at, root);
  }
}

/** {@linkcode refuseSymlinks}, synchronously (for a worker inside a synchronous training loop). */
export function refuseSymlinksSync(root: string, path: string): void {
  for (const at of componentsBelow(root, path)) {
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(at);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    if (info.isSymlink) throw symlinkRefused(at, root);
  }
}

/** The paths from the first component below `root` down to `path`; `ResultsError` when outside. */
function componentsBelow(root: string, path: string): string[] {
  const rel = relative(resolve(root), resolve(path));
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new ResultsError(`${path} lies outside ${root}; bnlab writes only inside ${root}.`);
  }
  let at = root;
  return rel.split(sep).filter((p) => p !== "").map((part) => at = join(at, part));
}

function symlinkRefused(at: string, root: string): ResultsError {
  return new ResultsError(
    `${at} is a symbolic link. bnlab does not write through symbolic links under ${root}, ` +
      `since that could change files outside it; replace the link with a real folder or file ` +
      `(or remove it), or choose another folder.`,
  );
}

/**
 * Write `data` to `path` atomically: readers see the old bytes or the new
 * bytes, never a mix, even if the process is killed mid-write. Creates the
 * parent folder if needed.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteOptions = {},
): Promise<void> {
  if (options.root !== undefined) await refuseSymlinks(options.root, path);
  await Deno.mkdir(dirname(path), { recursive: true });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = temporaryName(path);
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    if (options.root !== undefined) await refuseSymlinks(options.root, path);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** {@linkcode writeFileAtomic}, synchronously. */
export function writeFileAtomicSync(
  path: string,
  data: Uint8Array | string,
  options: WriteOptions = {},
): void {
  if (options.root !== undefined) refuseSymlinksSync(options.root, path);
  Deno.mkdirSync(dirname(path), { recursive: true });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = temporaryName(path);
  const file = Deno.openSync(tmp, { write: true, createNew: true });
  try {
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    file.syncSync();
  } finally {
    file.close();
  }
  try {
    if (options.root !== undefined) refuseSymlinksSync(options.root, path);
    Deno.renameSync(tmp, path);
  } catch (err) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Already gone.
    }
    throw err;
  }
}

/** A fresh temporary sibling of `path` (`*.tmp-<pid>-<random>`, which studies clean up). */
function temporaryName(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
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

/**
 * Parse `text`, the contents of `path`, as JSON. A syntax error becomes the
 * error `fail` builds from `"<path> is not valid JSON (<parser's reason>)"`,
 * so every reader names the file, keeps its own error class and advice, and
 * never lets a bare `SyntaxError` (a stack trace) reach the user.
 *
 * @example
 * ```ts
 * import { parseJsonText } from "./fs.ts";
 * parseJsonText("a.json", '{"x":1}', (m) => new Error(m)); // { x: 1 }
 * ```
 */
export function parseJsonText(
  path: string,
  text: string,
  fail: (message: string) => Error,
): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(`${path} is not valid JSON (${(err as Error).message})`);
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
 * Take a lock on `folder` (creating it), or throw `ResultsError` naming the
 * process that holds it. The lock is an OS file lock on `folder/.lock`, so a
 * killed process never leaves a stale lock behind; the file records the
 * holder's PID and start time, and `previous` reports what a holder that died
 * without releasing it had written (for a note). An exclusive lock (the
 * default, one study per folder) excludes every other holder; `shared` locks
 * (the processes of one sharded or Slurm study, which each claim their own runs
 * with {@linkcode tryLockFile}) exclude only exclusive ones. With `root`, no
 * path component from below `root` to the lock file may be a symbolic link;
 * the lock file is opened without truncating it and checked to be the regular
 * file `lstat` saw, and only rewritten once it is held exclusively.
 */
export async function lockFolder(
  folder: string,
  purpose: string,
  root?: string,
  options: { shared?: boolean } = {},
): Promise<FolderLock & { previous?: string }> {
  const path = join(folder, ".lock");
  const file = await openLockFile(path, root);
  if (!(await file.tryLock(!options.shared))) {
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim() ||
      "another bnlab process";
    file.close();
    throw new ResultsError(
      `The results folder ${folder} is in use by ${holder}. Two studies must not write the ` +
        `same folder at once (the processes of one sharded or Slurm study share it); wait for ` +
        `it to finish, or choose another folder with --out.`,
    );
  }
  let previous: string | undefined;
  if (!options.shared) {
    previous = (await Deno.readTextFile(path).catch(() => "")).trim() || undefined;
    const note = new TextEncoder().encode(
      `${purpose} (pid ${Deno.pid}, started ${new Date().toISOString()})\n`,
    );
    await file.truncate(0);
    await file.write(note);
  }
  return {
    path,
    ...(previous ? { previous } : {}),
    async release() {
      if (!options.shared) await file.truncate(0).catch(() => {});
      await file.unlock().catch(() => {});
      file.close();
    },
  };
}

/**
 * Try to take an exclusive lock on the file `path` (created if needed, never
 * truncated); `undefined` when another process holds it. Used to claim one run
 * among processes that share a results folder.
 */
export async function tryLockFile(path: string, root?: string): Promise<FolderLock | undefined> {
  const file = await openLockFile(path, root);
  if (!(await file.tryLock(true))) {
    file.close();
    return undefined;
  }
  return {
    path,
    async release() {
      await file.unlock().catch(() => {});
      file.close();
    },
  };
}

async function openLockFile(path: string, root: string | undefined): Promise<Deno.FsFile> {
  if (root !== undefined) await refuseSymlinks(root, path);
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const opened = await file.stat();
  const seen = await Deno.lstat(path);
  if (!seen.isFile || !opened.isFile || seen.ino !== opened.ino || seen.dev !== opened.dev) {
    file.close();
    throw new ResultsError(
      `${path} is not a regular file (a symbolic link or something else); bnlab will not use it ` +
        `as its lock. Remove it and rerun.`,
    );
  }
  return file;
}
