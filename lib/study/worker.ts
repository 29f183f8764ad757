/**
 * Entry point of a study worker (a Deno Web Worker): start the requested
 * backend once, then execute the runs the main process sends, one at a time.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend } from "../backends/select.ts";
import { Executor } from "./execute.ts";
import { describeFailure, type FromWorker, type ToWorker } from "./messages.ts";
import type { RunTimings } from "./run.ts";

let executor: Executor | undefined;

function send(message: FromWorker): void {
  self.postMessage(message);
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
      send({ type: "failed", error: describeFailure(err) });
    }
    return;
  }
  const { item } = message;
  try {
    if (!executor) throw new Error("worker received a run before init");
    let timings: RunTimings | undefined;
    let last = performance.now();
    const record = await executor.run(
      item,
      (metrics) => send({ type: "epoch", id: item.id, metrics }),
      (t) => timings = t,
      (epoch, fraction) => {
        // At most one message a second: enough for a live line, negligible for training.
        const now = performance.now();
        if (now - last < 1000) return;
        last = now;
        send({ type: "batch", id: item.id, epoch, fraction });
      },
      (text) => send({ type: "note", id: item.id, text }),
    );
    send(
      record
        ? { type: "done", id: item.id, record, timings: timings! }
        : { type: "suspended", id: item.id },
    );
  } catch (err) {
    send({ type: "failed", id: item.id, error: describeFailure(err) });
  }
};
