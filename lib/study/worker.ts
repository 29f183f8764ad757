/**
 * Entry point of a study worker (a Deno Web Worker): start the requested
 * backend once, then execute the runs the main process sends, one at a time.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend } from "../backends/select.ts";
import { HarnessError } from "../errors.ts";
import { Executor } from "./execute.ts";
import type { FromWorker, ToWorker } from "./messages.ts";
import type { RunTimings } from "./run.ts";

let executor: Executor | undefined;

function send(message: FromWorker): void {
  self.postMessage(message);
}

function failure(err: unknown): { name: string; message: string; exitCode: number } {
  const e = err as Error;
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(err),
    exitCode: err instanceof HarnessError ? err.exitCode : 70,
  };
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "init") {
    try {
      const backend = await initBackend(message.backend, { threads: message.threads });
      executor = new Executor(
        { backend: backend.name, threads: backend.threads },
        message.datasets,
      );
      send({ type: "ready", backend });
    } catch (err) {
      send({ type: "failed", error: failure(err) });
    }
    return;
  }
  const { item } = message;
  try {
    if (!executor) throw new Error("worker received a run before init");
    let timings: RunTimings | undefined;
    const record = await executor.run(
      item,
      (metrics) => send({ type: "epoch", id: item.id, metrics }),
      (t) => timings = t,
    );
    send({ type: "done", id: item.id, record, timings: timings! });
  } catch (err) {
    send({ type: "failed", id: item.id, error: failure(err) });
  }
};
