/**
 * bnlab: a reproducibility-first harness for BatchNorm/Dropout placement
 * studies of small CNNs. This file only parses the command and dispatches;
 * every command lives in `lib/cli/`.
 *
 * Usage: deno task <study|verify|report|bench|compare|calibrate|status|data> [options]   (each has --help)
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { HarnessError, Interrupted } from "./lib/errors.ts";

const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  study: () => import("./lib/cli/study.ts"),
  verify: () => import("./lib/cli/verify.ts"),
  report: () => import("./lib/cli/report.ts"),
  bench: () => import("./lib/cli/bench.ts"),
  compare: () => import("./lib/cli/compare.ts"),
  calibrate: () => import("./lib/cli/calibrate.ts"),
  status: () => import("./lib/cli/status.ts"),
  data: () => import("./lib/cli/data.ts"),
};

const USAGE = `bnlab — BatchNorm & Dropout placement studies on Fashion-MNIST

Usage: deno task <command> [options]

Commands:
  study    train every experiment over N seeds and write CSV results
  verify   check stored or re-run results against the golden files
  report   compute the statistics and write the findings report
  bench    measure training throughput (optionally beside PyTorch)
  compare  the report's statistics on any two variants, results folders or CSV columns
  calibrate  simulate the decision rule's error rates (the README's calibration figures)
  status   runs done, diverged and missing per study, and Slurm array tasks
  data     find or download, and verify, the datasets the experiments use

Run \`deno task <command> --help\` for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`Unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")}.`);
    return 2;
  }
  const command = await load();
  return await command.run(rest);
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    code = reportError(err);
  }
  Deno.exit(code);
}

/** Print an error as one paragraph (a stack trace only for bugs, or with BNLAB_DEBUG=1). */
function reportError(err: unknown): number {
  if (err instanceof Interrupted) {
    console.error(err.message);
    return err.exitCode;
  }
  if (err instanceof HarnessError) {
    console.error(`error: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof Deno.errors.NotCapable) {
    console.error(
      `error: ${err.message.split("\n")[0]}. The deno tasks grant only the access each ` +
        `command needs (see deno.json); run through \`deno task\`, or add the permission.`,
    );
    return 2;
  }
  const debug = (() => {
    try {
      return Deno.env.get("BNLAB_DEBUG") === "1";
    } catch {
      return false;
    }
  })();
  console.error(
    `error: unexpected failure: ${(err as Error)?.message ?? String(err)}. This is a bug in ` +
      `bnlab; please report it${debug ? "" : " (set BNLAB_DEBUG=1 for the stack trace)"}.`,
  );
  if (debug) console.error((err as Error)?.stack);
  return 70;
}
