/**
 * Shared fixtures of the training-loop tests: a generated dataset split as a
 * study splits it, and a small CNN with every kind of state the loop has.
 *
 * @module
 */
import { syntheticDataset } from "../../lib/data/synthetic.ts";
import type { Layer } from "../../lib/models/types.ts";
import { makeSplit } from "../../lib/splits.ts";
import type { RunData } from "../../lib/train/loop.ts";

/**
 * `RunData` over a generated dataset of `train` + `test` images: a stratified
 * 75/25 split of the training images drawn with `seed`, a training-evaluation
 * sample as large as the validation split, and the whole test set.
 */
export function syntheticRunData(train: number, test: number, seed: number): RunData {
  const dataset = syntheticDataset({ train, test });
  const split = makeSplit(dataset.train.labels, {
    kind: "stratified",
    validationFraction: 0.25,
    seed,
  });
  return {
    images: dataset.train.images,
    labels: dataset.train.labels,
    train: split.train,
    validation: split.validation,
    trainEval: split.train.subarray(0, split.validation.length),
    testImages: dataset.test.images,
    testLabels: dataset.test.labels,
    test: Uint32Array.from({ length: test }, (_, i) => i),
  };
}

/** Conv, batch norm, ReLU, max pooling, dropout and a dense classifier: every stateful or random layer kind. */
export const SMALL_CNN: Layer[] = [
  { type: "conv2d", filters: 4, kernel: 3 },
  { type: "batchnorm" },
  { type: "relu" },
  { type: "maxpool" },
  { type: "flatten" },
  { type: "dropout", rate: 0.3 },
  { type: "dense", units: 10 },
];
