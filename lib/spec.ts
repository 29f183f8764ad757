/**
 * Experiment specs: one JSON file per study in `experiments/`, validated by
 * one schema. A spec declares the dataset and split, the model family's
 * settings, training and evaluation settings, the profiles, the variants (as
 * layer lists, with optional overrides) and the research questions. Nothing
 * else in the harness knows about particular experiments.
 *
 * @module
 */
import { z } from "zod";
import { UsageError } from "./errors.ts";
import { canonicalJson, type Json, sha256Hex } from "./hash.ts";
import type { Layer, ModelOptions } from "./models/types.ts";
import type { EvalSettings, TrainSettings } from "./train/settings.ts";
import type { SplitKind } from "./splits.ts";

const positiveInt = z.number().int().positive();
const rate = z.number().min(0).lt(1);

/** One layer of a variant's layer list (also validates saved models' topology). */
export const LayerSchema: z.ZodType<Layer> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("conv2d"),
      filters: positiveInt,
      kernel: positiveInt,
      stride: positiveInt.optional(),
      padding: z.enum(["same", "valid"]).optional(),
      dilation: positiveInt.optional(),
      bias: z.boolean().optional(),
      l2: z.number().min(0).optional(),
    }),
    z.strictObject({
      type: z.literal("dense"),
      units: positiveInt,
      bias: z.boolean().optional(),
      l2: z.number().min(0).optional(),
    }),
    z.strictObject({ type: z.enum(["relu", "tanh", "sigmoid"]) }),
    z.strictObject({
      type: z.enum(["maxpool", "avgpool"]),
      size: positiveInt.optional(),
      stride: positiveInt.optional(),
      padding: z.enum(["same", "valid"]).optional(),
    }),
    z.strictObject({ type: z.enum(["gap", "flatten"]) }),
    z.strictObject({
      type: z.literal("batchnorm"),
      momentum: z.number().gt(0).max(1).optional(),
      epsilon: z.number().positive().optional(),
    }),
    z.strictObject({ type: z.literal("dropout"), rate }),
    z.strictObject({
      type: z.literal("residual"),
      body: z.array(LayerSchema).min(1),
      shortcut: z.enum(["identity", "projection"]).optional(),
      activation: z.enum(["relu", "linear"]).optional(),
    }),
    z.strictObject({ type: z.literal("se"), ratio: positiveInt.optional() }),
  ])
) as z.ZodType<Layer>;

const TrainingSchema = z.strictObject({
  optimizer: z.strictObject({
    type: z.literal("adam"),
    lr: z.number().positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
  batchSize: positiveInt,
  epochs: positiveInt,
  weightDecay: z.number().min(0).default(0),
  earlyStopping: z.strictObject({ patience: positiveInt, restoreBest: z.boolean() }).optional(),
  lrSchedule: z.strictObject({
    type: z.literal("step"),
    every: positiveInt,
    factor: z.number().positive(),
  }).optional(),
  augment: z.strictObject({
    rotation: z.number().min(0),
    shift: z.number().min(0).lt(0.5),
    flip: z.boolean(),
  }).optional(),
});

const EvaluationSchema = z.strictObject({
  batchSize: positiveInt,
  batchStatsAtEval: z.boolean().default(false),
});

const ProfileSchema = z.strictObject({
  /** Stratified subsample of the official training set before splitting (default: all). */
  pool: positiveInt.optional(),
  /** Stratified subsample of the official test set (default: all 10,000). */
  test: positiveInt.optional(),
  /** Multiplier of each variant's epoch budget (rounded, at least 1). */
  epochScale: z.number().positive().max(1).default(1),
  /** Cap on epochs after scaling. */
  maxEpochs: positiveInt.optional(),
});

/** Metrics a research question can compare (columns of runs.csv, plus derived ones). */
export const METRICS = [
  "test_acc",
  "test_loss",
  "val_acc",
  "val_loss",
  "train_acc",
  "train_loss",
  "running_train_acc",
  "running_train_loss",
  "gap",
  "best_epoch",
  "epochs_run",
  "acc_per_mparam",
] as const;
/** A metric a research question can compare. */
export type Metric = (typeof METRICS)[number];

const QuestionSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]+$/),
  question: z.string().min(1),
  metric: z.enum(METRICS),
  /** Which direction of the metric is better, for the verdict's wording. */
  better: z.enum(["higher", "lower"]),
  /**
   * Smallest effect size of interest δ, in the metric's stored units (0.005 = 0.5 pp of
   * accuracy, 1 = one epoch): differences inside ±δ count as equivalent.
   */
  sesoi: z.number().positive(),
  /** Pairs [a, b]: each tests mean(a) − mean(b). */
  comparisons: z.array(z.tuple([z.string(), z.string()])).min(1),
});

const VariantSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]+$/, "variant names are lowercase letters, digits and _"),
  description: z.string().min(1),
  layers: z.array(LayerSchema).min(1),
  training: TrainingSchema.partial().optional(),
  evaluation: EvaluationSchema.partial().optional(),
});

const SpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]+$/),
  title: z.string().min(1),
  /** What it reproduces (seed study), expected runtime, the exact command. */
  reproduces: z.string().min(1),
  runtime: z.string().min(1),
  command: z.string().min(1),
  dataset: z.strictObject({
    id: z.enum(["fashion-mnist", "mnist"]),
    /** Used when `id` is not available on this machine (recorded in the results). */
    fallback: z.enum(["fashion-mnist"]).optional(),
  }),
  split: z.strictObject({
    kind: z.enum(["stratified", "random"]),
    validation: z.number().gt(0).lt(1),
  }),
  model: z.strictObject({
    init: z.enum(["glorot_uniform", "torch_default"]),
    batchNorm: z.strictObject({
      momentum: z.number().gt(0).max(1),
      epsilon: z.number().positive(),
    }),
  }),
  training: TrainingSchema,
  evaluation: EvaluationSchema,
  profiles: z.strictObject({ smoke: ProfileSchema, quick: ProfileSchema, full: ProfileSchema }),
  variants: z.array(VariantSchema).min(1),
  questions: z.array(QuestionSchema).min(1),
  /** Numbers the seed study published, shown beside ours (with the profile stated). */
  published: z.array(z.strictObject({
    variant: z.string(),
    metric: z.enum(METRICS),
    value: z.number(),
    source: z.string().min(1),
  })).default([]),
  /** Targets the seed study set itself, e.g. "at least 88% test accuracy". */
  goals: z.array(z.strictObject({
    metric: z.enum(METRICS),
    atLeast: z.number(),
    source: z.string().min(1),
  })).default([]),
});

/** A validated experiment spec (defaults filled in). */
export type Spec = z.infer<typeof SpecSchema>;
/** One research question of a spec. */
export type Question = Spec["questions"][number];
/** A profile name. */
export const PROFILES = ["smoke", "quick", "full"] as const;
/** A profile name. */
export type ProfileName = (typeof PROFILES)[number];

/** Everything one run needs, resolved from a spec, a variant and a profile. */
export interface RunConfig {
  experiment: string;
  variant: string;
  profile: ProfileName;
  dataset: { id: "fashion-mnist" | "mnist"; fallback?: "fashion-mnist" };
  split: { kind: SplitKind; validation: number; pool?: number };
  /** Size of the stratified test subset, or `undefined` for the whole test set. */
  testCount?: number;
  layers: Layer[];
  model: Omit<ModelOptions, "classes">;
  train: TrainSettings;
  eval: EvalSettings;
}

/**
 * Validate parsed JSON as a spec. Throws `UsageError` listing each problem
 * with its path (e.g. `variants.2.layers.0.filters: expected number`), and
 * for unknown variant names in questions or published values.
 */
export function parseSpec(json: unknown, source: string): Spec {
  const result = SpecSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((i) =>
      `${i.path.join(".") || "(root)"}: ${i.message}`
    );
    throw new UsageError(`Malformed experiment spec ${source}: ${problems.join("; ")}.`);
  }
  const spec = result.data;
  const names = new Set(spec.variants.map((v) => v.name));
  if (names.size !== spec.variants.length) {
    throw new UsageError(`Malformed experiment spec ${source}: variant names repeat.`);
  }
  const referenced = [
    ...spec.questions.flatMap((q) => q.comparisons.flat()),
    ...spec.published.map((p) => p.variant),
  ];
  const unknown = referenced.find((n) => !names.has(n));
  if (unknown) {
    throw new UsageError(`Malformed experiment spec ${source}: no variant named "${unknown}".`);
  }
  return spec;
}

/** Read and validate `experiments/<name>.json`; throws `UsageError` for unknown names or bad files. */
export async function loadSpec(name: string, dir = "experiments"): Promise<Spec> {
  const path = `${dir}/${name}.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      const known = await listSpecs(dir);
      throw new UsageError(`Unknown experiment "${name}"; known: ${known.join(", ")}.`);
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`Malformed experiment spec ${path}: ${(err as Error).message}.`);
  }
  const spec = parseSpec(json, path);
  if (spec.name !== name) {
    throw new UsageError(
      `Malformed experiment spec ${path}: its name is "${spec.name}", not "${name}".`,
    );
  }
  return spec;
}

/** Names of the specs in `dir`, sorted. */
export async function listSpecs(dir = "experiments"): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name.slice(0, -5));
  }
  return names.sort();
}

/**
 * SHA-256 of the spec's canonical JSON: the identity of an experiment's definition.
 * A question's smallest effect size of interest (`sesoi`) only changes how results are
 * judged, never what is trained, so it is left out: tuning it keeps stored results valid.
 */
export function specHash(spec: Spec): string {
  const questions = spec.questions.map(({ sesoi: _sesoi, ...q }) => q);
  return sha256Hex(canonicalJson({ ...spec, questions } as unknown as Json));
}

/**
 * Resolve the run settings of `variant` under `profile`. Throws `UsageError`
 * for an unknown variant.
 */
export function resolveRun(spec: Spec, variant: string, profile: ProfileName): RunConfig {
  const v = spec.variants.find((x) => x.name === variant);
  if (!v) {
    throw new UsageError(
      `Experiment ${spec.name} has no variant "${variant}"; variants: ${
        spec.variants.map((x) => x.name).join(", ")
      }.`,
    );
  }
  const p = spec.profiles[profile];
  const train = { ...spec.training, ...v.training } as TrainSettings;
  const scaled = Math.max(1, Math.round(train.epochs * p.epochScale));
  train.epochs = Math.min(scaled, p.maxEpochs ?? scaled);
  return {
    experiment: spec.name,
    variant,
    profile,
    dataset: spec.dataset,
    split: {
      kind: spec.split.kind,
      validation: spec.split.validation,
      ...(p.pool ? { pool: p.pool } : {}),
    },
    ...(p.test ? { testCount: p.test } : {}),
    layers: v.layers,
    model: spec.model,
    train,
    eval: { ...spec.evaluation, ...v.evaluation } as EvalSettings,
  };
}
