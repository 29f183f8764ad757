/**
 * `deno task bench`: training throughput of the six placement architectures
 * (exactly the shapes of `../shared/peer/torch_bench.py`), optionally beside
 * the PyTorch peer in the same invocation. A benchmark, not a timed test.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import { BACKEND_CHOICES, type BackendInfo, initBackend } from "../backends/select.ts";
import { type Measurement, measureTraining, median } from "../bench/measure.ts";
import { type PeerResult, runPeer } from "../bench/peer.ts";
import type { BenchReply, BenchRequest } from "../bench/worker.ts";
import { UsageError } from "../errors.ts";
import type { Layer } from "../models/types.ts";
import { loadSpec, resolveRun, type RunConfig } from "../spec.ts";
import { choiceOption, intOption, listOption, parseCommand, stringOption } from "./args.ts";

const USAGE = `Usage: deno task bench [options]

Measure training throughput (forward + backward + Adam step, batch 128, after
warm-up; median of repeats) of the placement architectures. For each one with
dropout whose dropout-free counterpart (the same layers without the dropout
layers) is also measured, it prints the ratio of their images/s in this run.

Options:
      --backend B       auto | native | wasm | cpu | tensorflow (default: auto)
      --threads T       threads per worker for native (default: number of cores)
      --workers K       train K copies side by side, one per worker, and report
                        the aggregate (default: 1, in this process)
      --arch NAME       architecture, repeatable (default: all six)
      --batches N       timed batches per repeat (default: 12)
      --repeats R       timed repeats (default: 3)
      --peer            also run the PyTorch peer (../shared/peer/torch_bench.py)
      --peer-script P   path of the peer script
      --json            one JSON line per architecture instead of a table
  -h, --help            show this help`;

const OPTIONS = {
  backend: { type: "string" },
  threads: { type: "string" },
  workers: { type: "string" },
  arch: { type: "string", multiple: true },
  batches: { type: "string" },
  repeats: { type: "string" },
  peer: { type: "boolean" },
  "peer-script": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const values = parseCommand("bench", argv, OPTIONS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const spec = await loadSpec("placement");
  const known = spec.variants.map((v) => v.name);
  const archs = listOption(values.arch);
  const unknown = archs.find((a) => !known.includes(a));
  if (unknown) {
    throw new UsageError(`Unknown architecture "${unknown}"; known: ${known.join(", ")}.`);
  }
  const backend = choiceOption("backend", values.backend, BACKEND_CHOICES, "auto");
  const cores = navigator.hardwareConcurrency;
  const workers = intOption("workers", values.workers, 1, { max: 64 });
  const threads = intOption("threads", values.threads, workers > 1 ? 1 : cores, { max: 256 });
  const steps = intOption("batches", values.batches, 12, { max: 10000 });
  const repeats = intOption("repeats", values.repeats, 3, { max: 100 });
  const options = { steps, repeats };
  const chosen = archs.length > 0 ? archs : known;
  const configs = chosen.map((a) => resolveRun(spec, a, "full"));

  let info = workers === 1 ? await initBackend(backend, { threads }) : undefined;
  const rows: Row[] = [];
  for (const config of configs) {
    let m: Measurement;
    if (workers === 1) m = measureTraining(config, options);
    else ({ m, info } = await measureOnWorkers(config, backend, threads, workers, options));
    rows.push({ arch: config.variant, m, layers: config.layers });
    if (!values.json) {
      console.error(`bench: ${config.variant} ${m.imagesPerSecond.toFixed(1)} images/s`);
    }
  }
  let peer: PeerResult[] | undefined;
  let peerNote: string | undefined;
  if (values.peer) {
    const script = stringOption(values["peer-script"]) ?? "../shared/peer/torch_bench.py";
    const outcome = await runPeer(script, chosen, workers > 1 ? threads * workers : threads, steps);
    if ("results" in outcome) peer = outcome.results;
    else peerNote = outcome.missing;
  }
  const name = info?.name ?? backend;
  print(rows, {
    backend: name,
    threads: info?.threads ?? threads,
    workers,
    library: info?.library,
    json: values.json === true,
  }, peer);
  if (peerNote) console.error(`bench: PyTorch peer not run: ${peerNote}`);
  return 0;
}

interface Row {
  arch: string;
  m: Measurement;
  layers: Layer[];
}

/** The layers without dropout, as a comparable string. */
function withoutDropout(layers: Layer[]): string {
  const strip = (ls: Layer[]): Layer[] =>
    ls.filter((l) => l.type !== "dropout").map((l) =>
      l.type === "residual" ? { ...l, body: strip(l.body) } : l
    );
  return JSON.stringify(strip(layers));
}

/**
 * For each measured architecture with dropout, its dropout-free counterpart
 * among `rows` (same layers once the dropout layers are removed), if measured.
 */
export function dropoutCounterparts(
  rows: readonly { arch: string; layers: Layer[] }[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of rows) {
    const stripped = withoutDropout(row.layers);
    if (stripped === JSON.stringify(row.layers)) continue;
    const twin = rows.find((r) => r !== row && JSON.stringify(r.layers) === stripped);
    if (twin) out.set(row.arch, twin.arch);
  }
  return out;
}

function print(
  rows: Row[],
  ctx: {
    backend: string;
    threads: number;
    workers: number;
    library?: string | undefined;
    json: boolean;
  },
  peer: PeerResult[] | undefined,
): void {
  const peerOf = (arch: string) => peer?.find((p) => p.arch === arch)?.images_per_s;
  const twins = dropoutCounterparts(rows);
  const rateOf = (arch: string) => rows.find((r) => r.arch === arch)!.m.imagesPerSecond;
  if (ctx.json) {
    for (const { arch, m } of rows) {
      const p = peerOf(arch);
      const twin = twins.get(arch);
      console.log(JSON.stringify({
        arch,
        backend: ctx.backend,
        images_per_s: round1(m.imagesPerSecond),
        threads: ctx.threads,
        workers: ctx.workers,
        samples: m.samples.map(round1),
        rss_mib: round1(m.rssMiB),
        ...(p !== undefined ? { torch_images_per_s: p, ratio: round3(m.imagesPerSecond / p) } : {}),
        ...(twin !== undefined
          ? { dropout_free: twin, dropout_ratio: round3(m.imagesPerSecond / rateOf(twin)) }
          : {}),
      }));
    }
    return;
  }
  const lib = ctx.library ? `, ${ctx.library}` : "";
  console.log(
    `backend ${ctx.backend}${lib}, ${ctx.workers} worker(s) x ${ctx.threads} thread(s), batch 128, ` +
      `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
  );
  const header = peer
    ? "| arch | images/s | PyTorch images/s | ratio | RSS MiB |"
    : "| arch | images/s | RSS MiB |";
  console.log(header);
  console.log(header.replace(/[^|]+/g, "---"));
  for (const { arch, m } of rows) {
    const p = peerOf(arch);
    const cells = peer
      ? [
        arch,
        m.imagesPerSecond.toFixed(1),
        p?.toFixed(1) ?? "-",
        p ? (m.imagesPerSecond / p).toFixed(2) : "-",
        m.rssMiB.toFixed(0),
      ]
      : [arch, m.imagesPerSecond.toFixed(1), m.rssMiB.toFixed(0)];
    console.log(`| ${cells.join(" | ")} |`);
  }
  if (twins.size > 0) {
    console.log("");
    console.log("| with dropout | without | images/s ratio |");
    console.log("|---|---|---|");
    for (const [arch, twin] of twins) {
      console.log(`| ${arch} | ${twin} | ${(rateOf(arch) / rateOf(twin)).toFixed(2)} |`);
    }
  }
}

/**
 * Train `workers` copies side by side; the aggregate is the sum of their rates.
 * Also returns the backend the workers started (for the table's header).
 */
async function measureOnWorkers(
  config: RunConfig,
  backend: BenchRequest["backend"],
  threads: number,
  workers: number,
  options: { steps: number; repeats: number },
): Promise<{ m: Measurement; info: BackendInfo }> {
  const replies = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<{ result: Measurement; info: BackendInfo }>((resolve, reject) => {
          const worker = new Worker(new URL("../bench/worker.ts", import.meta.url).href, {
            type: "module",
          });
          worker.onmessage = (e: MessageEvent<BenchReply>) => {
            worker.terminate();
            e.data.ok
              ? resolve(e.data)
              : reject(new Error(`bench worker failed: ${e.data.message}`));
          };
          worker.onerror = (e) => {
            e.preventDefault();
            worker.terminate();
            reject(new Error(`bench worker crashed: ${e.message}`));
          };
          worker.postMessage({ backend, threads, config, options } satisfies BenchRequest);
        }),
    ),
  );
  const results = replies.map((r) => r.result);
  const samples = results[0]!.samples.map((_, i) =>
    results.reduce((s, r) => s + (r.samples[i] ?? 0), 0)
  );
  const m = {
    imagesPerSecond: median(samples),
    samples,
    rssMiB: Deno.memoryUsage().rss / 2 ** 20,
    leakedTensors: results.reduce((n, r) => n + r.leakedTensors, 0),
  };
  return { m, info: replies[0]!.info };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
