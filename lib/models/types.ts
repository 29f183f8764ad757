/**
 * The layer vocabulary of experiment specs, as zod schemas: the one source of
 * truth for both validation (`lib/spec.ts`) and the TypeScript types
 * (`z.infer`). A model is a list of layers applied in order to NHWC images;
 * `residual` nests a list of its own. `build.ts` compiles them.
 *
 * @module
 */
import { z } from "zod";

const positiveInt = z.number().int().positive();

/** Spatial padding of convolutions and pooling (TensorFlow semantics). */
export const PaddingSchema = z.enum(["same", "valid"]);
/** Spatial padding of convolutions and pooling (TensorFlow semantics). */
export type Padding = z.infer<typeof PaddingSchema>;

/** A 2-D convolution with bias; `dilation` > 1 needs `stride` 1. */
export const Conv2DLayerSchema = z.strictObject({
  type: z.literal("conv2d"),
  filters: positiveInt,
  kernel: positiveInt,
  stride: positiveInt.optional(),
  padding: PaddingSchema.optional(),
  dilation: positiveInt.optional(),
  bias: z.boolean().optional(),
  /** Keras-style L2 penalty λ·Σw² on the kernel, added to the loss. */
  l2: z.number().min(0).optional(),
});

/** A fully connected layer with bias on a flat [N, features] input. */
export const DenseLayerSchema = z.strictObject({
  type: z.literal("dense"),
  units: positiveInt,
  bias: z.boolean().optional(),
  /** Keras-style L2 penalty λ·Σw² on the kernel, added to the loss. */
  l2: z.number().min(0).optional(),
});

/** An element-wise activation. */
export const ActivationLayerSchema = z.strictObject({ type: z.enum(["relu", "tanh", "sigmoid"]) });

/** Max or average pooling; `stride` defaults to `size`. */
export const PoolLayerSchema = z.strictObject({
  type: z.enum(["maxpool", "avgpool"]),
  size: positiveInt.optional(),
  stride: positiveInt.optional(),
  padding: PaddingSchema.optional(),
});

/** Global average pooling (NHWC → NC) or flattening (NHWC → N·HWC). */
export const ReshapeLayerSchema = z.strictObject({ type: z.enum(["gap", "flatten"]) });

/**
 * Batch normalisation over every axis but the last. `momentum` is the weight
 * of the new batch statistic in the running averages (PyTorch convention:
 * running = (1 − momentum)·running + momentum·batch; Keras' 0.99 is 0.01 here).
 */
export const BatchNormLayerSchema = z.strictObject({
  type: z.literal("batchnorm"),
  momentum: z.number().gt(0).max(1).optional(),
  epsilon: z.number().positive().optional(),
});

/** Inverted dropout: zero each unit with probability `rate`, scale the rest by 1/(1 − rate). */
export const DropoutLayerSchema = z.strictObject({
  type: z.literal("dropout"),
  rate: z.number().min(0).lt(1),
});

/** Squeeze-and-excitation: channel gates sigmoid(W2·relu(W1·gap(x))) multiply x. */
export const SqueezeExciteLayerSchema = z.strictObject({
  type: z.literal("se"),
  /** Channel reduction of the bottleneck (units = max(1, channels / ratio)). */
  ratio: positiveInt.optional(),
});

/**
 * A residual block: `activation(body(x) + shortcut(x))`. The shortcut is the
 * identity (broadcasting a single input channel, as PyTorch does) or a 1x1
 * convolution (`projection`), the default when channel counts differ.
 */
export const ResidualLayerSchema = z.strictObject({
  type: z.literal("residual"),
  get body() {
    return z.array(LayerSchema).min(1);
  },
  shortcut: z.enum(["identity", "projection"]).optional(),
  activation: z.enum(["relu", "linear"]).optional(),
});

/** Any layer of a spec. */
export const LayerSchema = z.discriminatedUnion("type", [
  Conv2DLayerSchema,
  DenseLayerSchema,
  ActivationLayerSchema,
  PoolLayerSchema,
  ReshapeLayerSchema,
  BatchNormLayerSchema,
  DropoutLayerSchema,
  ResidualLayerSchema,
  SqueezeExciteLayerSchema,
]);

/** A 2-D convolution layer. */
export type Conv2DLayer = z.infer<typeof Conv2DLayerSchema>;
/** A dense layer. */
export type DenseLayer = z.infer<typeof DenseLayerSchema>;
/** An activation layer. */
export type ActivationLayer = z.infer<typeof ActivationLayerSchema>;
/** A pooling layer. */
export type PoolLayer = z.infer<typeof PoolLayerSchema>;
/** A reshaping layer. */
export type ReshapeLayer = z.infer<typeof ReshapeLayerSchema>;
/** A batch-norm layer. */
export type BatchNormLayer = z.infer<typeof BatchNormLayerSchema>;
/** A dropout layer. */
export type DropoutLayer = z.infer<typeof DropoutLayerSchema>;
/** A residual block. */
export type ResidualLayer = z.infer<typeof ResidualLayerSchema>;
/** A squeeze-and-excitation layer. */
export type SqueezeExciteLayer = z.infer<typeof SqueezeExciteLayerSchema>;
/** Any layer of a spec. */
export type Layer = z.infer<typeof LayerSchema>;

/** Weight initialisation: Keras' Glorot uniform, or PyTorch's default U(±1/√fan_in). */
export const InitSchemeSchema = z.enum(["glorot_uniform", "torch_default"]);
/** Weight initialisation scheme of a model. */
export type InitScheme = z.infer<typeof InitSchemeSchema>;

/** Model-wide settings a spec gives besides the layers. */
export const ModelSettingsSchema = z.strictObject({
  init: InitSchemeSchema,
  /** Default batch-norm momentum (PyTorch convention) and epsilon. */
  batchNorm: z.strictObject({
    momentum: z.number().gt(0).max(1),
    epsilon: z.number().positive(),
  }),
});
/** Model-wide settings a spec gives besides the layers. */
export type ModelSettings = z.infer<typeof ModelSettingsSchema>;

/** Model settings plus the number of output classes (logits), as the builder takes them. */
export type ModelOptions = ModelSettings & { classes: number };
