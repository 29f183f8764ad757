/**
 * Messages between the study's main process and its workers.
 *
 * @module
 */
import type { BackendChoice, BackendInfo } from "../backends/select.ts";
import { HarnessError } from "../errors.ts";
import type { EpochMetrics } from "../train/loop.ts";
import type { Dataset } from "../data/load.ts";
import type { DatasetRef } from "./datasets.ts";
import type { RunRows, RunTask, RunTimings } from "./run.ts";

/** A run as sent to a worker. */
export interface WorkItem {
  id: number;
  task: RunTask;
  dataset: DatasetRef;
  /** Folder to save the trained model into, if models are saved. */
  modelDir?: string;
  /**
   * Keep a checkpoint after every epoch at `path` (no symbolic link below
   * `root`) and resume from it; stop at an epoch boundary before `deadline`
   * (ms since the Unix epoch), if given.
   */
  checkpoint?: { path: string; root: string; deadline?: number };
}

/** A dataset the main process already opened and verified, sent to workers with its reference. */
export interface OpenedDataset {
  ref: DatasetRef;
  dataset: Dataset;
}

/** Main → worker. */
export type ToWorker =
  | {
    type: "init";
    backend: BackendChoice;
    threads: number;
    datasets: OpenedDataset[];
    /**
     * A shared flag the main process sets (with `Atomics`) to stop: the
     * worker abandons its run at the next training batch.
     */
    stop: Int32Array;
  }
  | { type: "run"; item: WorkItem }
  /** Abandon any run and close; answered with `stopped`. */
  | { type: "stop" };

/** Worker → main. */
export type FromWorker =
  | { type: "ready"; backend: BackendInfo }
  | { type: "epoch"; id: number; metrics: EpochMetrics }
  | { type: "batch"; id: number; epoch: number; fraction: number }
  | { type: "done"; id: number; record: RunRows; timings: RunTimings }
  | { type: "suspended"; id: number }
  | { type: "note"; id: number; text: string }
  | { type: "failed"; id?: number; error: FailureInfo }
  /** Out of any run (no native call in flight) and closing. */
  | { type: "stopped" };

/** What went wrong in a run, as it crosses from a worker to the main process. */
export interface FailureInfo {
  name: string;
  message: string;
  exitCode: number;
  stack?: string | undefined;
}

/** Describe any thrown value for the trip to the main process (exit 70 unless it is expected). */
export function describeFailure(err: unknown): FailureInfo {
  const e = err as Error;
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(err),
    exitCode: err instanceof HarnessError ? err.exitCode : 70,
    stack: e?.stack,
  };
}
