/**
 * The TF.js ops the layers need beyond tfjs-core's own: fused training-mode
 * batch normalisation with its gradient, a training convolution with its bias
 * in one kernel, max pooling whose gradient reuses the forward pass's argmax,
 * a dilated convolution whose gradient
 * TF.js lacks, and dropout whose mask is drawn inside its kernel. Kernels for the ops live in
 * `lib/backends/kernels/`, their gradients beside them (`gradients.ts` there,
 * registered by `initBackend()`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// The umbrella package registers tfjs-core's gradients (the core bundle alone has none).
import "@tensorflow/tfjs";
import { BATCH_NORM_TRAIN, type BatchNormAttrs } from "../backends/kernels/batch_norm.ts";
import { DROPOUT, type DropoutAttrs } from "../backends/kernels/dropout.ts";
import { CONV2D_BIAS, type ConvBiasAttrs } from "../backends/kernels/fused_conv.ts";
import { MAX_POOL_TRAIN, type MaxPoolTrainAttrs } from "../backends/kernels/max_pool_train.ts";
import { dropoutMask } from "../rng.ts";
import type { Padding } from "./types.ts";

/** Batch statistics and normalised output of a training-mode batch norm. */
export interface BatchNormResult {
  y: tf.Tensor;
  /** Per-channel batch mean. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance. */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalisation of `x` over all axes but the last. The
 * gradient flows through `y` only; `mean` and `variance` are statistics.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): BatchNormResult {
  const attrs: BatchNormAttrs = { epsilon };
  const [y, mean, variance] = tf.engine().runKernel(
    BATCH_NORM_TRAIN,
    { x, gamma, beta },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * Training-mode 2-D convolution (NHWC, filter HWIO, no dilation) plus `bias`
 * (if any): one `BnlabConv2D` kernel where the backend has it
 * (lib/backends/kernels/fused_conv.ts: the bits of `tf.conv2d` then `tf.add`,
 * with one tensor fewer on `native`), else those two ops.
 */
export function conv2dBias(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  stride: number,
  padding: Padding,
): tf.Tensor4D {
  if (!tf.getKernel(CONV2D_BIAS, tf.getBackend())) {
    const y = tf.conv2d(x, filter, stride, padding);
    return bias ? tf.add(y, bias) : y;
  }
  const attrs: ConvBiasAttrs = {
    strides: stride,
    pad: padding,
    dataFormat: "NHWC",
    dilations: [1, 1],
    dimRoundingMode: undefined,
  };
  return tf.engine().runKernel(
    CONV2D_BIAS,
    bias ? { x, filter, bias } : { x, filter },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/**
 * Max pooling of `x` (NHWC) as `tf.maxPool(x, size, stride, padding)`, value
 * and gradient, bit for bit. While a gradient is being recorded it runs the
 * `BnlabMaxPool` kernel where the backend has one
 * (lib/backends/kernels/max_pool_train.ts), whose gradient reuses the
 * forward pass's argmax instead of searching the windows again.
 */
export function maxPool(
  x: tf.Tensor4D,
  size: number,
  stride: number,
  padding: Padding,
): tf.Tensor4D {
  const taped = tf.engine().state.gradientDepth > 0;
  if (!taped || !tf.getKernel(MAX_POOL_TRAIN, tf.getBackend())) {
    return tf.maxPool(x, size, stride, padding);
  }
  const attrs: MaxPoolTrainAttrs = {
    filterSize: size,
    strides: stride,
    pad: padding,
    dimRoundingMode: undefined,
  };
  const [y] = tf.engine().runKernel(
    MAX_POOL_TRAIN,
    { x },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return y as tf.Tensor4D;
}

/**
 * 2-D convolution (NHWC, filter HWIO) that also trains with `dilation` > 1,
 * where tfjs-core's gradient refuses. Dilated gradients are computed with
 * forward convolutions: dX convolves dY with the spatially flipped filter
 * (channel axes swapped), dW convolves X transposed to [C, H, W, N] with dY
 * transposed to [OH, OW, N, O] as its filter, both with dilation d.
 * Throws `RangeError` for stride > 1 together with dilation > 1.
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  padding: Padding,
  dilation: number,
): tf.Tensor4D {
  if (dilation === 1) return tf.conv2d(x, filter, stride, padding);
  if (stride !== 1) throw new RangeError(`Dilated convolutions need stride 1, got ${stride}`);
  const op = tf.customGrad((...args: unknown[]) => {
    const [input, kernel, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([input, kernel]);
    return {
      value: tf.conv2d(input, kernel, 1, padding, "NHWC", dilation),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        return dilatedConvGrads(dy as tf.Tensor4D, xs, ws, padding, dilation);
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

function dilatedConvGrads(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  padding: Padding,
  d: number,
): [tf.Tensor4D, tf.Tensor4D] {
  const [kh, kw, ci, co] = w.shape;
  const info = tf.backend_util.computeConv2DInfo(x.shape, w.shape, 1, d, padding);
  const { top, bottom, left, right } = info.padInfo;
  const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
  const eh = info.effectiveFilterHeight;
  const ew = info.effectiveFilterWidth;
  const padT = eh - 1 - top;
  const padL = ew - 1 - left;
  const padB = x.shape[1] - 1 + eh - dy.shape[1] - padT;
  const padR = x.shape[2] - 1 + ew - dy.shape[2] - padL;
  const dx = tf.conv2d(dy, flipped, 1, [[0, 0], [padT, padB], [padL, padR], [0, 0]], "NHWC", d);
  const xT = tf.transpose(x, [3, 1, 2, 0]);
  const dyT = tf.transpose(dy, [1, 2, 0, 3]);
  const full = tf.conv2d(xT, dyT, d, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
  return [dx, dw as tf.Tensor4D];
}

/**
 * Inverted dropout of `x` with the mask of `stream` (a layer's 128-bit dropout
 * stream at one step, `dropoutStream` in lib/rng.ts) and `rate` in [0, 1):
 * each element is kept and scaled by 1/(1 − rate), or set to +0, as
 * `dropoutMask(stream, rate, x.size)` says. One fused kernel on cpu, wasm and
 * native (mask drawn and applied in one pass; the gradient reuses its packed
 * keep bits); on other backends the mask is built in TypeScript and
 * multiplied. Throws `RangeError` for a rate outside [0, 1).
 */
export function dropout(x: tf.Tensor, stream: ArrayLike<number>, rate: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`Dropout rate must be in [0, 1), got ${rate}`);
  const words = Array.from(stream, (w) => w >>> 0);
  if (!tf.getKernel(DROPOUT, tf.getBackend())) {
    return tf.mul(x, tf.tensor(dropoutMask(words, rate, x.size), x.shape, "float32"));
  }
  const attrs: DropoutAttrs = { stream: words, rate };
  const [y] = tf.engine().runKernel(
    DROPOUT,
    { x },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return y!;
}
