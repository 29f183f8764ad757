/**
 * Running a study's work items: in this process (`workers` = 1) or spread
 * over Web Workers, one run at a time each. Runs are independent and each is
 * deterministic, so the results do not depend on the number of workers; the
 * caller stores each record as it arrives (in completion order).
 *
 * @module
 */
import { type BackendChoice, type BackendInfo, initBackend } from "../backends/select.ts";
import { HarnessError } from "../errors.ts";
import type { EpochMetrics } from "../train/loop.ts";
import { Executor } from "./execute.ts";
import {
  describeFailure,
  type FailureInfo,
  type FromWorker,
  type OpenedDataset,
  type ToWorker,
  type WorkItem,
} from "./messages.ts";
import type { RunRows, RunTimings } from "./run.ts";

/** How to run the items. */
export interface PoolOptions {
  workers: number;
  backend: BackendChoice;
  /** Threads per worker for the native backend. */
  threads: number;
  /**
   * Datasets the caller already opened: handed to the runs (copied once into
   * each worker) instead of each worker reading and verifying the files again.
   */
  datasets?: OpenedDataset[];
  /**
   * Stop early when this signal aborts (Ctrl-C): no run is started after it,
   * runs in flight are abandoned at their next training batch (their workers
   * close; any still busy after `stopGraceMs` are terminated), writes already handed
   * to `onDone` finish, and the pool rejects with the signal's reason.
   * Runs then always go to workers, so this process stays free to notice it.
   */
  stop?: AbortSignal;
  /**
   * How long a stop (or a failed run) waits for the other workers to leave
   * their runs and close before terminating them (default 15,000 ms).
   */
  stopGraceMs?: number;
  /**
   * Asked when a worker is free, for the next item in order: an item for
   * which it returns false is not started (`onSkip`), and the next one is
   * asked instead (a time limit: only runs expected to finish in time start).
   */
  fits?: (item: WorkItem) => boolean;
}

/** Callbacks of a pool; `onDone` calls are serialised (never concurrent). */
export interface PoolEvents {
  /** The backend started (once); runs are dispatched after it resolves. */
  onBackend?(info: BackendInfo): Promise<void> | void;
  /** A worker (or, inline, this process) started its backend, taking `seconds`. */
  onWorkerReady?(seconds: number): void;
  onStart?(item: WorkItem): void;
  /** An item `fits` turned down; it is not run. */
  onSkip?(item: WorkItem): void;
  onEpoch?(item: WorkItem, metrics: EpochMetrics): void;
  /** Progress inside an epoch (at most about once a second per worker). */
  onBatch?(item: WorkItem, epoch: number, fraction: number): void;
  onDone(item: WorkItem, record: RunRows, timings: RunTimings): Promise<void>;
  /** A run stopped at its checkpoint's deadline, unfinished (its checkpoint continues it). */
  onSuspend?(item: WorkItem): void;
  /** A line about a run worth showing (resumed from a checkpoint, or a checkpoint ignored). */
  onNote?(item: WorkItem, text: string): void;
}

/** An expected failure of one run (bad input, data, backend), with its exit code. */
class RunFailure extends HarnessError {
  override readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** An unexpected failure of one run (a bug): `main.ts` reports it as such, exit 70. */
class RunCrash extends Error {
  constructor(message: string, stack: string | undefined) {
    super(message);
    this.name = "RunCrash";
    if (stack) this.stack = `${this.name}: ${message}\n${stack.split("\n").slice(1).join("\n")}`;
  }
}

/**
 * The error the user sees for a failed run: the same message it would have in
 * this process, prefixed with the run it belongs to, and the same exit code.
 */
export function runError(item: WorkItem, failure: FailureInfo): Error {
  const c = item.task.config;
  const message = `${c.experiment}/${c.variant} seed ${item.task.seed}: ${failure.message}`;
  return failure.exitCode === 70
    ? new RunCrash(message, failure.stack)
    : new RunFailure(message, failure.exitCode);
}

/** Execute `items`; resolves when all are stored, rejects on the first failure. */
export async function runPool(
  items: WorkItem[],
  options: PoolOptions,
  events: PoolEvents,
): Promise<void> {
  if (items.length === 0) return;
  if (options.workers <= 1 && !options.stop) return await runInline(items, options, events);
  return await runOnWorkers(items, options, events);
}

async function runInline(
  items: WorkItem[],
  options: PoolOptions,
  events: PoolEvents,
): Promise<void> {
  const starting = performance.now();
  const info = await initBackend(options.backend, { threads: options.threads });
  events.onWorkerReady?.((performance.now() - starting) / 1000);
  await events.onBackend?.(info);
  const executor = new Executor(
    { backend: info.name, threads: info.threads },
    options.datasets ?? [],
  );
  for (const item of items) {
    if (options.fits && !options.fits(item)) {
      events.onSkip?.(item);
      continue;
    }
    events.onStart?.(item);
    let record: RunRows | undefined;
    let timings: RunTimings | undefined;
    try {
      record = await executor.run(
        item,
        (m) => events.onEpoch?.(item, m),
        (t) => timings = t,
        undefined,
        (text) => events.onNote?.(item, text),
      );
    } catch (err) {
      throw runError(item, describeFailure(err));
    }
    if (record) await events.onDone(item, record, timings!);
    else events.onSuspend?.(item);
  }
}

function runOnWorkers(items: WorkItem[], options: PoolOptions, events: PoolEvents): Promise<void> {
  const queue = [...items];
  const byId = new Map(items.map((i) => [i.id, i]));
  const count = Math.min(options.workers, items.length);
  const workers: Worker[] = [];
  let remaining = items.length;
  let stored = Promise.resolve();
  let backendReady: Promise<void> | undefined;
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const closed = new Map<Worker, () => void>();
  const closing: Promise<void>[] = [];
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      options.stop?.removeEventListener("abort", onStop);
      stopWorkers().then(() => err === undefined ? resolve() : reject(err));
    };
    // Abandon the runs in flight, but let every write already started finish.
    const onStop = () => {
      queue.length = 0;
      stopWorkers().then(() => stored).then(() => finish(options.stop!.reason), finish);
    };
    /**
     * Ask every worker to leave its run and close, and wait until each says so
     * (at most `stopGraceMs`), then terminate them: exiting the process while
     * a worker is inside a native call can crash it (exit 139 for 130).
     */
    let stopping: Promise<void> | undefined;
    const stopWorkers = () =>
      stopping ??= (async () => {
        Atomics.store(stopFlag, 0, 1);
        workers.forEach((w) => w.postMessage({ type: "stop" } satisfies ToWorker));
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(closing),
          new Promise((resolve) => timer = setTimeout(resolve, options.stopGraceMs ?? 15_000)),
        ]);
        clearTimeout(timer);
        workers.forEach((w) => w.terminate());
      })();
    if (options.stop?.aborted) return onStop();
    options.stop?.addEventListener("abort", onStop);
    const running = new Map<Worker, WorkItem>();
    const dispatch = (worker: Worker) => {
      if (stopping) return;
      let item = queue.shift();
      while (item && options.fits && !options.fits(item)) {
        events.onSkip?.(item);
        remaining--;
        item = queue.shift();
      }
      running.delete(worker);
      if (!item) {
        // Nothing left to start; with nothing in flight either, the pool is done.
        if (remaining === 0) stored.then(() => finish(), finish);
        return;
      }
      running.set(worker, item);
      events.onStart?.(item);
      worker.postMessage({ type: "run", item } satisfies ToWorker);
    };
    for (let w = 0; w < count; w++) {
      const created = performance.now();
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      workers.push(worker);
      closing.push(new Promise((resolve) => closed.set(worker, resolve)));
      worker.onerror = (event) => {
        event.preventDefault();
        closed.get(worker)!();
        const failure = {
          name: "Error",
          message: `its worker crashed: ${event.message}`,
          exitCode: 70,
        };
        const item = running.get(worker);
        finish(
          item
            ? runError(item, failure)
            : new RunCrash(`A study worker crashed: ${event.message}`, undefined),
        );
      };
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        switch (message.type) {
          case "ready":
            events.onWorkerReady?.((performance.now() - created) / 1000);
            backendReady ??= Promise.resolve(events.onBackend?.(message.backend));
            backendReady.then(() => dispatch(worker), finish);
            break;
          case "epoch":
            events.onEpoch?.(byId.get(message.id)!, message.metrics);
            break;
          case "batch":
            events.onBatch?.(byId.get(message.id)!, message.epoch, message.fraction);
            break;
          case "done": {
            const item = byId.get(message.id)!;
            stored = stored.then(() => events.onDone(item, message.record, message.timings)).then(
              () => {
                if (--remaining === 0) finish();
              },
              finish,
            );
            dispatch(worker);
            break;
          }
          case "note":
            events.onNote?.(byId.get(message.id)!, message.text);
            break;
          case "suspended":
            events.onSuspend?.(byId.get(message.id)!);
            remaining--;
            dispatch(worker);
            break;
          case "stopped":
            closed.get(worker)!();
            break;
          case "failed": {
            const item = message.id === undefined ? undefined : byId.get(message.id);
            finish(
              item
                ? runError(item, message.error)
                : message.error.exitCode === 70
                ? new RunCrash(message.error.message, message.error.stack)
                : new RunFailure(message.error.message, message.error.exitCode),
            );
            break;
          }
        }
      };
      worker.postMessage(
        {
          type: "init",
          backend: options.backend,
          threads: options.threads,
          datasets: options.datasets ?? [],
          stop: stopFlag,
        } satisfies ToWorker,
      );
    }
  });
}
