/**
 * Counters of native kernel calls and of calls passed to the wasm kernel
 * instead (shapes or attributes oneDNN or this backend does not cover), so
 * tests and benchmarks can see that the native path really ran.
 *
 * @module
 */

/** Calls of one kernel. */
export interface KernelCount {
  native: number;
  fallback: number;
}

const counts = new Map<string, KernelCount>();

function entry(kernel: string): KernelCount {
  let c = counts.get(kernel);
  if (!c) counts.set(kernel, c = { native: 0, fallback: 0 });
  return c;
}

/** Count one native execution of `kernel`. */
export function countNative(kernel: string): void {
  entry(kernel).native++;
}

/** Count one call of `kernel` handed to the wasm kernel. */
export function countFallback(kernel: string): void {
  entry(kernel).fallback++;
}

/** A copy of the counters, by kernel name. */
export function nativeKernelCounts(): Record<string, KernelCount> {
  return Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }]));
}

/** Reset every counter to zero. */
export function resetNativeKernelCounts(): void {
  counts.clear();
}
