/**
 * `deno task data`: find, or download into the user cache, the datasets the
 * experiments train on, check every file against its digest, and say where
 * each was found. A study does the same by itself; this command does it ahead
 * of time (on a login node with network before jobs on nodes without, or in
 * CI before the tests, which may not download).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { listSpecs, loadSpec } from "../spec.ts";
import { resolveDataset } from "../study/datasets.ts";
import { listOption, parseCommand, stringOption } from "./args.ts";

const USAGE = `Usage: deno task data [options]

Find the datasets the experiments train on (Fashion-MNIST, MNIST), or download
them into the user cache ($XDG_CACHE_HOME/bnlab or ~/.cache/bnlab); check every
file against its SHA-256; print where each dataset was found. Studies do this
by themselves; run it ahead of time where they will have no network.

Options:
  -e, --experiment NAME   only the datasets of these experiments, repeatable (default: all)
      --data-dir DIR      folder holding the four Fashion-MNIST files
  -h, --help              show this help

Exit status: 0 when every dataset is present and verified, 3 when one cannot be
found, fetched or verified (the message says what to do).`;

const OPTIONS = {
  experiment: { type: "string", short: "e", multiple: true },
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("data", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = listOption(values.experiment);
  const dataDir = stringOption(values["data-dir"]);
  const seen = new Map<string, string[]>();
  const sources = new Map<string, string>();
  for (const name of names.length ? names : await listSpecs()) {
    const spec = await loadSpec(name);
    const { dataset } = await resolveDataset(spec, dataDir ? { dataDir } : {});
    seen.set(dataset.id, [...(seen.get(dataset.id) ?? []), spec.name]);
    sources.set(
      dataset.id,
      `${dataset.source} (${dataset.train.count} training and ` +
        `${dataset.test.count} test images, SHA-256 verified)`,
    );
  }
  for (const [id, experiments] of seen) {
    console.log(`data: ${id} for ${experiments.join(", ")}: ${sources.get(id)}`);
  }
  return 0;
}
