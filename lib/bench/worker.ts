/**
 * A benchmark worker: starts a backend and measures one architecture when
 * asked, so several can train side by side (the multi-worker throughput).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BackendChoice, type BackendInfo, initBackend } from "../backends/select.ts";
import type { RunConfig } from "../spec.ts";
import { type Measurement, type MeasureOptions, measureTraining } from "./measure.ts";

/** Main → worker: measure `config` after starting `backend`. */
export interface BenchRequest {
  backend: BackendChoice;
  threads: number;
  config: RunConfig;
  options: MeasureOptions;
}

/** Worker → main: the measurement and the backend that made it, or why it failed. */
export type BenchReply =
  | { ok: true; result: Measurement; info: BackendInfo }
  | { ok: false; message: string };

self.onmessage = async (event: MessageEvent<BenchRequest>) => {
  const { backend, threads, config, options } = event.data;
  try {
    const info = await initBackend(backend, { threads });
    const result = measureTraining(config, options);
    self.postMessage({ ok: true, result, info } satisfies BenchReply);
  } catch (err) {
    self.postMessage(
      { ok: false, message: (err as Error)?.message ?? String(err) } satisfies BenchReply,
    );
  }
};
