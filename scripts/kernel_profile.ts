/**
 * Print where one variant's training step (and, with `--inference N`, an
 * inference pass over N images, like the per-epoch evaluation) spends its
 * time, kernel by kernel (`profileKernels` in lib/bench/kernels.ts), on the
 * native backend with one thread (as each study worker runs) or the one named.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-read=.,/usr/share/datasets --allow-sys=cpus --allow-env \
 *   --allow-ffi=/usr/lib/x86_64-linux-gnu/libdnnl.so.2,/usr/lib/x86_64-linux-gnu/libgomp.so.1 \
 *   scripts/kernel_profile.ts placement pre_bn [--profile quick] [--backend native] \
 *   [--threads 1] [--steps 10] [--inference 4000]
 * ```
 *
 * Exit codes: 0 done, 2 bad arguments (unknown experiment, variant or option).
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { parseArgs } from "node:util";
import { type BackendChoice, initBackend } from "../lib/backends/select.ts";
import { profileKernels } from "../lib/bench/kernels.ts";
import { loadSpec, type ProfileName, resolveRun } from "../lib/spec.ts";

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        profile: { type: "string", default: "quick" },
        backend: { type: "string", default: "native" },
        threads: { type: "string", default: "1" },
        steps: { type: "string", default: "10" },
        inference: { type: "string", default: "0" },
      },
    });
    const [experiment, variant] = positionals;
    if (!experiment || !variant || positionals.length > 2) {
      throw new Error("name an experiment and one of its variants, e.g. placement pre_bn");
    }
    const config = resolveRun(await loadSpec(experiment), variant, values.profile as ProfileName);
    const info = await initBackend(values.backend as BackendChoice, {
      threads: Number(values.threads),
    });
    const result = await profileKernels(config, {
      steps: Number(values.steps),
      inferenceImages: Number(values.inference),
    });
    const show = (rows: { name: string; ms: number; calls: number }[]) =>
      rows.map((k) =>
        `  ${k.name.padEnd(28)} ${k.ms.toFixed(2).padStart(8)} ms  (${k.calls} calls)`
      )
        .join("\n");
    console.log(
      `${experiment}/${variant} (${values.profile}) on ${info.name}, ${info.threads} thread(s), ` +
        `batch ${config.train.batchSize}: ${
          result.stepMs.toFixed(1)
        } ms per training step; kernels:`,
    );
    console.log(show(result.step));
    if (result.inference) {
      console.log(
        `inference over ${values.inference} images: ${result.inferenceMs!.toFixed(0)} ms; kernels:`,
      );
      console.log(show(result.inference));
    }
  } catch (err) {
    console.error(`kernel_profile: ${(err as Error).message}`);
    Deno.exit(2);
  }
}
