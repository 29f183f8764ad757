/**
 * Gradients of the harness's custom kernels, registered beside the kernels
 * they differentiate (as tfjs-core keeps `*_grad.ts` next to its ops), so no
 * backend reaches up into the model layer. `initBackend()` calls
 * `registerKernelGradients()` once per process or worker.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from "./batch_norm.ts";
import { DROPOUT, DROPOUT_GRAD } from "./dropout.ts";

let registered = false;

/** Register the gradients of the custom kernels (idempotent). */
export function registerKernelGradients(): void {
  if (registered) return;
  registered = true;
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
