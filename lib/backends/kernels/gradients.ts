/**
 * Gradients of the harness's custom kernels, registered beside the kernels
 * they differentiate (as tfjs-core keeps `*_grad.ts` next to its ops), so no
 * backend reaches up into the model layer. `initBackend()` calls
 * `registerKernelGradients()` once per process or worker.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// The umbrella package registers tfjs-core's gradients on import; importing it here makes
// sure they are in place before `registerKernelGradients` overrides ReLU's and Tanh's.
import "@tensorflow/tfjs";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from "./batch_norm.ts";
import { DROPOUT, DROPOUT_GRAD } from "./dropout.ts";
import { RELU_GRAD, TANH_GRAD } from "./elementwise.ts";
import { CONV2D_BIAS, type ConvBiasAttrs } from "./fused_conv.ts";
import { MAX_POOL_TRAIN, MAX_POOL_TRAIN_GRAD } from "./max_pool_train.ts";

let registered = false;

/**
 * A gradient from dy and one saved tensor `t` (input `name` of `kernel`): the
 * fused `kernel` where the active backend has it and both are float32 of one
 * shape (the same bits), else tfjs-core's own ops, `stock()`.
 */
function fusedGradient(
  kernel: string,
  dy: tf.Tensor,
  name: "x" | "y",
  t: tf.Tensor,
  stock: () => tf.Tensor,
): tf.Tensor {
  const fused = dy.dtype === "float32" && t.dtype === "float32" &&
    tf.util.arraysEqual(dy.shape, t.shape) && tf.getKernel(kernel, tf.getBackend());
  return fused ? tf.engine().runKernel(kernel, { dy, [name]: t }) as tf.Tensor : stock();
}

/**
 * Register the gradients of the custom kernels, and ReLU's and Tanh's with
 * their fused kernels in place of tfjs-core's three ops (idempotent; call after importing
 * `@tensorflow/tfjs`, whose gradients it overrides).
 */
export function registerKernelGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = saved as tf.Tensor[];
      const g = dy as tf.Tensor;
      // ReLU's gradient dy·step(x).
      return {
        x: () =>
          fusedGradient(RELU_GRAD, g, "x", x!, () => tf.mul(g, tf.cast(tf.step(x!), "float32"))),
      };
    },
  });
  tf.registerGradient({
    kernelName: tf.Tanh,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as tf.Tensor[];
      const g = dy as tf.Tensor;
      // Tanh's gradient (1 − y²)·dy from its output y.
      return {
        x: () =>
          fusedGradient(
            TANH_GRAD,
            g,
            "y",
            y!,
            () => tf.mul(tf.sub(tf.scalar(1), tf.square(y!)), g),
          ),
      };
    },
  });
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys)!;
      const [x, gamma, mean, variance] = saved as tf.Tensor[];
      const [dx, dgamma, dbeta] = tf.engine().runKernel(
        BATCH_NORM_TRAIN_GRAD,
        { dy, x: x!, gamma: gamma!, mean: mean!, variance: variance! },
        attrs,
      ) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: CONV2D_BIAS,
    inputsToSave: ["x", "filter"],
    gradFunc: (dys, saved, attrs) => {
      const dy = dys as tf.Tensor;
      const [x, filter] = saved as tf.Tensor[];
      const { strides, pad, dataFormat } = attrs as unknown as ConvBiasAttrs;
      // What tfjs-core's Add and Conv2D gradients compute, each input's only when asked.
      const conv = (extra: object) =>
        ({
          strides,
          pad,
          dataFormat,
          dimRoundingMode: undefined,
          ...extra,
        }) as unknown as tf.NamedAttrMap;
      return {
        x: () =>
          tf.engine().runKernel(
            tf.Conv2DBackpropInput,
            { dy, filter: filter! },
            conv({ inputShape: x!.shape }),
          ) as tf.Tensor,
        filter: () =>
          tf.engine().runKernel(
            tf.Conv2DBackpropFilter,
            { x: x!, dy },
            conv({ filterShape: filter!.shape }),
          ) as tf.Tensor,
        bias: () => tf.sum(dy, [0, 1, 2]),
      };
    },
  });
  tf.registerGradient({
    kernelName: MAX_POOL_TRAIN,
    inputsToSave: ["x"],
    outputsToSave: [true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys)!;
      const [x, y, argmax] = saved as tf.Tensor[];
      return {
        x: () =>
          tf.engine().runKernel(
            MAX_POOL_TRAIN_GRAD,
            { dy, x: x!, y: y!, argmax: argmax! },
            attrs,
          ) as tf.Tensor,
      };
    },
  });
  tf.registerGradient({
    kernelName: DROPOUT,
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys)!;
      const [bits] = saved as tf.Tensor[];
      return {
        x: () => tf.engine().runKernel(DROPOUT_GRAD, { dy, bits: bits! }, attrs) as tf.Tensor,
      };
    },
  });
}
