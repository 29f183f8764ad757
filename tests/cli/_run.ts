/**
 * Running `main.ts` in a child process, as a user would through `deno task`,
 * for the CLI tests.
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { readRows } from "../../lib/store/records.ts";
import { TIMING_COLUMNS } from "../../lib/store/schema.ts";

/** Absolute path of the project's main.ts. */
export const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

/**
 * The permission flags of a deno.json task, as the task runs them, except
 * that `.` means the project root, `/tmp` may be read, and writes go only to
 * `writable` (the tests' temporary folder).
 */
export function taskPermissions(task: string, writable: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  // `$(printenv BNLAB_RESULTS || echo results)` grants the results root the
  // user chose; in tests the results live under `writable`.
  const command: string = config.tasks[task].command.replaceAll(
    "$(printenv BNLAB_RESULTS || echo results)",
    writable,
  );
  const home = Deno.env.get("HOME") ?? "";
  return command.split(/\s+/).filter((f) => f.startsWith("--allow-")).map((flag) => {
    const [name, value] = flag.split("=", 2) as [string, string | undefined];
    if (name === "--allow-write") return `--allow-write=${writable}`;
    if (name === "--allow-read" && value !== undefined) {
      const paths = value.split(",").map((p) => (p === "." ? ROOT : p.replace("$HOME", home)));
      return `--allow-read=${[...paths, "/tmp"].join(",")}`;
    }
    return flag.replace("$HOME", home);
  });
}

/** The permissions of `deno task study`, writing only to `writable`. */
export function studyPermissions(writable: string): string[] {
  return taskPermissions("study", writable);
}

/** Outcome of a finished command. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Start `deno run <permissions> main.ts <args>` in `cwd` (default: the project root). */
export function start(args: string[], permissions: string[], cwd?: string): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "--quiet", ...permissions, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    cwd: cwd ?? ROOT,
  }).spawn();
}

/** Run to completion. */
export async function runMain(
  args: string[],
  permissions: string[],
  cwd?: string,
): Promise<Finished> {
  const out = await start(args, permissions, cwd).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/**
 * The stored rows of a results folder (`runs.csv`, then `epochs.csv`) without
 * their time columns, one line each in stored order: what two studies of one
 * configuration must agree on byte for byte.
 */
export async function deterministicRows(dir: string): Promise<string> {
  const { runs, epochs } = await readRows(dir);
  return [...runs, ...epochs].map((r) =>
    Object.entries(r).filter(([k]) => !TIMING_COLUMNS.includes(k)).map(([k, v]) => `${k}=${v}`)
      .join(",")
  ).join("\n");
}
