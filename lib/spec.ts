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
import { parseJsonText } from "./fs.ts";
import { canonicalJson, type Json, sha256Hex } from "./hash.ts";
import { type Layer, LayerSchema, ModelSettingsSchema } from "./models/types.ts";
import { EvaluationSchema, TrainingSchema } from "./train/settings.ts";

const positiveInt = z.number().int().positive();

const ProfileSchema = z.strictObject({
  /** Stratified subsample of the official training set before splitting (default: all). */
  pool: positiveInt.optional(),
  /** Stratified subsample of the official test set (default: all 10,000). */
  test: positiveInt.optional(),
  /** Multiplier of each variant's epoch budget (rounded, at least 1). */
  epochScale: z.number().positive().max(1).default(1),
  /** Cap on epochs after scaling. */
  maxEpochs: positiveInt.optional(),
  /**
   * Re-estimate batch-norm population statistics before every evaluation
   * (`evaluation.recalibrateBatchNorm`), for the variants it changes: those
   * with a batch-norm layer that evaluate with running statistics. Others
   * resolve exactly as without it, so their stored runs stay valid.
   */
  recalibrateBatchNorm: z.boolean().optional(),
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

/**
 * A variant as written in a spec file: either complete (`layers`), or a
 * change to an earlier-declared or later-declared variant (`extends`), with
 * `insert` (layers inserted after the listed 0-based positions of the parent's
 * layers, -1 for the very start), `replace` (the parent's layers at the listed
 * positions replaced by `layers`, an empty list removing them) and `training`
 * or `evaluation` overrides merged over the parent's.
 */
const VariantSourceSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  extends: z.string().optional(),
  layers: z.array(z.unknown()).optional(),
  insert: z.array(z.strictObject({
    after: z.union([z.number().int().min(-1), z.array(z.number().int().min(-1)).min(1)]),
    layers: z.array(z.unknown()).min(1),
  })).optional(),
  replace: z.array(z.strictObject({
    at: z.union([z.number().int().min(0), z.array(z.number().int().min(0)).min(1)]),
    layers: z.array(z.unknown()),
  })).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  evaluation: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Aspects of a protocol a deviation can concern, in the order the report lists them
 * (data first, then model, training, evaluation and the profile's own changes).
 */
export const DEVIATION_ASPECTS = [
  "dataset",
  "preprocessing",
  "split",
  "architecture",
  "initialiser",
  "batchnorm",
  "dropout",
  "regularisation",
  "optimiser",
  "lr_schedule",
  "augmentation",
  "epochs",
  "early_stopping",
  "evaluation",
  "metric",
  "profile",
] as const;
/** An aspect of a protocol a deviation can concern. */
export type DeviationAspect = (typeof DEVIATION_ASPECTS)[number];

/**
 * One difference between the seed study's protocol and bnlab's, or a choice bnlab made where
 * the seed leaves it open. Documentation only: it never changes what is trained.
 */
const DeviationSchema = z.strictObject({
  aspect: z.enum(DEVIATION_ASPECTS),
  /** What the seed does (quoted where useful), or that it does not say. */
  seed: z.string().min(1),
  /** What bnlab does instead, or the choice it makes. */
  bnlab: z.string().min(1),
  /** Why. */
  why: z.string().min(1),
  /** The seed leaves this open and `bnlab` states the choice made (rather than a change). */
  open: z.boolean().default(false),
  /** Profiles it applies to (default: every profile); e.g. the quick profile's subsample. */
  profiles: z.array(z.enum(["smoke", "quick", "full"])).min(1).optional(),
  /** Variants it concerns (default: every variant). */
  variants: z.array(z.string()).min(1).optional(),
  /** Metrics it bears on most directly, for the published-number cross-check (default: all). */
  metrics: z.array(z.enum(METRICS)).min(1).optional(),
});
/** One recorded deviation from a seed study's protocol. */
export type Deviation = z.output<typeof DeviationSchema>;

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
  model: ModelSettingsSchema,
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
  /**
   * Every deviation from the seed study's protocol, and every choice made where the seed leaves
   * one open (documentation, like `reproduces`: left out of the spec hash and of every run's
   * configuration).
   */
  deviations: z.array(DeviationSchema).default([]),
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
export const RunConfigSchema = z.strictObject({
  experiment: z.string(),
  variant: z.string(),
  profile: z.enum(["smoke", "quick", "full"]),
  dataset: SpecSchema.shape.dataset,
  split: z.strictObject({
    kind: z.enum(["stratified", "random"]),
    validation: z.number(),
    pool: positiveInt.optional(),
  }),
  /** Size of the stratified test subset, absent for the whole test set. */
  testCount: positiveInt.optional(),
  layers: z.array(LayerSchema),
  model: ModelSettingsSchema,
  train: TrainingSchema,
  eval: EvaluationSchema,
});
/** Everything one run needs, resolved from a spec, a variant and a profile. */
export type RunConfig = z.output<typeof RunConfigSchema>;

/**
 * A zod issue path as JSON-path text: `variants[2].layers[0].filters`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonPath } from "./spec.ts";
 * assert.equal(jsonPath(["questions", 1, "comparisons", 0, 1]), "questions[1].comparisons[0][1]");
 * ```
 */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : `${out === "" ? "" : "."}${String(part)}`;
  }
  return out || "(root)";
}

/**
 * Expand every variant that `extends` another into a complete variant (the
 * form the schema validates), leaving complete variants as they are.
 * Throws `UsageError` naming the JSON path for an unknown parent, a cycle,
 * a position outside the parent's layers, or a variant with neither
 * `layers` nor `extends`.
 */
export function expandVariants(json: unknown, source: string): unknown {
  if (
    !json || typeof json !== "object" || !Array.isArray((json as { variants?: unknown }).variants)
  ) {
    return json;
  }
  const raw = (json as { variants: unknown[] }).variants;
  const fail = (path: (string | number)[], message: string) =>
    new UsageError(
      `Malformed experiment spec ${source}: ${jsonPath(["variants", ...path])}: ${message}.`,
    );
  const sources = raw.map((v, i) => {
    const parsed = VariantSourceSchema.safeParse(v);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fail([i, ...(issue.path as (string | number)[])], issue.message);
    }
    if (parsed.data.extends === undefined && parsed.data.layers === undefined) {
      throw fail([i], `needs "layers" or "extends"`);
    }
    if (parsed.data.extends === undefined && (parsed.data.insert || parsed.data.replace)) {
      throw fail([i], `"insert" and "replace" need "extends"`);
    }
    return parsed.data;
  });
  const index = new Map(sources.map((v, i) => [v.name, i]));
  const done = new Map<number, Record<string, unknown>>();
  const expand = (i: number, chain: number[]): Record<string, unknown> => {
    const ready = done.get(i);
    if (ready) return ready;
    const v = sources[i]!;
    const { extends: parentName, insert, replace, ...own } = raw[i] as Record<string, unknown>;
    void insert, replace;
    if (parentName === undefined) {
      done.set(i, own);
      return own;
    }
    const p = index.get(v.extends!);
    if (p === undefined) {
      throw fail([i, "extends"], `no variant "${v.extends}"`);
    }
    if (chain.includes(p)) {
      throw fail([i, "extends"], `"${v.extends}" extends "${v.name}" in turn (a cycle)`);
    }
    const parent = expand(p, [...chain, i]);
    const base = parent.layers as unknown[];
    let layers: unknown[];
    if (v.layers !== undefined) {
      layers = v.layers;
    } else {
      const before = new Map<number, unknown[]>();
      const replaced = new Map<number, unknown[]>();
      v.insert?.forEach((op, k) => {
        for (const at of Array.isArray(op.after) ? op.after : [op.after]) {
          if (at >= base.length) {
            throw fail(
              [i, "insert", k, "after"],
              `position ${at} is past the last layer of "${v.extends}" (${base.length - 1})`,
            );
          }
          before.set(at, [...(before.get(at) ?? []), ...op.layers]);
        }
      });
      v.replace?.forEach((op, k) => {
        for (const at of Array.isArray(op.at) ? op.at : [op.at]) {
          if (at >= base.length) {
            throw fail(
              [i, "replace", k, "at"],
              `position ${at} is past the last layer of "${v.extends}" (${base.length - 1})`,
            );
          }
          if (replaced.has(at)) {
            throw fail([i, "replace", k, "at"], `position ${at} is replaced twice`);
          }
          replaced.set(at, op.layers);
        }
      });
      layers = [...(before.get(-1) ?? [])];
      base.forEach((layer, at) => {
        layers.push(...(replaced.get(at) ?? [layer]), ...(before.get(at) ?? []));
      });
    }
    const merged: Record<string, unknown> = { name: v.name, description: v.description, layers };
    for (const key of ["training", "evaluation"] as const) {
      const value = parent[key] === undefined && v[key] === undefined
        ? undefined
        : { ...(parent[key] as object | undefined), ...v[key] };
      if (value !== undefined) merged[key] = value;
    }
    done.set(i, merged);
    return merged;
  };
  return { ...json, variants: sources.map((_, i) => expand(i, [i])) };
}

/**
 * Validate parsed JSON as a spec. Throws `UsageError` listing each problem
 * with its path (e.g. `variants.2.layers.0.filters: expected number`), and
 * for unknown variant names in questions or published values.
 */
export function parseSpec(json: unknown, source: string): Spec {
  const result = SpecSchema.safeParse(expandVariants(json, source));
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((i) =>
      `${jsonPath(i.path)}: ${i.message}`
    );
    throw new UsageError(`Malformed experiment spec ${source}: ${problems.join("; ")}.`);
  }
  const spec = result.data;
  const fail = (path: (string | number)[], message: string) =>
    new UsageError(`Malformed experiment spec ${source}: ${jsonPath(path)}: ${message}.`);
  const names = new Set<string>();
  spec.variants.forEach((v, i) => {
    if (names.has(v.name)) throw fail(["variants", i, "name"], `variant "${v.name}" repeats`);
    names.add(v.name);
  });
  spec.questions.forEach((q, i) =>
    q.comparisons.forEach((pair, j) =>
      pair.forEach((name, k) => {
        if (!names.has(name)) {
          throw fail(["questions", i, "comparisons", j, k], `no variant named "${name}"`);
        }
      })
    )
  );
  spec.published.forEach((p, i) => {
    if (!names.has(p.variant)) {
      throw fail(["published", i, "variant"], `no variant named "${p.variant}"`);
    }
  });
  spec.deviations.forEach((d, i) =>
    d.variants?.forEach((name, k) => {
      if (!names.has(name)) {
        throw fail(["deviations", i, "variants", k], `no variant named "${name}"`);
      }
    })
  );
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
  const json = parseJsonText(path, text, (m) => new UsageError(`Malformed experiment spec ${m}.`));
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
 * The protocol `deviations` only document the spec, so they are left out too.
 */
export function specHash(spec: Spec): string {
  const questions = spec.questions.map(({ sesoi: _sesoi, ...q }) => q);
  const { deviations: _deviations, ...rest } = spec;
  return sha256Hex(canonicalJson({ ...rest, questions } as unknown as Json));
}

/**
 * The deviations of `spec` that apply to `profile`, and to `variant` when one is given,
 * in the spec's order.
 */
export function deviationsFor(spec: Spec, profile: ProfileName, variant?: string): Deviation[] {
  return spec.deviations.filter((d) =>
    (d.profiles === undefined || d.profiles.includes(profile)) &&
    (variant === undefined || d.variants === undefined || d.variants.includes(variant))
  );
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
  const train = { ...spec.training, ...v.training } as RunConfig["train"];
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
    eval: evaluationOf(spec, v, p),
  };
}

/** The evaluation settings of variant `v` under profile `p`. */
function evaluationOf(
  spec: Spec,
  v: Spec["variants"][number],
  p: Spec["profiles"][ProfileName],
): RunConfig["eval"] {
  const settings = { ...spec.evaluation, ...v.evaluation } as RunConfig["eval"];
  const recalibrate = (settings.recalibrateBatchNorm || p.recalibrateBatchNorm) &&
    !settings.batchStatsAtEval && hasBatchNorm(v.layers);
  // Only `true` is ever stored: without it a configuration resolves, and hashes, as before.
  delete settings.recalibrateBatchNorm;
  if (recalibrate) settings.recalibrateBatchNorm = true;
  return settings;
}

function hasBatchNorm(layers: readonly Layer[]): boolean {
  return layers.some((l) =>
    l.type === "batchnorm" || (l.type === "residual" && hasBatchNorm(l.body))
  );
}
