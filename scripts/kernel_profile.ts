/**
 * Print where one variant's training step (and, with `--inference N`, an
 * inference pass over N images, like the per-epoch evaluation) spends its
 * time, kernel by kernel (`profileKernels` in lib/bench/kernels.ts), on the
 * native backend with one thread (as each study worker runs) or the one named.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-read=. --allow-sys=cpus --allow-env=BNLAB_DEBUG,BNLAB_DNNL_PATH,OMP_WAIT_POLICY \
 *   --allow-ffi=/usr/lib/x86_64-linux-gnu/libdnnl.so.2,/usr/lib/x86_64-linux-gnu/libgomp.so.1 \
 *   scripts/kernel_profile.ts placement pre_bn [--profile quick] [--backend native] \
 *   [--threads 1] [--steps 10] [--inference 4000]
 * ```
 *
 * Exit codes: 0 done, 2 bad arguments (unknown experiment, variant, option or
 * value), and the harness's own codes (lib/errors.ts) for other failures, 1
 * for anything unexpected.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice, initBackend } from "../lib/backends/select.ts";
import { profileKernels } from "../lib/bench/kernels.ts";
import { choiceOption, coresOption, intOption } from "../lib/cli/args.ts";
import { HarnessError, UsageError } from "../lib/errors.ts";
import { loadSpec, PROFILES, resolveRun } from "../lib/spec.ts";

/** Profile the variant `argv` names and print the table. Throws `UsageError` for bad arguments. */
async function main(argv: string[]): Promise<void> {
  const usage = "see the usage at the top of scripts/kernel_profile.ts";
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: Object.fromEntries(
        ["profile", "backend", "threads", "steps", "inference"].map((o) => [o, { type: "string" }]),
      ) as Record<string, { type: "string" }>,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${usage}.`);
  }
  const { values, positionals } = parsed;
  const [experiment, variant] = positionals;
  if (!experiment || !variant || positionals.length > 2) {
    throw new UsageError(
      `Name an experiment and one of its variants, e.g. placement pre_bn; ${usage}.`,
    );
  }
  const profile = choiceOption("profile", values.profile, PROFILES, "quick");
  const backend: BackendChoice = choiceOption("backend", values.backend, BACKEND_CHOICES, "native");
  const threads = coresOption("threads", values.threads, 1);
  const steps = intOption("steps", values.steps, 10);
  const inference = intOption("inference", values.inference, 0, { min: 0 });
  const config = resolveRun(await loadSpec(experiment), variant, profile);
  const info = await initBackend(backend, { threads });
  const result = await profileKernels(config, { steps, inferenceImages: inference });
  const show = (rows: { name: string; ms: number; calls: number }[]) =>
    rows.map((k) => `  ${k.name.padEnd(28)} ${k.ms.toFixed(2).padStart(8)} ms  (${k.calls} calls)`)
      .join("\n");
  console.log(
    `${experiment}/${variant} (${profile}) on ${info.name}, ${info.threads} thread(s), ` +
      `batch ${config.train.batchSize}: ${result.stepMs.toFixed(1)} ms per training step; kernels:`,
  );
  console.log(show(result.step));
  if (result.inference) {
    console.log(
      `inference over ${inference} images: ${result.inferenceMs!.toFixed(0)} ms; kernels:`,
    );
    console.log(show(result.inference));
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    console.error(`kernel_profile: ${(err as Error).message}`);
    Deno.exit(err instanceof HarnessError ? err.exitCode : 1);
  }
}
