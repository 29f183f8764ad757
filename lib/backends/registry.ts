/**
 * Replacing TF.js kernels while remembering the ones shipped, so a
 * replacement can delegate to the original and tests can compare or restore.
 *
 * @module
 */
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";

const shipped = new Map<string, KernelConfig | null>();

function key(kernelName: string, backendName: string): string {
  return `${backendName}/${kernelName}`;
}

/**
 * Register `config`, replacing (without a warning) any kernel of that name and
 * backend. The shipped kernel's `setupFunc` still runs when the backend starts,
 * so a replacement can delegate to the shipped kernel.
 */
export function replaceKernel(config: KernelConfig): void {
  const k = key(config.kernelName, config.backendName);
  const current = getKernel(config.kernelName, config.backendName);
  if (!shipped.has(k)) shipped.set(k, current ?? null);
  if (current) unregisterKernel(config.kernelName, config.backendName);
  const setup = shipped.get(k)?.setupFunc;
  registerKernel(setup && !config.setupFunc ? { ...config, setupFunc: setup } : config);
}

/** The kernel TF.js shipped for this name and backend, even after `replaceKernel`. */
export function shippedKernel(kernelName: string, backendName: string): KernelFunc | undefined {
  const k = key(kernelName, backendName);
  const config = shipped.has(k) ? shipped.get(k) : getKernel(kernelName, backendName);
  return config?.kernelFunc;
}

/** Put the shipped kernel back (or remove the kernel if none shipped). */
export function restoreKernel(kernelName: string, backendName: string): void {
  const k = key(kernelName, backendName);
  if (!shipped.has(k)) return;
  if (getKernel(kernelName, backendName)) unregisterKernel(kernelName, backendName);
  const original = shipped.get(k);
  if (original) registerKernel(original);
  shipped.delete(k);
}
