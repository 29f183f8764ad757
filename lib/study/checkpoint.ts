/**
 * Checkpoints of unfinished runs: after every epoch a run in a study writes
 * its training state (`TrainState`: weights, Adam's moments, best epoch,
 * metrics so far) to `partial/<variant>.seed<seed>.<backend>.t<threads>.json`
 * in its results folder, atomically, so a run stopped by `--time-limit`,
 * Ctrl-C, a crash or a Slurm preemption continues from its last finished
 * epoch, with the same bytes as a run that never stopped. A checkpoint is
 * used only by the run whose configuration hash it names; the study deletes
 * it once the run's record is stored.
 *
 * The file is JSON: float32 arrays as base64 of their little-endian bytes,
 * non-finite numbers as the strings `NaN`, `Infinity` and `-Infinity`.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { parseJsonText, writeFileAtomicSync } from "../fs.ts";
import type { EpochMetrics, TrainState } from "../train/state.ts";
import { recordName, resultPaths } from "../store/records.ts";
import type { RunIdentity } from "../store/schema.ts";

/** Format tag of checkpoint files. */
export const CHECKPOINT_FORMAT = "bnlab-checkpoint-v1";

/** A number that may be `NaN` or infinite (a diverged run's losses, an unset best loss). */
const AnyNumber = z.union([
  z.number(),
  z.enum(["NaN", "Infinity", "-Infinity"]).transform(Number),
]);

/** A float32 array as base64 of its bytes. */
const Floats = z.base64().transform((text, ctx) => {
  const bytes = Uint8Array.fromBase64(text);
  if (bytes.length % 4 !== 0) {
    ctx.addIssue({ code: "custom", message: "byte length is not a multiple of 4" });
    return z.NEVER;
  }
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
});

const Count = z.number().int().min(0);

const MetricsSchema = z.strictObject({
  epoch: z.number().int().positive(),
  trainLoss: AnyNumber,
  trainAcc: AnyNumber,
  runningTrainLoss: AnyNumber,
  runningTrainAcc: AnyNumber,
  valLoss: AnyNumber,
  valAcc: AnyNumber,
  lr: AnyNumber,
  seconds: z.number().min(0),
}) satisfies z.ZodType<EpochMetrics, unknown>;

const SecondsSchema = z.number().min(0);

/** The on-disk shape of a checkpoint. */
export const CheckpointSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  /** The run's configuration hash (`config_hash` of the record it will become). */
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  run: z.strictObject({
    experiment: z.string(),
    variant: z.string(),
    seed: z.number().int(),
    profile: z.string(),
    backend: z.string(),
    threads: z.number().int().positive(),
  }),
  state: z.strictObject({
    epochs: z.array(MetricsSchema).min(1),
    step: Count,
    best: z.strictObject({
      epoch: Count,
      loss: AnyNumber,
      weights: z.array(Floats).optional(),
    }),
    weights: z.array(Floats),
    optimizer: z.strictObject({
      firstMoment: z.array(Floats),
      secondMoment: z.array(Floats),
      accBeta1: z.number(),
      accBeta2: z.number(),
      iterations: Count,
    }),
    phases: z.strictObject({
      train: SecondsSchema,
      validation: SecondsSchema,
      test: SecondsSchema,
    }),
    seconds: SecondsSchema,
  }),
});

/** A checkpoint as read. */
export type Checkpoint = z.output<typeof CheckpointSchema>;

/** What a checkpoint names besides its state. */
export type CheckpointRun = Checkpoint["run"];

/** Path of the checkpoint of run `key` in the results folder `dir`. */
export function checkpointPath(dir: string, key: RunIdentity): string {
  return join(resultPaths(dir).partial, recordName(key));
}

/**
 * Write the checkpoint of `run` atomically (synchronously: it is called
 * between two epochs of a synchronous training loop), refusing symbolic links
 * below `root` (`ResultsError`).
 */
export function writeCheckpoint(
  path: string,
  checkpoint: { configHash: string; run: CheckpointRun; state: TrainState },
  root: string,
): void {
  const { state } = checkpoint;
  const floats = (a: Float32Array) =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).toBase64();
  const number = (x: number) => Number.isFinite(x) ? x : String(x);
  const json = {
    format: CHECKPOINT_FORMAT,
    configHash: checkpoint.configHash,
    run: checkpoint.run,
    state: {
      epochs: state.epochs.map((e) => ({
        epoch: e.epoch,
        trainLoss: number(e.trainLoss),
        trainAcc: number(e.trainAcc),
        runningTrainLoss: number(e.runningTrainLoss),
        runningTrainAcc: number(e.runningTrainAcc),
        valLoss: number(e.valLoss),
        valAcc: number(e.valAcc),
        lr: number(e.lr),
        seconds: e.seconds,
      })),
      step: state.step,
      best: {
        epoch: state.best.epoch,
        loss: number(state.best.loss),
        ...(state.best.weights ? { weights: state.best.weights.map(floats) } : {}),
      },
      weights: state.weights.map(floats),
      optimizer: {
        firstMoment: state.optimizer.firstMoment.map(floats),
        secondMoment: state.optimizer.secondMoment.map(floats),
        accBeta1: state.optimizer.accBeta1,
        accBeta2: state.optimizer.accBeta2,
        iterations: state.optimizer.iterations,
      },
      phases: state.phases,
      seconds: state.seconds,
    },
  };
  writeFileAtomicSync(path, JSON.stringify(json) + "\n", { root });
}

/**
 * Read the checkpoint at `path` for a run whose configuration hash is
 * `configHash`: `{ state }` to resume from, `{ ignored }` with the reason when
 * the file is damaged or belongs to another configuration (the run then
 * starts from its first epoch and overwrites it), `undefined` when there is
 * none.
 */
export async function readCheckpoint(
  path: string,
  configHash: string,
): Promise<{ state: TrainState } | { ignored: string } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.NotCapable) throw err;
    return { ignored: `${path} could not be read (${(err as Error).message})` };
  }
  let json: unknown;
  try {
    json = parseJsonText(path, text, (m) => new Error(m));
  } catch (err) {
    return { ignored: (err as Error).message };
  }
  const parsed = CheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ignored: `${path} is not a valid checkpoint (${
        issue.path.join(".") || "file"
      }: ${issue.message})`,
    };
  }
  if (parsed.data.configHash !== configHash) {
    return { ignored: `${path} was written for another configuration of the run` };
  }
  const { state } = parsed.data;
  const epochs = state.epochs.map((e) => e.epoch);
  if (epochs.some((e, i) => e !== i + 1) || state.best.epoch > epochs.length) {
    return { ignored: `${path} has inconsistent epoch numbers` };
  }
  return { state };
}

/** Remove the checkpoint at `path`, if any. */
export async function removeCheckpoint(path: string): Promise<void> {
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}

/** File names of the checkpoints in the results folder `dir` (sorted; none when there is no `partial/`). */
export async function listCheckpoints(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(resultPaths(dir).partial)) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return names.sort();
}
