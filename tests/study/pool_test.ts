import assert from "node:assert/strict";
import { DataError, HarnessError } from "../../lib/errors.ts";
import { loadSpec, resolveRun } from "../../lib/spec.ts";
import type { WorkItem } from "../../lib/study/messages.ts";
import { runPool } from "../../lib/study/pool.ts";

const spec = await loadSpec("lenet5");
const items: WorkItem[] = [1, 2].map((seed, id) => ({
  id,
  task: { config: resolveRun(spec, "bn", "smoke"), seed },
  // A folder that does not exist: opening the dataset fails inside the worker.
  dataset: {
    kind: "files",
    id: "fashion-mnist",
    dir: "/tmp/bnlab-no-such-folder",
    requested: "fashion-mnist",
  },
}));

for (const workers of [1, 2]) {
  Deno.test(`a failed run reaches the caller with its experiment, variant and seed, and its exit code (${workers} worker(s))`, async () => {
    await assert.rejects(
      () =>
        runPool(items, { workers, backend: "wasm", threads: 1 }, {
          onDone: () => Promise.resolve(),
        }),
      (err: unknown) => {
        assert.ok(err instanceof HarnessError, `not a HarnessError: ${err}`);
        assert.equal(err.exitCode, new DataError("").exitCode);
        assert.match(
          err.message,
          /^lenet5\/bn seed [12]: The Fashion-MNIST folder \/tmp\/bnlab-no-such-folder lacks /,
        );
        return true;
      },
    );
  });
}

for (const workers of [1, 2]) {
  Deno.test(`runs that do not fit are skipped and never started, and the pool ends (${workers} worker(s))`, async () => {
    const skipped: number[] = [];
    const started: number[] = [];
    // Every run would fail on its missing dataset if it started.
    await runPool(items, { workers, backend: "wasm", threads: 1, fits: () => false }, {
      onStart: (item) => started.push(item.id),
      onSkip: (item) => skipped.push(item.id),
      onDone: () => Promise.resolve(),
    });
    assert.deepEqual(started, []);
    assert.deepEqual(skipped.sort(), [0, 1]);
    // Only the first does not fit: the second starts (and fails on its dataset).
    await assert.rejects(
      () =>
        runPool(items, { workers, backend: "wasm", threads: 1, fits: (i) => i.id !== 0 }, {
          onDone: () => Promise.resolve(),
        }),
      /^Error: lenet5\/bn seed 2: |lenet5\/bn seed 2: /,
    );
  });
}

Deno.test("a stop abandons the runs in flight at their next batch, and the workers close before the pool rejects", async () => {
  // Full-size synthetic runs: each takes far longer than the test waits.
  const long = await loadSpec("placement");
  const work: WorkItem[] = [1, 2, 3].map((seed, id) => ({
    id,
    task: { config: resolveRun(long, "pre_bn", "quick"), seed },
    dataset: { kind: "synthetic", options: { train: 24_000, test: 1000 }, requested: "synthetic" },
  }));
  const stop = new AbortController();
  const reason = new Error("stop requested");
  const done: number[] = [];
  let stoppedAt = 0;
  await assert.rejects(
    () =>
      runPool(work, {
        workers: 2,
        backend: "wasm",
        threads: 1,
        stop: stop.signal,
        stopGraceMs: 120_000,
      }, {
        onBatch: () => {
          if (stoppedAt) return;
          stoppedAt = performance.now();
          stop.abort(reason);
        },
        onDone: (item) => {
          done.push(item.id);
          return Promise.resolve();
        },
      }),
    (err: unknown) => err === reason,
  );
  const seconds = (performance.now() - stoppedAt) / 1000;
  assert.ok(stoppedAt > 0, "no batch was ever reported");
  assert.deepEqual(done, [], "a run finished after the stop");
  // The workers left their runs and closed (a training batch takes well under a second)
  // long before the grace period would have had them terminated.
  assert.ok(seconds < 20, `the pool took ${seconds.toFixed(1)} s to stop`);
});
