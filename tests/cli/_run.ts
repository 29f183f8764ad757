/**
 * Running `main.ts` in a child process, as a user would through `deno task`,
 * for the CLI tests.
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";

/** Absolute path of the project's main.ts. */
export const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));

/** The permissions the study task grants, with writes redirected to `writable`. */
export function studyPermissions(writable: string): string[] {
  return [
    `--allow-read=${fromFileUrl(new URL("../../", import.meta.url))},/tmp,/usr/share/datasets`,
    `--allow-write=${writable}`,
    "--allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH",
    "--allow-ffi",
  ];
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
    ...(cwd ? { cwd } : { cwd: fromFileUrl(new URL("../../", import.meta.url)) }),
  }).spawn();
}

/** Run to completion. */
export async function runMain(args: string[], permissions: string[], cwd?: string): Promise<Finished> {
  const out = await start(args, permissions, cwd).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
