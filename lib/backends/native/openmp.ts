/**
 * The OpenMP thread count of oneDNN. The Debian/Ubuntu oneDNN is built on GNU
 * OpenMP (libgomp), already loaded as its dependency; opening it again gives
 * the same instance, whose `omp_set_num_threads` fixes the number of threads
 * of parallel regions started from the calling thread (the JS thread making
 * every FFI call, so each worker sets its own).
 *
 * @module
 */

import { granted } from "./permissions.ts";

const SYMBOLS = {
  omp_set_num_threads: { parameters: ["i32"], result: "void" },
  omp_get_max_threads: { parameters: [], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The environment variable libgomp reads, once, when it loads. */
export const WAIT_POLICY_ENV = "OMP_WAIT_POLICY";

/**
 * Ask OpenMP threads to sleep rather than spin while waiting, unless the user
 * chose a policy: with other processes on the same cores (or two workers),
 * spinning threads stall each other several-fold, while passive waiting costs
 * nothing measurable on idle cores. Effective only before libgomp loads (i.e.
 * before oneDNN is opened); returns whether the policy is now passive. Never
 * throws or prompts (without `--allow-env` the default policy stays).
 */
export function preferPassiveWaiting(): boolean {
  if (!granted({ name: "env", variable: WAIT_POLICY_ENV })) return false;
  try {
    const current = Deno.env.get(WAIT_POLICY_ENV);
    if (current !== undefined) return current.toLowerCase() === "passive";
    Deno.env.set(WAIT_POLICY_ENV, "passive");
    return true;
  } catch {
    return false;
  }
}

/** Directories searched for libgomp after the one holding oneDNN. */
const GOMP_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
];

/** The libgomp paths tried, given the directory of oneDNN. */
export function gompCandidates(dnnlDir: string): string[] {
  return [...new Set([dnnlDir, ...GOMP_DIRS])].map((dir) => `${dir}/libgomp.so.1`);
}

/** Outcome of {@linkcode setOpenMpThreads}. */
export type ThreadsResult =
  | { ok: true; path: string }
  | { ok: false; denied: string[]; failures: string[] };

let gomp: { lib: Deno.DynamicLibrary<typeof SYMBOLS>; path: string } | undefined;

/**
 * Set the OpenMP thread count of this thread's parallel regions to `threads`,
 * through the first libgomp that loads (kept open for later calls). Reports
 * the paths FFI may not open (`denied`) and other failures instead of
 * throwing; throws `Error` only if the setting does not take.
 */
export function setOpenMpThreads(threads: number, dnnlDir: string): ThreadsResult {
  const denied: string[] = [];
  const failures: string[] = [];
  for (const path of gomp ? [] : gompCandidates(dnnlDir)) {
    if (!granted({ name: "ffi", path })) {
      denied.push(path);
      continue;
    }
    try {
      gomp = { lib: Deno.dlopen(path, SYMBOLS), path };
      break;
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  if (!gomp) return { ok: false, denied, failures };
  gomp.lib.symbols.omp_set_num_threads(threads);
  const got = gomp.lib.symbols.omp_get_max_threads();
  if (got !== threads) throw new Error(`omp_set_num_threads(${threads}) left ${got} threads`);
  return { ok: true, path: gomp.path };
}
