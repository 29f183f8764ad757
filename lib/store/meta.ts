/**
 * `meta.json` of a results folder: the provenance of the latest study that
 * wrote it (tool and its git commit, UTC time, host, CPU, Deno, TF.js and
 * oneDNN versions, backend and threads, dataset digests, command line).
 * Dataset paths are not recorded (they are specific to one machine). Each
 * run's own record (`records.ts`) holds the environment that run used.
 * This module never imports TF.js.
 *
 * @module
 */
import { cpus } from "node:os";
import { z } from "zod";
import type { Dataset } from "../data/load.ts";
import { ResultsError } from "../errors.ts";
import { parseJsonText, readTextIfExists, writeFileAtomic } from "../fs.ts";
import { TOOL, VERSION } from "../version.ts";
import { resultPaths, type RunEnvironment } from "./records.ts";

/** Environment variable through which `deno task` passes the tool's git commit. */
export const COMMIT_ENV = "BNLAB_GIT";

const MetaSchema = z.strictObject({
  tool: z.string(),
  version: z.string(),
  /** `git describe --always --dirty --abbrev=40` of the tool, or "unknown". */
  commit: z.string(),
  /** When the study started, UTC (ISO 8601). */
  createdAt: z.string(),
  host: z.string().optional(),
  deno: z.string(),
  v8: z.string(),
  typescript: z.string(),
  tfjs: z.string(),
  backend: z.string(),
  threads: z.number(),
  library: z.string().optional(),
  cpu: z.strictObject({
    arch: z.string(),
    os: z.string(),
    cores: z.number(),
    model: z.string().optional(),
  }),
  experiment: z.string(),
  profile: z.string(),
  dataset: z.strictObject({
    requested: z.string(),
    id: z.string(),
    digests: z.record(z.string(), z.string()),
  }),
  command: z.array(z.string()),
});

/** Provenance of a results folder. */
export type StudyMeta = z.infer<typeof MetaSchema>;

/** The fields that must agree for rows to share a folder. */
const MUST_MATCH = ["profile", "experiment"] as const;

/** The backend facts `meta.json` records (a `BackendInfo` fits). */
export interface BackendFacts {
  name: string;
  threads: number;
  tfjs: string;
  library?: string | undefined;
}

/** Describe this process's environment for `meta.json`. */
export function describeEnvironment(
  backend: BackendFacts,
  run: {
    experiment: string;
    profile: string;
    dataset: Dataset;
    requested: string;
    command: string[];
  },
): StudyMeta {
  const host = hostName();
  return {
    tool: TOOL,
    version: VERSION,
    commit: toolCommit(),
    createdAt: new Date().toISOString(),
    ...(host ? { host } : {}),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    tfjs: backend.tfjs,
    backend: backend.name,
    threads: backend.threads,
    ...(backend.library ? { library: backend.library } : {}),
    cpu: describeCpu(),
    experiment: run.experiment,
    profile: run.profile,
    dataset: {
      requested: run.requested,
      id: run.dataset.id,
      digests: run.dataset.digests,
    },
    command: run.command,
  };
}

/**
 * Read and validate `meta.json` of `dir`, or `undefined` when there is none.
 * Throws `ResultsError` for invalid JSON or missing provenance fields.
 */
export async function readMeta(dir: string): Promise<StudyMeta | undefined> {
  const path = resultPaths(dir).meta;
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  const json = parseJsonText(path, text, (m) =>
    new ResultsError(
      `${m}; restore it from where the study ran, or rerun the study into a fresh folder.`,
    ));
  const parsed = MetaSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((i) =>
      `${i.path.join(".") || "(root)"}: ${i.message}`
    );
    throw new ResultsError(
      `${path} lacks provenance (${problems.join("; ")}); it was written by another version of ` +
        `bnlab or edited by hand. Restore it, or rerun the study into a fresh folder.`,
    );
  }
  return parsed.data;
}

/**
 * Write `meta` to `dir`, after checking that rows already in the folder came
 * from a compatible environment. Throws `ResultsError` naming the difference.
 */
export async function writeMeta(
  dir: string,
  meta: StudyMeta,
  hasRows: boolean,
  root: string,
): Promise<void> {
  const previous = await readMeta(dir);
  if (previous && hasRows) {
    for (const field of MUST_MATCH) {
      if (previous[field] !== meta[field]) {
        throw new ResultsError(
          `${dir} holds results with ${field} ${
            JSON.stringify(previous[field])
          }, but this study has ` +
            `${
              JSON.stringify(meta[field])
            }; results of different settings must not share a folder. ` +
            `Use --out for another folder, or move the old results away.`,
        );
      }
    }
    const before = JSON.stringify(previous.dataset.digests);
    if (before !== JSON.stringify(meta.dataset.digests)) {
      throw new ResultsError(
        `${dir} holds results made on other dataset files (${previous.dataset.id}) than this ` +
          `study's (${meta.dataset.id}); results of different data must not share a folder. Use ` +
          `--out for another folder, or move the old results away (when every run there is to be ` +
          `retrained, delete the folder and rerun).`,
      );
    }
  }
  await writeFileAtomic(resultPaths(dir).meta, JSON.stringify(meta, null, 2) + "\n", { root });
}

/** The environment of one run trained under `meta` (stored in its record). */
export function runEnvironment(meta: StudyMeta): RunEnvironment {
  return {
    tool: meta.tool,
    version: meta.version,
    commit: meta.commit,
    deno: meta.deno,
    tfjs: meta.tfjs,
    backend: meta.backend,
    threads: meta.threads,
    ...(meta.library ? { library: meta.library } : {}),
    arch: meta.cpu.arch,
    ...(meta.cpu.model ? { cpu: meta.cpu.model } : {}),
    ...(meta.host ? { host: meta.host } : {}),
    dataset: { id: meta.dataset.id, digests: meta.dataset.digests },
  };
}

/** The tool's git commit as `deno task` passed it, or "unknown". */
function toolCommit(): string {
  try {
    const value = Deno.env.get(COMMIT_ENV)?.trim();
    return value && /^[0-9a-f]{7,40}(-dirty)?$/.test(value) ? value : "unknown";
  } catch {
    return "unknown";
  }
}

function hostName(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined; // --allow-sys=hostname not granted
  }
}

/** This machine's CPU: architecture, OS, cores and (where permitted) model name. */
export function describeCpu(): StudyMeta["cpu"] {
  const cpu: StudyMeta["cpu"] = {
    arch: Deno.build.arch,
    os: Deno.build.os,
    cores: navigator.hardwareConcurrency,
  };
  try {
    // node:os needs only --allow-sys=cpus; Deno 2 refuses /proc/cpuinfo without -A.
    const model = cpus()[0]?.model?.trim();
    if (model) cpu.model = model;
  } catch {
    // Not permitted: the model name is optional.
  }
  return cpu;
}
