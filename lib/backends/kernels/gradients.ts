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
// sure they are in place before `registerKernelGradients` overrides ReLU's.
import "@tensorflow/tfjs";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from "./batch_norm.ts";
import { DROPOUT, DROPOUT_GRAD } from "./dropout.ts";
import { RELU_GRAD } from "./elementwise.ts";

let registered = false;

/**
 * ReLU's gradient dy·step(x) as tfjs-core computes it, in one fused kernel where
 * the active backend has one (same bits), else with tfjs-core's own ops.
 */
function reluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const fused = dy.dtype === "float32" && x.dtype === "float32" &&
    tf.util.arraysEqual(dy.shape, x.shape) && tf.getKernel(RELU_GRAD, tf.getBackend());
  if (fused) return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  return tf.mul(dy, tf.cast(tf.step(x), "float32"));
}

/**
 * Register the gradients of the custom kernels, and ReLU's with its fused
 * kernel in place of tfjs-core's three ops (idempotent; call after importing
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
      return { x: () => reluGradient(dy as tf.Tensor, x!) };
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
