/**
 * Compile a spec's layer list into a TF.js model: variables for the weights
 * and a forward function. Weights are initialised from the run's random
 * stream (one sub-stream per layer path), so a model is a pure function of
 * (layers, options, seed).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { UsageError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import { type Fans, initBias, initKernel } from "./init.ts";
import { batchNormTrain, conv2d, conv2dBias, dropout, maxPool } from "./ops.ts";
import { inferShapes } from "./shapes.ts";
import type { InitScheme, Layer, ModelOptions } from "./types.ts";

/** A weight: trainable parameter or batch-norm running statistic. */
export interface Param {
  /** Stable name, `<layer path>/<role>`, e.g. `03.conv2d/kernel`. */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
  /** Keras-style L2 coefficient of this weight (0 for none). */
  l2: number;
}

/** How a forward pass behaves. */
export interface ForwardContext {
  /** Training mode: dropout active, batch norm uses and updates batch statistics. */
  training: boolean;
  /**
   * Evaluation pitfall: batch norm normalises with the batch's own statistics
   * (as when PyTorch's `model.eval()` is forgotten). Ignored in training.
   */
  batchStatsAtEval?: boolean;
  /**
   * The 128-bit dropout stream (`dropoutStream` in lib/rng.ts) of the layer at
   * `path` for this step, from which its mask is drawn; training only.
   */
  dropoutStream?: (path: string) => ArrayLike<number>;
  /**
   * In training mode, the weight of this batch's statistics in every
   * batch-norm layer's running averages instead of the layer's own momentum
   * (PyTorch convention: 1 replaces them). Recalibration uses it to turn the
   * running averages into an exact cumulative mean over several batches.
   */
  batchNormMomentum?: number;
}

/** A compiled model. */
export interface Model {
  /** Every weight, trainable first, in layer order. */
  readonly params: readonly Param[];
  /** The trainable variables, for the optimizer. */
  readonly trainable: tf.Variable[];
  /** Number of trainable scalars. */
  readonly paramCount: number;
  /** Logits [N, classes] for images [N, 28, 28, 1]. */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
  /** Σ λ·Σw² over weights with an L2 coefficient, or `undefined` if there are none. */
  l2Penalty(): tf.Scalar | undefined;
  /** Copies of every weight's current value. */
  snapshot(): tf.Tensor[];
  /** Restore values taken by `snapshot()` (does not dispose them). */
  restore(values: tf.Tensor[]): void;
  /** Free every variable. */
  dispose(): void;
}

/** Per-example shape flowing between layers: [H, W, C] or [features]. */
type Shape = number[];

interface Compiled {
  outShape: Shape;
  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

interface Env {
  scheme: InitScheme;
  options: ModelOptions;
  rngFor: (path: string) => Rng;
  params: Param[];
}

/**
 * Build a model for `layers`. `rngFor(path)` supplies the initialisation
 * stream of each layer. Throws `UsageError` when the layers do not fit
 * together (wrong rank, mismatched residual shapes, wrong output size).
 */
export function buildModel(
  layers: Layer[],
  options: ModelOptions,
  rngFor: (path: string) => Rng,
  inputShape: Shape = [28, 28, 1],
): Model {
  // Shapes first, without allocating anything: a layer list that cannot work
  // is a clear UsageError before any weight exists.
  inferShapes(layers, options.classes, "The model", inputShape);
  const env: Env = { scheme: options.init, options, rngFor, params: [] };
  const net = compileList(layers, inputShape, "", env);
  if (net.outShape.length !== 1 || net.outShape[0] !== options.classes) {
    throw new UsageError(
      `The model's output has shape [${net.outShape}], expected [${options.classes}] logits; ` +
        `end the layer list with {"type": "dense", "units": ${options.classes}}.`,
    );
  }
  const params = [
    ...env.params.filter((p) => p.trainable),
    ...env.params.filter((p) => !p.trainable),
  ];
  const trainable = params.filter((p) => p.trainable).map((p) => p.variable);
  const decayed = params.filter((p) => p.l2 > 0);
  return {
    params,
    trainable,
    paramCount: trainable.reduce((n, v) => n + v.size, 0),
    forward: (x, ctx) => net.forward(x, ctx) as tf.Tensor2D,
    l2Penalty: () =>
      decayed.length === 0
        ? undefined
        : tf.addN(decayed.map((p) => tf.mul(p.l2, tf.sum(tf.square(p.variable))))) as tf.Scalar,
    snapshot: () => params.map((p) => tf.clone(p.variable)),
    restore(values) {
      if (values.length !== params.length) throw new RangeError("Snapshot does not fit this model");
      params.forEach((p, i) => p.variable.assign(values[i]!));
    },
    dispose: () => params.forEach((p) => p.variable.dispose()),
  };
}

function compileList(layers: Layer[], inShape: Shape, prefix: string, env: Env): Compiled {
  const parts: Compiled[] = [];
  let shape = inShape;
  layers.forEach((layer, i) => {
    const path = `${prefix}${String(i).padStart(2, "0")}.${layer.type}`;
    const part = compileLayer(layer, shape, path, env);
    parts.push(part);
    shape = part.outShape;
  });
  return {
    outShape: shape,
    forward: (x, ctx) => parts.reduce((h, part) => part.forward(h, ctx), x),
  };
}

function compileLayer(layer: Layer, inShape: Shape, path: string, env: Env): Compiled {
  switch (layer.type) {
    case "conv2d":
      return convLayer(layer, inShape, path, env);
    case "dense":
      return denseLayer(layer.units, layer.bias ?? true, layer.l2 ?? 0, inShape, path, env);
    case "relu":
      return { outShape: inShape, forward: (x) => tf.relu(x) };
    case "tanh":
      return { outShape: inShape, forward: (x) => tf.tanh(x) };
    case "sigmoid":
      return { outShape: inShape, forward: (x) => tf.sigmoid(x) };
    case "maxpool":
    case "avgpool": {
      const [h, w, c] = spatial(inShape, path);
      const size = layer.size ?? 2;
      const stride = layer.stride ?? size;
      const padding = layer.padding ?? "valid";
      const info = tf.backend_util.computePool2DInfo([1, h, w, c], size, stride, 1, padding);
      const pool = layer.type === "maxpool" ? maxPool : tf.avgPool;
      return {
        outShape: [info.outHeight, info.outWidth, c],
        forward: (x) => pool(x as tf.Tensor4D, size, stride, padding),
      };
    }
    case "gap": {
      const [, , c] = spatial(inShape, path);
      return { outShape: [c], forward: (x) => tf.mean(x, [1, 2]) };
    }
    case "flatten": {
      const features = inShape.reduce((a, b) => a * b, 1);
      return { outShape: [features], forward: (x) => tf.reshape(x, [x.shape[0]!, features]) };
    }
    case "batchnorm":
      return batchNormLayer(layer.momentum, layer.epsilon, inShape, path, env);
    case "dropout":
      return dropoutLayer(layer.rate, inShape, path);
    case "residual":
      return residualLayer(layer, inShape, path, env);
    case "se":
      return squeezeExcite(layer.ratio ?? 16, inShape, path, env);
  }
}

function spatial(shape: Shape, path: string): [number, number, number] {
  if (shape.length !== 3) {
    throw new UsageError(`Layer ${path} needs an image input [H, W, C], got [${shape}].`);
  }
  return shape as [number, number, number];
}

function addParam(
  env: Env,
  name: string,
  shape: number[],
  values: Float32Array,
  trainable = true,
  l2 = 0,
): tf.Variable {
  const initial = tf.tensor(values, shape, "float32");
  const variable = tf.variable(initial, trainable);
  initial.dispose();
  env.params.push({ name, variable, trainable, l2 });
  return variable;
}

function convLayer(
  layer: Extract<Layer, { type: "conv2d" }>,
  inShape: Shape,
  path: string,
  env: Env,
): Compiled {
  const [h, w, c] = spatial(inShape, path);
  const { filters, kernel: k, stride = 1, padding = "same", dilation = 1, bias = true, l2 = 0 } =
    layer;
  if (dilation > 1 && stride > 1) {
    throw new UsageError(`Layer ${path}: a dilated convolution needs stride 1.`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    [1, h, w, c],
    [k, k, c, filters],
    stride,
    dilation,
    padding,
  );
  const fans: Fans = { fanIn: k * k * c, fanOut: k * k * filters };
  const rng = env.rngFor(path);
  const kernel = addParam(
    env,
    `${path}/kernel`,
    [k, k, c, filters],
    initKernel(k * k * c * filters, fans, env.scheme, rng),
    true,
    l2,
  );
  const b = bias
    ? addParam(env, `${path}/bias`, [filters], initBias(filters, fans, env.scheme, rng))
    : undefined;
  return {
    outShape: [info.outHeight, info.outWidth, filters],
    forward(x, ctx) {
      const x4 = x as tf.Tensor4D;
      if (!ctx.training && dilation === 1) {
        return tf.fused.conv2d({
          x: x4,
          filter: kernel as tf.Tensor4D,
          strides: stride,
          pad: padding,
          ...(b ? { bias: b } : {}),
        });
      }
      if (dilation === 1) {
        return conv2dBias(x4, kernel as tf.Tensor4D, b as tf.Tensor1D | undefined, stride, padding);
      }
      const y = conv2d(x4, kernel as tf.Tensor4D, stride, padding, dilation);
      return b ? tf.add(y, b) : y;
    },
  };
}

function denseLayer(
  units: number,
  bias: boolean,
  l2: number,
  inShape: Shape,
  path: string,
  env: Env,
): Compiled {
  if (inShape.length !== 1) {
    throw new UsageError(
      `Layer ${path} needs a flat input; add {"type": "flatten"} or {"type": "gap"} before it.`,
    );
  }
  const fanIn = inShape[0]!;
  const fans: Fans = { fanIn, fanOut: units };
  const rng = env.rngFor(path);
  const kernel = addParam(
    env,
    `${path}/kernel`,
    [fanIn, units],
    initKernel(fanIn * units, fans, env.scheme, rng),
    true,
    l2,
  );
  const b = bias
    ? addParam(env, `${path}/bias`, [units], initBias(units, fans, env.scheme, rng))
    : undefined;
  return {
    outShape: [units],
    forward: (x) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, ...(b ? { bias: b } : {}) }),
  };
}

function batchNormLayer(
  momentum: number | undefined,
  epsilon: number | undefined,
  inShape: Shape,
  path: string,
  env: Env,
): Compiled {
  const c = inShape[inShape.length - 1]!;
  const layerMomentum = momentum ?? env.options.batchNorm.momentum;
  const eps = epsilon ?? env.options.batchNorm.epsilon;
  const gamma = addParam(env, `${path}/gamma`, [c], new Float32Array(c).fill(1)) as tf.Tensor1D;
  const beta = addParam(env, `${path}/beta`, [c], new Float32Array(c)) as tf.Tensor1D;
  const runMean = addParam(env, `${path}/running_mean`, [c], new Float32Array(c), false);
  const runVar = addParam(env, `${path}/running_var`, [c], new Float32Array(c).fill(1), false);
  return {
    outShape: inShape,
    forward(x, ctx) {
      if (!ctx.training && !ctx.batchStatsAtEval) {
        return tf.batchNorm(x, runMean as tf.Tensor1D, runVar as tf.Tensor1D, beta, gamma, eps);
      }
      const { y, mean, variance } = batchNormTrain(x, gamma, beta, eps);
      if (ctx.training) {
        const mom = ctx.batchNormMomentum ?? layerMomentum;
        const m = x.size / c;
        runMean.assign(tf.add(tf.mul(runMean, 1 - mom), tf.mul(mean, mom)));
        runVar.assign(
          tf.add(tf.mul(runVar, 1 - mom), tf.mul(variance, (mom * m) / Math.max(1, m - 1))),
        );
      }
      return y;
    },
  };
}

function dropoutLayer(rate: number, inShape: Shape, path: string): Compiled {
  return {
    outShape: inShape,
    forward(x, ctx) {
      if (!ctx.training || rate === 0) return x;
      if (!ctx.dropoutStream) {
        throw new Error(`Dropout layer ${path} needs a mask stream in training`);
      }
      return dropout(x, ctx.dropoutStream(path), rate);
    },
  };
}

function residualLayer(
  layer: Extract<Layer, { type: "residual" }>,
  inShape: Shape,
  path: string,
  env: Env,
): Compiled {
  const [h, w, c] = spatial(inShape, path);
  const body = compileList(layer.body, inShape, `${path}/body/`, env);
  const [oh, ow, oc] = spatial(body.outShape, `${path}/body`);
  const kind = layer.shortcut ?? (oc === c ? "identity" : "projection");
  let shortcut: (x: tf.Tensor, ctx: ForwardContext) => tf.Tensor = (x) => x;
  if (kind === "identity") {
    if (oh !== h || ow !== w || (c !== oc && c !== 1)) {
      throw new UsageError(
        `Residual block ${path} maps [${inShape}] to [${body.outShape}]; an identity shortcut ` +
          `needs equal shapes (or one input channel), so use "shortcut": "projection".`,
      );
    }
  } else {
    if (h % oh !== 0 || w % ow !== 0 || h / oh !== w / ow) {
      throw new UsageError(
        `Residual block ${path}: cannot project [${inShape}] onto [${body.outShape}].`,
      );
    }
    const projection = convLayer(
      { type: "conv2d", filters: oc, kernel: 1, stride: h / oh, padding: "valid" },
      inShape,
      `${path}/shortcut`,
      env,
    );
    shortcut = projection.forward;
  }
  const relu = (layer.activation ?? "relu") === "relu";
  return {
    outShape: body.outShape,
    forward(x, ctx) {
      const sum = tf.add(body.forward(x, ctx), shortcut(x, ctx));
      return relu ? tf.relu(sum) : sum;
    },
  };
}

function squeezeExcite(ratio: number, inShape: Shape, path: string, env: Env): Compiled {
  const [, , c] = spatial(inShape, path);
  const units = Math.max(1, Math.floor(c / ratio));
  const squeeze = denseLayer(units, true, 0, [c], `${path}/squeeze`, env);
  const excite = denseLayer(c, true, 0, [units], `${path}/excite`, env);
  return {
    outShape: inShape,
    forward(x, ctx) {
      const s = tf.relu(squeeze.forward(tf.mean(x, [1, 2]), ctx));
      const gates = tf.sigmoid(excite.forward(s, ctx));
      return tf.mul(x, tf.reshape(gates, [x.shape[0]!, 1, 1, c]));
    },
  };
}
