/**
 * The layer vocabulary of experiment specs. A model is a list of these,
 * applied in order to NHWC images; `residual` nests a list of its own.
 * `lib/spec.ts` validates specs into these types; `build.ts` compiles them.
 *
 * @module
 */

/** Spatial padding of convolutions and pooling (TensorFlow semantics). */
export type Padding = "same" | "valid";

/** A 2-D convolution with bias; `dilation` > 1 needs `stride` 1. */
export interface Conv2DLayer {
  type: "conv2d";
  filters: number;
  kernel: number;
  stride?: number;
  padding?: Padding;
  dilation?: number;
  bias?: boolean;
  /** Keras-style L2 penalty λ·Σw² on the kernel, added to the loss. */
  l2?: number;
}

/** A fully connected layer with bias on a flat [N, features] input. */
export interface DenseLayer {
  type: "dense";
  units: number;
  bias?: boolean;
  /** Keras-style L2 penalty λ·Σw² on the kernel, added to the loss. */
  l2?: number;
}

/** An element-wise activation. */
export interface ActivationLayer {
  type: "relu" | "tanh" | "sigmoid";
}

/** Max or average pooling; `stride` defaults to `size`. */
export interface PoolLayer {
  type: "maxpool" | "avgpool";
  size?: number;
  stride?: number;
  padding?: Padding;
}

/** Global average pooling (NHWC → NC) or flattening (NHWC → N·HWC). */
export interface ReshapeLayer {
  type: "gap" | "flatten";
}

/**
 * Batch normalisation over every axis but the last. `momentum` is the weight
 * of the new batch statistic in the running averages (PyTorch convention:
 * running = (1 − momentum)·running + momentum·batch; Keras' 0.99 is 0.01 here).
 */
export interface BatchNormLayer {
  type: "batchnorm";
  momentum?: number;
  epsilon?: number;
}

/** Inverted dropout: zero each unit with probability `rate`, scale the rest by 1/(1 − rate). */
export interface DropoutLayer {
  type: "dropout";
  rate: number;
}

/**
 * A residual block: `activation(body(x) + shortcut(x))`. The shortcut is the
 * identity (broadcasting a single input channel, as PyTorch does) or a 1x1
 * convolution (`projection`), the default when channel counts differ.
 */
export interface ResidualLayer {
  type: "residual";
  body: Layer[];
  shortcut?: "identity" | "projection";
  activation?: "relu" | "linear";
}

/** Squeeze-and-excitation: channel gates sigmoid(W2·relu(W1·gap(x))) multiply x. */
export interface SqueezeExciteLayer {
  type: "se";
  /** Channel reduction of the bottleneck (units = max(1, channels / ratio)). */
  ratio?: number;
}

/** Any layer of a spec. */
export type Layer =
  | Conv2DLayer
  | DenseLayer
  | ActivationLayer
  | PoolLayer
  | ReshapeLayer
  | BatchNormLayer
  | DropoutLayer
  | ResidualLayer
  | SqueezeExciteLayer;

/** Weight initialisation scheme of a model. */
export type InitScheme = "glorot_uniform" | "torch_default";

/** Model-wide settings a spec gives besides the layers. */
export interface ModelOptions {
  /** Kernel initialisation: Keras' Glorot uniform, or PyTorch's default U(±1/√fan_in). */
  init: InitScheme;
  /** Default batch-norm momentum (PyTorch convention) and epsilon. */
  batchNorm: { momentum: number; epsilon: number };
  /** Number of output classes (logits). */
  classes: number;
}
