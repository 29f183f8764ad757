/**
 * Finding and opening oneDNN 2.x (`libdnnl.so.2`), with a diagnosis a user
 * can act on when it is missing, unusable or not permitted.
 *
 * @module
 */
import { Dnnl } from "./dnnl.ts";
import { granted } from "./permissions.ts";

/** Environment variable naming the library file to use instead of the standard paths. */
export const DNNL_PATH_ENV = "BNLAB_DNNL_PATH";

/** Standard install locations of oneDNN 2.x on Linux (Debian/Ubuntu multiarch, RPM, source builds). */
export const STANDARD_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  "/usr/lib64/libdnnl.so.2",
  "/usr/lib/libdnnl.so.2",
  "/usr/local/lib/libdnnl.so.2",
];

/** A loaded library, or why none loaded. */
export type Loaded =
  | { ok: true; dnnl: Dnnl; path: string }
  | { ok: false; reason: string; short: string };

const INSTALL = "On Debian/Ubuntu install it with `sudo apt-get install libdnnl2`; for a copy " +
  `elsewhere set ${DNNL_PATH_ENV} to the full path of its libdnnl.so.2. macOS is not ` +
  "supported: Homebrew ships oneDNN 3, whose C API differs from the 2.x API used here. " +
  "Until then --backend wasm runs everywhere, about 3x slower.";

/** The library paths to try: the environment override if set (and readable), else the standard ones. */
export function candidatePaths(): string[] {
  let override: string | undefined;
  // Without --allow-env the override cannot be read (and is not prompted for); the standard paths remain.
  if (granted({ name: "env", variable: DNNL_PATH_ENV })) override = Deno.env.get(DNNL_PATH_ENV);
  if (override) return [override];
  return Deno.build.os === "linux" ? [...STANDARD_PATHS] : [];
}

/** Open the first oneDNN 2.x among {@linkcode candidatePaths}; never throws. */
export function loadDnnl(): Loaded {
  const paths = candidatePaths();
  if (paths.length === 0) {
    return {
      ok: false,
      short: `unsupported on ${Deno.build.os}`,
      reason: `The native backend needs oneDNN 2.x (libdnnl.so.2) on Linux, loaded through ` +
        `Deno's FFI; this is ${Deno.build.os}. ${INSTALL}`,
    };
  }
  const failures: string[] = [];
  const denied: string[] = [];
  for (const path of paths) {
    if (!granted({ name: "ffi", path })) {
      denied.push(path);
      continue;
    }
    let dnnl: Dnnl;
    try {
      dnnl = new Dnnl(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        denied.push(path);
      } else if (/symbol/i.test(firstLine(err))) {
        failures.push(`${path}: not the oneDNN 2.x C API (${firstLine(err)})`);
      } else failures.push(`${path}: ${firstLine(err)}`);
      continue;
    }
    const { major, minor, patch } = dnnl.version;
    if (major === 2) return { ok: true, dnnl, path };
    dnnl.close();
    failures.push(
      `${path}: oneDNN ${major}.${minor}.${patch}, but only the 2.x C API is supported`,
    );
  }
  if (denied.length > 0) {
    const dir = dirOf(denied[0]!);
    return {
      ok: false,
      short: "no --allow-ffi permission",
      reason: `The native backend loads oneDNN through Deno's FFI, which this process may not ` +
        `use for ${denied.join(", ")}${
          failures.length ? ` (others: ${failures.join("; ")})` : ""
        }` +
        `: run Deno with --allow-ffi, which may be scoped to the oneDNN and libgomp files, e.g. ` +
        `--allow-ffi=${denied[0]},${dir}/libgomp.so.1. Or use --backend wasm.`,
    };
  }
  return {
    ok: false,
    short: "oneDNN 2.x (libdnnl.so.2) not found",
    reason: `The native backend needs oneDNN 2.x (libdnnl.so.2, built with GNU OpenMP), and ` +
      `none loaded (${failures.join("; ")}). ${INSTALL}`,
  };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.trim();
}

/** The directory part of a file path. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : ".";
}
