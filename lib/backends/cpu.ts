/**
 * The `cpu` backend: TF.js's pure-JavaScript kernels, the reference the other
 * backends are checked against. Only the harness's own custom kernels (fused
 * batch norm, fused dropout, the fused Adam update, the fused ReLU and Tanh
 * gradients, the convolution-and-bias and training max-pool kernels) are
 * added; no shipped
 * kernel is replaced.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { batchNormTrainConfig, batchNormTrainGradConfig } from "./kernels/batch_norm.ts";
import { dropoutConfig, dropoutGradConfig } from "./kernels/dropout.ts";
import { convBiasConfig } from "./kernels/fused_conv.ts";
import { maxPoolTrainConfig, maxPoolTrainGradConfig } from "./kernels/max_pool_train.ts";
import { adamConfig, reluGradConfig, tanhGradConfig } from "./kernels/elementwise.ts";
import { replaceKernel } from "./registry.ts";

/** Register the custom kernels for `cpu` and make it the active backend. */
export async function initCpu(): Promise<void> {
  registerCpuKernels();
  if (!(await tf.setBackend("cpu"))) throw new Error("The TF.js cpu backend failed to start");
  await tf.ready();
}

/** Install the harness's custom kernels for `cpu` (idempotent). */
export function registerCpuKernels(): void {
  replaceKernel(batchNormTrainConfig("cpu"));
  replaceKernel(batchNormTrainGradConfig("cpu"));
  replaceKernel(dropoutConfig("cpu"));
  replaceKernel(dropoutGradConfig("cpu"));
  replaceKernel(adamConfig("cpu"));
  replaceKernel(reluGradConfig("cpu"));
  replaceKernel(tanhGradConfig("cpu"));
  replaceKernel(convBiasConfig("cpu"));
  replaceKernel(maxPoolTrainConfig("cpu"));
  replaceKernel(maxPoolTrainGradConfig("cpu"));
}
