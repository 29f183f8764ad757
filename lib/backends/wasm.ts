/**
 * The `wasm` backend: tfjs-backend-wasm's single-threaded SIMD build (one
 * core per worker; the threaded build needs browser workers Deno lacks),
 * with the kernels it lacks or runs slowly replaced:
 *
 * | kernel | shipped | here |
 * |---|---|---|
 * | Conv2DBackpropFilter | missing | im2col (TypeScript), then one XNNPACK matrix product |
 * | Conv2DBackpropInput | scalar loop | forward XNNPACK conv with the flipped filter |
 * | BatchMatMul (transposed) | scalar loop | explicit transpose, then XNNPACK |
 * | MaxPoolGrad | scalar search per pixel | one pass per window (TypeScript) |
 * | batch norm (training) | composite ops, `Tile`-heavy gradient | fused kernels (TypeScript) |
 * | Sum over leading axes (bias gradients) | full transpose, then sum | one pass over the rows (TypeScript) |
 * | Identity, same-dtype Cast | copy of the tensor | shared memory, as on `cpu` |
 * | batch norm (inference, `FusedBatchNorm`) | scalar loop, a modulo and a division per element | one SIMD pass, same arithmetic (`kernels/elementwise.wat`) |
 * | Adam update (`BnlabAdam`) | none (twelve ops per variable) | one SIMD pass per variable, same rounding (`kernels/elementwise.wat`) |
 * | ReLU gradient (`BnlabReluGrad`) | `Step`, `Cast`, `Multiply` | one SIMD pass, same bits (`kernels/elementwise.wat`) |
 * | Tanh | scalar loop over musl's `tanhf` | the same float32 operations on four lanes (`kernels/elementwise.wat`) |
 * | Tanh gradient (`BnlabTanhGrad`) | `Square`, `Sub`, `Multiply` | one SIMD pass, same bits (`kernels/elementwise.wat`) |
 * | training conv + bias (`BnlabConv2D`) | none (`Conv2D` and `Add`) | the same two kernels, one node on the tape (`kernels/fused_conv.ts`) |
 * | training max pooling with its argmax (`BnlabMaxPool`, `BnlabMaxPoolGrad`) | none (`MaxPool`, `MaxPoolGrad`) | the same two kernels and an empty argmax (`kernels/max_pool_train.ts`) |
 * | dropout (training) | none (a mask tensor and two multiplies) | mask drawn (Philox) and applied in one SIMD pass, gradient from packed keep bits (`kernels/dropout.wat`) |
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { batchNormTrainConfig, batchNormTrainGradConfig } from "./kernels/batch_norm.ts";
import { dropoutConfig, dropoutGradConfig } from "./kernels/dropout.ts";
import { convBiasConfig } from "./kernels/fused_conv.ts";
import { maxPoolTrainConfig, maxPoolTrainGradConfig } from "./kernels/max_pool_train.ts";
import {
  adamConfig,
  fusedBatchNormConfig,
  reluGradConfig,
  tanhConfig,
  tanhGradConfig,
} from "./kernels/elementwise.ts";
import { maxPoolGradConfig } from "./kernels/max_pool_grad.ts";
import { sharingConfigs } from "./kernels/sharing.ts";
import { sumConfig } from "./kernels/sum.ts";
import { convBackpropFilterConfig, convBackpropInputConfig } from "./kernels/wasm_conv.ts";
import { wasmBatchMatMulConfig } from "./kernels/wasm_matmul.ts";
import { replaceKernel, shippedKernel } from "./registry.ts";

/** Register the wasm kernel replacements and make `wasm` the active backend. */
export async function initWasm(): Promise<void> {
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  registerWasmKernels();
  if (!(await tf.setBackend("wasm"))) throw new Error("The TF.js wasm backend failed to start");
  await tf.ready();
}

/** Install this module's kernels for `wasm` (idempotent). */
export function registerWasmKernels(): void {
  replaceKernel(convBackpropFilterConfig("wasm"));
  replaceKernel(convBackpropInputConfig("wasm", shippedKernel("Conv2DBackpropInput", "wasm")));
  replaceKernel(wasmBatchMatMulConfig(shippedKernel("BatchMatMul", "wasm")!));
  replaceKernel(maxPoolGradConfig("wasm"));
  replaceKernel(batchNormTrainConfig("wasm"));
  replaceKernel(batchNormTrainGradConfig("wasm"));
  replaceKernel(dropoutConfig("wasm"));
  replaceKernel(dropoutGradConfig("wasm"));
  replaceKernel(sumConfig("wasm", shippedKernel("Sum", "wasm")!));
  replaceKernel(fusedBatchNormConfig(shippedKernel("FusedBatchNorm", "wasm")!));
  replaceKernel(adamConfig("wasm"));
  replaceKernel(reluGradConfig("wasm"));
  replaceKernel(tanhGradConfig("wasm"));
  replaceKernel(tanhConfig(shippedKernel("Tanh", "wasm")!));
  replaceKernel(convBiasConfig("wasm"));
  replaceKernel(maxPoolTrainConfig("wasm"));
  replaceKernel(maxPoolTrainGradConfig("wasm"));
  for (const config of sharingConfigs((name) => shippedKernel(name, "wasm"))) {
    replaceKernel(config);
  }
}
