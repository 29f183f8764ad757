/**
 * Which dataset each experiment trains on, resolved once in the main process
 * (including the MNIST → Fashion-MNIST fallback of specs that ask for it) and
 * passed to workers as a small serialisable reference.
 *
 * @module
 */
import { DATASETS } from "../data/datasets.ts";
import { DataError } from "../errors.ts";
import { type Dataset, findDataset, loadDataset, type LoadOptions } from "../data/load.ts";
import { syntheticDataset, type SyntheticOptions } from "../data/synthetic.ts";
import type { Spec } from "../spec.ts";

/** A dataset to open: files in a folder, or the generated test dataset. */
export type DatasetRef =
  | { kind: "files"; id: string; dir: string; requested: string }
  | { kind: "synthetic"; options: SyntheticOptions; requested: string };

/**
 * The dataset `spec` trains on: its own, or its fallback when the preferred
 * one is not on this machine (no download is attempted for a dataset that
 * has a fallback). With `synthetic`, the generated dataset replaces all;
 * `force` names the dataset to use regardless of the spec.
 * Throws `DataError` when no acceptable dataset is available.
 */
export async function resolveDataset(
  spec: Spec,
  options: LoadOptions & { synthetic?: SyntheticOptions; force?: string },
): Promise<{ ref: DatasetRef; dataset: Dataset }> {
  const requested = spec.dataset.id;
  if (options.synthetic || options.force === "synthetic") {
    const ref: DatasetRef = { kind: "synthetic", options: options.synthetic ?? {}, requested };
    return { ref, dataset: openDataset(ref) as Dataset };
  }
  if (options.force) {
    const info = DATASETS[options.force];
    if (!info) throw new DataError(`Unknown dataset "${options.force}".`);
    const dataset = await loadDataset(info, optionsFor(info.id, options));
    return { ref: { kind: "files", id: info.id, dir: dataset.source, requested }, dataset };
  }
  let info = DATASETS[requested]!;
  const found = spec.dataset.fallback
    ? await findDataset(info, optionsFor(info.id, options))
    : undefined;
  if (spec.dataset.fallback && found === undefined) info = DATASETS[spec.dataset.fallback]!;
  const dataset = await loadDataset(
    info,
    found ? { ...options, dataDir: found } : optionsFor(info.id, options),
  );
  return { ref: { kind: "files", id: info.id, dir: dataset.source, requested }, dataset };
}

/** `--data-dir` names the Fashion-MNIST folder; MNIST is found through MNIST_DIR or the cache. */
function optionsFor(id: string, options: LoadOptions): LoadOptions {
  if (id === "fashion-mnist" || options.dataDir === undefined) return options;
  const { dataDir: _, ...rest } = options;
  return rest;
}

/** Open a resolved reference (files are re-verified against their digests). */
export function openDataset(ref: DatasetRef): Dataset | Promise<Dataset> {
  if (ref.kind === "synthetic") return syntheticDataset(ref.options);
  return loadDataset(DATASETS[ref.id]!, { dataDir: ref.dir, download: false });
}
