/**
 * The fuzz suite's sandbox: a throw-away copy of the project (code, specs,
 * committed results, golden files and reports; the project's own deno.json
 * and `node_modules` serve it, so nothing large is copied) in which the real commands run as a user would run them, with the
 * permissions of their deno.json task narrowed to write only inside the copy.
 * Each case gets a fresh copy, so cases cannot affect each other.
 *
 * Invariants every case checks (`checkOutcome`):
 * - the exit code is one of the documented ones (README, "Exit codes") and
 *   never 70, the internal-error code;
 * - stderr holds no stack trace;
 * - a refusal (non-zero exit) prints an `error:` paragraph and leaves the
 *   copy exactly as it was: no file added, changed or removed.
 *
 * Seeds and depth: `BNLAB_FC_SEED` picks another fast-check seed,
 * `BNLAB_FC_RUNS=<n>` runs n cases per property instead of the default.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** What is copied into a sandbox (relative to the root). */
const COPIED = [
  "main.ts",
  "deno.json",
  "deno.lock",
  "README.md",
  "lib",
  "experiments",
  "golden",
  "results",
  "reports",
];

/** Exit codes the README documents. */
export const DOCUMENTED_EXIT_CODES: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
/** Exit code of an unexpected failure (a bug). */
export const INTERNAL_ERROR = 70;

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** fast-check runs per property: `BNLAB_FC_RUNS`, else `fallback`. */
export function fuzzRuns(fallback: number): number {
  const n = Number(readEnv("BNLAB_FC_RUNS"));
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** A fresh copy of the project. */
export class Sandbox {
  private constructor(readonly dir: string) {}

  /** Copy the project into a new temporary folder. */
  static async create(): Promise<Sandbox> {
    const dir = await Deno.makeTempDir({ prefix: "bnlab-fuzz-" });
    for (const entry of COPIED) await copy(join(ROOT, entry), join(dir, entry));
    return new Sandbox(dir);
  }

  /** Absolute path of `path` inside the copy. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /**
   * Run `deno run <task permissions> main.ts <command> <args>` in the copy;
   * writes are allowed only inside the copy.
   */
  async run(command: string, args: string[]): Promise<Outcome> {
    const permissions = sandboxPermissions(command, this.dir);
    const before = await this.snapshot();
    const out = await new Deno.Command("deno", {
      args: [
        "run",
        "--quiet",
        `--config=${join(ROOT, "deno.json")}`,
        ...permissions,
        join(this.dir, "main.ts"),
        command,
        ...args,
      ],
      cwd: this.dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const after = await this.snapshot();
    return {
      command: [command, ...args],
      code: out.code,
      stdout: decode(out.stdout),
      stderr: decode(out.stderr),
      changes: diff(before, after),
    };
  }

  /** Every file of the copy (node_modules excluded) with its SHA-256. */
  async snapshot(): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    const walk = async (dir: string) => {
      for await (const entry of Deno.readDir(dir)) {
        const path = join(dir, entry.name);
        const rel = relative(this.dir, path);
        if (rel === "node_modules") continue;
        if (entry.isDirectory) {
          files.set(rel + "/", "dir");
          await walk(path);
        } else if (entry.isSymlink) {
          files.set(rel, `symlink:${await Deno.readLink(path)}`);
        } else {
          files.set(rel, createHash("sha256").update(await Deno.readFile(path)).digest("hex"));
        }
      }
    };
    await walk(this.dir);
    return files;
  }

  /** Remove the copy. */
  async dispose(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** What a command did. */
export interface Outcome {
  command: string[];
  code: number;
  stdout: string;
  stderr: string;
  /** Paths added, removed or changed in the copy (directories end in "/"). */
  changes: string[];
}

/**
 * The permission flags of deno.json's task `command`, with `.` meaning the
 * copy (plus the real `node_modules` the copy links to) and every write
 * narrowed to the copy.
 */
function sandboxPermissions(command: string, dir: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  const task = config.tasks[command];
  // `$(printenv BNLAB_RESULTS || echo results)` grants the results root the user
  // chose; in the sandbox everything lives in the copy.
  const text: string = (typeof task === "string" ? task : task.command).replaceAll(
    "$(printenv BNLAB_RESULTS || echo results)",
    dir,
  );
  const home = readEnv("HOME") ?? "";
  return text.split(/\s+/).filter((f) => f.startsWith("--allow-")).map((flag) => {
    const [name, value] = flag.split("=", 2) as [string, string | undefined];
    if (name === "--allow-write") return `--allow-write=${dir}`;
    if (name === "--allow-read" && value !== undefined) {
      const paths = value.split(",").map((p) =>
        p === "." ? `${dir},${join(ROOT, "node_modules")}` : p.replace("$HOME", home)
      );
      return `--allow-read=${paths.join(",")}`;
    }
    return flag.replaceAll("$HOME", home);
  });
}

function diff(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [path, hash] of after) if (before.get(path) !== hash) changed.push(`+${path}`);
  for (const path of before.keys()) if (!after.has(path)) changed.push(`-${path}`);
  return changed.sort();
}

async function copy(from: string, to: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(from);
  } catch {
    return; // optional entries (e.g. no reports yet)
  }
  if (info.isDirectory) {
    await Deno.mkdir(to, { recursive: true });
    for await (const entry of Deno.readDir(from)) {
      if (entry.name.startsWith(".") && entry.name !== ".gitkeep") continue; // scratch folders
      await copy(join(from, entry.name), join(to, entry.name));
    }
  } else if (info.isFile) {
    await Deno.mkdir(dirname(to), { recursive: true });
    await Deno.copyFile(from, to);
  }
}

/**
 * Check the invariants every command must keep on hostile input; `expect`
 * narrows the allowed exit codes, `names` is text the message must contain
 * (the offending option or file). Failures print the command to replay.
 */
export function checkOutcome(
  outcome: Outcome,
  expect: { codes?: number[]; names?: string[]; mayWrite?: boolean } = {},
): void {
  const where =
    `\n  command: deno task ${outcome.command.map((a) => JSON.stringify(a)).join(" ")}` +
    `\n  exit: ${outcome.code}\n  stderr: ${outcome.stderr.trim().slice(0, 1500)}`;
  assert.notEqual(outcome.code, INTERNAL_ERROR, `internal error on hostile input${where}`);
  assert.ok(DOCUMENTED_EXIT_CODES.has(outcome.code), `undocumented exit code${where}`);
  if (expect.codes) assert.ok(expect.codes.includes(outcome.code), `unexpected exit code${where}`);
  assert.doesNotMatch(outcome.stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace on stderr${where}`);
  if (outcome.code !== 0) {
    assert.match(outcome.stderr, /^error: \S/m, `no error paragraph${where}`);
    for (const name of expect.names ?? []) {
      assert.ok(outcome.stderr.includes(name), `message does not name "${name}"${where}`);
    }
    if (!expect.mayWrite) {
      assert.deepEqual(outcome.changes, [], `files left behind or changed on error${where}`);
    }
  }
}

/** SHA-256 of every tracked input of the real project, to show the suite left it alone. */
export async function projectFingerprint(): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string) => {
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.isFile) hash.update(path).update(await Deno.readFile(path));
    }
  };
  for (const entry of COPIED) {
    const path = join(ROOT, entry);
    const info = await Deno.lstat(path).catch(() => undefined);
    if (info?.isDirectory) await walk(path);
    else if (info?.isFile) hash.update(path).update(await Deno.readFile(path));
  }
  return hash.digest("hex");
}
