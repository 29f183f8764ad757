/**
 * What the native (oneDNN) backend tests share: the backend set up once with
 * two threads, a test wrapper that lists a test as ignored, with the reason,
 * where oneDNN is not installed, and the error measure the kernels are held to.
 *
 * @module
 */
import assert from "node:assert/strict";
import { registerCpuKernels } from "../../lib/backends/cpu.ts";
import { initNative } from "../../lib/backends/native/init.ts";
import { registerKernelGradients } from "../../lib/backends/kernels/gradients.ts";

registerKernelGradients();
registerCpuKernels();

/** The result of loading oneDNN with two threads (once per test module). */
export const native = await initNative({ threads: 2 });

/** Whether oneDNN loaded, so the native tests can run. */
export const available: boolean = native.ok;

if (!native.ok) {
  // deno-lint-ignore no-console
  console.warn(`native tests skipped: ${native.short}`);
}

/** A test that runs only where oneDNN loaded; elsewhere it is listed as ignored, with the reason. */
export function nativeTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name: native.ok ? name : `${name} (skipped: ${native.short})`,
    ignore: !native.ok,
    fn,
  });
}

/** max|a − b| / max(1, max|b|): the error of `a` relative to the reference `b`. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
