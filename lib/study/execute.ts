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
import type { WorkItem } from "./messages.ts";
import type { RunRows } from "./run.ts";
import { executeRun, type RunEnvironment } from "./run.ts";

/** Runs work items; keeps the datasets it opened. */
export class Executor {
  readonly #datasets = new Map<string, Promise<Dataset>>();
  readonly #env: RunEnvironment;

  constructor(env: RunEnvironment) {
    this.#env = env;
  }

  /** Execute `item`, reporting each epoch to `onEpoch`. */
  async run(item: WorkItem, onEpoch?: (metrics: EpochMetrics) => void): Promise<RunRows> {
    const dataset = await this.#open(item.dataset);
    const { config, seed } = item.task;
    const modelDir = item.modelDir;
    return await executeRun(item.task, dataset, this.#env, {
      ...(onEpoch ? { onEpoch } : {}),
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
