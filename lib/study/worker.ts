/**
 * Entry point of a study worker (a Deno Web Worker): start the requested
 * backend once, then execute the runs the main process sends, one at a time.
 * Asked to stop (a shared flag, then a `stop` message), it abandons its run at
 * the next training batch, says `stopped` and closes, so the main process
 * never exits while a worker is inside a native call.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend } from "../backends/select.ts";
import { Executor } from "./execute.ts";
import { describeFailure, type FromWorker, type ToWorker } from "./messages.ts";
import type { RunTimings } from "./run.ts";

let executor: Executor | undefined;
let stopFlag: Int32Array | undefined;

/** Thrown from a run's batch callback once the main process asks to stop. */
class Stopped extends Error {}

function send(message: FromWorker): void {
  self.postMessage(message);
}

function stopRequested(): boolean {
  return stopFlag !== undefined && Atomics.load(stopFlag, 0) !== 0;
}

/** Tell the main process this worker is out of its run, and close. */
function stop(): void {
  send({ type: "stopped" });
  self.close();
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "stop") return stop();
  if (message.type === "init") {
    stopFlag = message.stop;
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
        if (stopRequested()) throw new Stopped("stopped by the main process");
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
    if (stopRequested()) return stop();
    send({ type: "failed", id: item.id, error: describeFailure(err) });
  }
};
