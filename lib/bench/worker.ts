/**
 * A benchmark worker: starts a backend and measures one architecture when
 * asked, so several can train side by side (the multi-worker throughput).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BackendChoice, initBackend } from "../backends/select.ts";
import type { RunConfig } from "../spec.ts";
import { type MeasureOptions, measureTraining } from "./measure.ts";

/** Main → worker: measure `config` after starting `backend`. */
export interface BenchRequest {
  backend: BackendChoice;
  threads: number;
  config: RunConfig;
  options: MeasureOptions;
}

self.onmessage = async (event: MessageEvent<BenchRequest>) => {
  const { backend, threads, config, options } = event.data;
  try {
    await initBackend(backend, { threads });
    const started = performance.now();
    const result = measureTraining(config, options);
    self.postMessage({ ok: true, result, started, ended: performance.now() });
  } catch (err) {
    self.postMessage({ ok: false, message: (err as Error)?.message ?? String(err) });
  }
};
