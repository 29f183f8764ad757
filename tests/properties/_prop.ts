/**
 * Shared machinery of the property tests in `tests/properties/`: the
 * fast-check seed and run counts, registering one property per backend
 * (cpu, wasm, native), random data from a seed, and numeric comparisons.
 *
 * Seeds and depth. Every `fc.assert` uses a fixed seed, so a run is
 * reproducible; a failure prints fast-check's `{ seed, path }` and the command
 * to replay it. Two environment variables change this (read only where Deno
 * grants them, so the default test task, which does not, keeps the defaults):
 *
 * - `BNLAB_FC_SEED=<int>`: another fast-check seed;
 * - `BNLAB_DEEP=1`: about ten times as many runs and larger shapes.
 *
 * A deep sweep of this folder (about five minutes on two cores):
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/
 * ```
 *
 * Backends. `cpu` and `wasm` are separate TF.js backends; `native` is the
 * `wasm` backend with oneDNN kernels installed over some of its kernels
 * (`initNative`), so it cannot share an isolate with plain wasm: each topic
 * file runs cpu and wasm, and `native_test.ts` re-runs every topic file's
 * properties on native in an isolate of its own. When oneDNN cannot be
 * loaded, native tests are registered as ignored with the reason in their name.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { initBackend } from "../../lib/backends/select.ts";
import { initNative } from "../../lib/backends/native/init.ts";
import { rngAt } from "../../lib/rng.ts";

// ---------------------------------------------------------------------------
// Environment: seed and depth.

function readEnv(name: string): string | undefined {
  try {
    const state = Deno.permissions.querySync({ name: "env", variable: name }).state;
    return state === "granted" ? Deno.env.get(name) : undefined;
  } catch {
    return undefined;
  }
}

/** Default fast-check seed (any fixed integer; change it only deliberately). */
export const DEFAULT_FC_SEED = 20_250_003;

/** The fast-check seed of this run: `BNLAB_FC_SEED` if set and readable, else the default. */
export const FC_SEED: number = (() => {
  const raw = readEnv("BNLAB_FC_SEED");
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(value) ? value : DEFAULT_FC_SEED;
})();

/** Whether the slow, deeper sweep was asked for (`BNLAB_DEEP=1`). */
export const DEEP: boolean = readEnv("BNLAB_DEEP") === "1";

/** `quick` normally, `deep` under `BNLAB_DEEP=1`. */
export function depth<T>(quick: T, deep: T): T {
  return DEEP ? deep : quick;
}

function replayHint(): string {
  return `\nReplay with: BNLAB_FC_SEED=${FC_SEED}${DEEP ? " BNLAB_DEEP=1" : ""} deno test ` +
    "--allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus --allow-write=/tmp " +
    "--allow-ffi --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG," +
    "BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP tests/properties/<file> " +
    `(default seed ${DEFAULT_FC_SEED}; fast-check's { seed, path } above pins the failing case)`;
}

/** `fc.assert` with this run's seed and `runs` runs (ten times as many when deep). */
export function check<Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts>,
  runs: number,
  extra: Partial<fc.Parameters<Ts>> = {},
): void {
  try {
    fc.assert(property, { seed: FC_SEED, numRuns: depth(runs, runs * 10), ...extra });
  } catch (err) {
    throw new Error(`${(err as Error).message}${replayHint()}`, { cause: err });
  }
}

/** {@linkcode check} for async properties. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  runs: number,
  extra: Partial<fc.Parameters<Ts>> = {},
): Promise<void> {
  try {
    await fc.assert(property, { seed: FC_SEED, numRuns: depth(runs, runs * 10), ...extra });
  } catch (err) {
    throw new Error(`${(err as Error).message}${replayHint()}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// Backends.

/** A backend the properties run on. */
export type Backend = "cpu" | "wasm" | "native";

/** Every backend, reference first. */
export const BACKENDS: readonly Backend[] = ["cpu", "wasm", "native"];
/** The backends compared against `cpu`. */
export const ACCELERATED: readonly Backend[] = ["wasm", "native"];

/**
 * Backends this isolate registers tests for. A topic file alone runs cpu and
 * wasm; `native_test.ts` switches to native (after loading oneDNN) and then
 * imports the topic files. Native kernels write into the wasm heap, so native
 * runs in its own isolate (one per test file), where a native bug cannot
 * disturb the wasm tests.
 */
let selected: readonly Backend[] = ["cpu", "wasm"];
let native: { ok: true; library: string } | { ok: false; reason: string } | undefined;
let active: Backend | undefined;

/**
 * Load oneDNN in this isolate and register tests for `native` only from now
 * on. Returns the library, or why it is unavailable (then native tests are
 * registered as ignored, with the reason in their names).
 */
export async function enableNative(): Promise<
  { ok: true; library: string } | { ok: false; reason: string }
> {
  selected = ["native"];
  try {
    await initBackend("cpu");
    const result = await initNative({ threads: 1 });
    native = result.ok
      ? { ok: true, library: result.library }
      : { ok: false, reason: result.short };
  } catch (err) {
    native = { ok: false, reason: `initNative threw: ${(err as Error).message}` };
  }
  active = undefined;
  return native;
}

/** Make `backend` the active TF.js backend, starting it on first use. */
export async function useBackend(backend: Backend): Promise<void> {
  if (backend === active) return;
  if (backend === "cpu") {
    await initBackend("cpu");
  } else if (backend === "native") {
    if (!native?.ok) {
      throw new Error(`native backend unavailable: ${native?.reason ?? "not enabled"}`);
    }
    if (!(await tf.setBackend("wasm"))) throw new Error("cannot switch to native");
  } else {
    if (native) {
      throw new Error("this isolate runs native kernels on the wasm backend; no plain wasm here");
    }
    if (active === undefined || !tf.findBackend("wasm")) await initBackend("wasm");
    else if (!(await tf.setBackend("wasm"))) throw new Error("cannot switch to wasm");
  }
  active = backend;
}

/**
 * Register `name` once per backend in `backends` that this isolate runs
 * (see {@linkcode enableNative}), as `"<name> [<backend>]"`, with `backend`
 * active while `fn` runs. Native tests are ignored, visibly, when oneDNN is
 * unavailable. Fails when `fn` leaves tensors behind.
 */
export function backendTest(
  name: string,
  fn: (backend: Backend) => void | Promise<void>,
  backends: readonly Backend[] = BACKENDS,
): void {
  for (const backend of backends.filter((b) => selected.includes(b))) {
    const skip = backend === "native" && !native?.ok
      ? (native?.reason ?? "not enabled")
      : undefined;
    Deno.test({
      name: `${name} [${backend}]${skip ? ` (skipped: native unavailable: ${skip})` : ""}`,
      ignore: skip !== undefined,
      async fn() {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        await fn(backend);
        await useBackend(backend);
        const leaked = tf.memory().numTensors - before;
        if (leaked > 0) throw new Error(`${leaked} tensors leaked`);
      },
    });
  }
}

/** Run `fn` on `backend` and return what it returns; every tensor it creates is disposed. */
export async function on<T>(backend: Backend, fn: () => T): Promise<T> {
  await useBackend(backend);
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

// ---------------------------------------------------------------------------
// Random data.

/** `n` uniform values in [lo, hi) from the stream `seed/...path`. */
export function uniform(
  seed: number,
  n: number,
  lo = -1,
  hi = 1,
  ...path: (string | number)[]
): Float32Array {
  const rng = rngAt(seed, "prop", ...path);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.nextFloat();
  return out;
}

/** `n` integers in [lo, hi] (as float32) from the stream `seed/...path`. */
export function integers(
  seed: number,
  n: number,
  lo: number,
  hi: number,
  ...path: (string | number)[]
): Float32Array {
  const rng = rngAt(seed, "prop-int", ...path);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rng.nextInt(hi - lo + 1);
  return out;
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A float32 tensor of `shape` with uniform values in [lo, hi). */
export function randomTensor(
  seed: number,
  shape: number[],
  lo = -1,
  hi = 1,
  ...path: (string | number)[]
): tf.Tensor {
  return tf.tensor(uniform(seed, sizeOf(shape), lo, hi, ...path), shape, "float32");
}

/** The values of `t` as a fresh Float32Array (synchronously). */
export function values(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

// ---------------------------------------------------------------------------
// Comparisons.

/** Largest absolute value. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Norm-wise relative error max|a − e| / max|e| (0 when both are all zero).
 * Element-wise relative error is meaningless for sums with cancellation, so
 * kernels are compared relative to the largest magnitude of the reference.
 */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    diff = Math.max(diff, Number.isNaN(d) ? Infinity : d);
  }
  const scale = maxAbs(expected);
  return diff === 0 ? 0 : diff / (scale === 0 ? Number.MIN_VALUE : scale);
}

/** Assert {@linkcode relErr} ≤ `tol`. */
export function assertRelErr(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  const err = relErr(actual, expected);
  if (!(err <= tol)) {
    let at = 0;
    for (let i = 0; i < actual.length; i++) {
      if (
        Math.abs(actual[i]! - expected[i]!) > Math.abs(actual[at]! - expected[at]!) ||
        Number.isNaN(actual[i]!)
      ) at = i;
    }
    throw new Error(
      `${what}: relative error ${
        err.toExponential(3)
      } > ${tol} (length ${actual.length} vs ${expected.length}; ` +
        `worst at ${at}: ${actual[at]} vs ${expected[at]})`,
    );
  }
}

/** Assert |a − e| ≤ abs + rel·|e| element-wise. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { abs?: number; rel?: number },
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  const abs = tol.abs ?? 0;
  const rel = tol.rel ?? 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= abs + rel * Math.abs(e))) {
      throw new Error(`${what}: at ${i}, ${a} vs expected ${e} (tolerance abs ${abs}, rel ${rel})`);
    }
  }
}

/**
 * A tensor of any rank typed as the `Tensor4D` that `Model.forward` declares
 * (models built for flat inputs take [N, features]).
 */
export function batchOf(data: Float32Array | number[], shape: number[]): tf.Tensor4D {
  return tf.tensor(data, shape, "float32") as unknown as tf.Tensor4D;
}

/** Assert max|a − e| ≤ `bound` (an absolute bound derived by the caller). */
export function assertWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: number,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= bound)) {
      throw new Error(`${what}: at ${i}, ${actual[i]} vs ${expected[i]} (|diff| ${d} > ${bound})`);
    }
  }
}

/** Run `fn` in a `tf.tidy` scope and return its (non-tensor) result; every tensor it creates is disposed. */
export function scoped<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

/** Fail unless `a` and `b` hold the same float32 bits everywhere (any NaN equals any NaN). */
export function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length}, ${b.length})`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (ua[i] !== ub[i]) {
      throw new Error(
        `${what}: at ${i} of ${a.length}, ${a[i]} (0x${ua[i]!.toString(16)}) vs ${b[i]} (0x${
          ub[i]!.toString(16)
        })`,
      );
    }
  }
}
