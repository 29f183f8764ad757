/**
 * `BnlabMaxPool`: training-mode max pooling that also returns where each
 * window's maximum lies, and `BnlabMaxPoolGrad`, the gradient that uses it
 * (registered in `gradients.ts`), so the backward pass need not search the
 * windows again. Values and gradients are, bit for bit, those of `tf.maxPool`
 * and its gradient (tfjs-core's `MaxPoolGrad`).
 *
 * The argmax is a backend's own int32 tensor, read only by the same
 * backend's gradient kernel: `native` returns oneDNN's pooling workspace
 * (`lib/backends/native/pool.ts`), whose backward pass is the one its
 * `MaxPoolGrad` runs after recomputing that workspace; `cpu` and `wasm` run
 * their `MaxPool` and `MaxPoolGrad` kernels and return an empty argmax.
 *
 * @module
 */
import type {
  KernelBackend,
  KernelConfig,
  KernelFunc,
  MaxPoolAttrs,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import { runBackendKernel as run } from "./_compose.ts";
import { memoryOf } from "./_memory.ts";

/** Kernel name of the forward pass: input x (NHWC); outputs y and the argmax. */
export const MAX_POOL_TRAIN = "BnlabMaxPool";
/** Kernel name of the backward pass: inputs dy, x, y, argmax; output dx. */
export const MAX_POOL_TRAIN_GRAD = "BnlabMaxPoolGrad";

/** Attributes of both kernels: `MaxPool`'s. */
export type MaxPoolTrainAttrs = Pick<
  MaxPoolAttrs,
  "filterSize" | "strides" | "pad" | "dimRoundingMode"
>;

/** Inputs of the backward kernel. */
export interface MaxPoolTrainGradInputs {
  dy: TensorInfo;
  x: TensorInfo;
  y: TensorInfo;
  argmax: TensorInfo;
}

/** The forward kernel for `backendName` (`cpu` or `wasm`): its `MaxPool`, and an empty argmax. */
export function maxPoolTrainConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { x }, backend, attrs }: {
    inputs: { x: TensorInfo };
    backend: KernelBackend;
    attrs: MaxPoolTrainAttrs;
  }): TensorInfo[] => [
    run("MaxPool", { x }, attrs, backend, backendName),
    memoryOf(backend).alloc([0], "int32"),
  ];
  return {
    kernelName: MAX_POOL_TRAIN,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** The backward kernel for `backendName` (`cpu` or `wasm`): its `MaxPoolGrad`. */
export function maxPoolTrainGradConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs: { dy, x, y }, backend, attrs }: {
    inputs: MaxPoolTrainGradInputs;
    backend: KernelBackend;
    attrs: MaxPoolTrainAttrs;
  }): TensorInfo => run("MaxPoolGrad", { dy, input: x, output: y }, attrs, backend, backendName);
  return {
    kernelName: MAX_POOL_TRAIN_GRAD,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
