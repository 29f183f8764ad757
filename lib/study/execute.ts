/**
 * Executing a work item inside a process or worker whose backend is started:
 * open (and cache) its dataset, run it, save the model if asked.
 *
 * @module
 */
import type { Dataset } from "../data/load.ts";
import { saveModel } from "../models/io.ts";
import type { EpochMetrics } from "../train/loop.ts";
import { type DatasetRef, openDataset } from "./datasets.ts";
import type { OpenedDataset, WorkItem } from "./messages.ts";
import { executeRun, type RunEnvironment, type RunRows, type RunTimings } from "./run.ts";

/** Runs work items; keeps the datasets it opened. */
export class Executor {
  readonly #datasets = new Map<string, Promise<Dataset>>();
  readonly #env: RunEnvironment;

  /**
   * `datasets`: datasets already opened (and verified) elsewhere, e.g. by the
   * main process; runs on them skip opening their files again.
   */
  constructor(env: RunEnvironment, datasets: readonly OpenedDataset[] = []) {
    this.#env = env;
    for (const { ref, dataset } of datasets) {
      this.#datasets.set(JSON.stringify(ref), Promise.resolve(dataset));
    }
  }

  /**
   * Execute `item`, reporting each epoch to `onEpoch`, each batch to
   * `onBatch`, a line worth showing (a resumed or restarted run) to `onNote`
   * and, at the end, the run's phase timings (dataset opening included) to
   * `onTimings`. Resolves to `undefined` when the run stopped at its
   * checkpoint's deadline.
   */
  async run(
    item: WorkItem,
    onEpoch?: (metrics: EpochMetrics) => void,
    onTimings?: (timings: RunTimings) => void,
    onBatch?: (epoch: number, fraction: number) => void,
    onNote?: (text: string) => void,
  ): Promise<RunRows | undefined> {
    const opening = performance.now();
    const dataset = await this.#open(item.dataset);
    const datasetSeconds = (performance.now() - opening) / 1000;
    const { config, seed } = item.task;
    const modelDir = item.modelDir;
    const what = `${config.experiment}/${config.variant} seed ${seed}`;
    return await executeRun(item.task, dataset, this.#env, {
      ...(item.checkpoint
        ? {
          checkpoint: {
            ...item.checkpoint,
            onResume: (epochs: number) =>
              onNote?.(`${what}: resumed after epoch ${epochs} from its checkpoint`),
            onIgnored: (reason: string) => onNote?.(`${what}: ${reason}; it starts from epoch 1`),
          },
        }
        : {}),
      ...(onEpoch ? { onEpoch } : {}),
      ...(onBatch ? { onBatch } : {}),
      ...(onTimings
        ? {
          onTimings: (t: RunTimings) =>
            onTimings({ ...t, dataset: datasetSeconds, total: t.total + datasetSeconds }),
        }
        : {}),
      ...(modelDir
        ? {
          onModel: (model) =>
            saveModel(model, modelDir, {
              experiment: config.experiment,
              variant: config.variant,
              seed,
              dataset: dataset.id,
              layers: config.layers,
              options: { ...config.model, classes: dataset.classes },
            }),
        }
        : {}),
    });
  }

  #open(ref: DatasetRef): Promise<Dataset> {
    const key = JSON.stringify(ref);
    let dataset = this.#datasets.get(key);
    if (!dataset) {
      dataset = Promise.resolve(openDataset(ref));
      this.#datasets.set(key, dataset);
    }
    return dataset;
  }
}
