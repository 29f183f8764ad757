/**
 * Training-mode batch normalisation as two fused kernels over typed arrays,
 * for the `cpu` and `wasm` backends. The op that calls them, and its gradient,
 * live in `lib/models/ops/batch_norm.ts`.
 *
 * Statistics are per channel (the last axis) over every other axis — batch
 * and spatial positions — accumulated in float64. With M values per channel:
 *   mean = Σx / M,  var = Σ(x − mean)² / M  (biased, as used to normalise),
 *   y = γ (x − mean) / √(var + ε) + β,
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ / (M √(var + ε)) · (M·dy − dβ − x̂·dγ).
 *
 * @module
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { memoryOf, size } from "./_memory.ts";

/** Kernel name of the forward pass: inputs x, gamma, beta; outputs y, mean, variance. */
export const BATCH_NORM_TRAIN = "BnlabBatchNormTrain";
/** Kernel name of the backward pass: inputs dy, x, gamma, mean, variance; outputs dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = "BnlabBatchNormTrainGrad";

/** Attributes of both kernels. */
export interface BatchNormAttrs {
  epsilon: number;
}

/** Forward pass over `x` viewed as [M, C]; writes y, mean and (biased) variance. */
export function batchNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  epsilon: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const c = gamma.length;
  const m = x.length / c;
  const sum = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) sum[k]! += x[i + k]!;
  }
  for (let k = 0; k < c; k++) mean[k] = sum[k]! / m;
  const sq = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const d = x[i + k]! - mean[k]!;
      sq[k]! += d * d;
    }
  }
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    variance[k] = sq[k]! / m;
    scale[k] = gamma[k]! / Math.sqrt(variance[k]! + epsilon);
    shift[k] = beta[k]! - mean[k]! * scale[k]!;
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) y[i + k] = x[i + k]! * scale[k]! + shift[k]!;
  }
}

/** Backward pass over [M, C] views; writes dx, dgamma and dbeta. */
export function batchNormBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  epsilon: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
): void {
  const c = gamma.length;
  const m = x.length / c;
  const invStd = new Float64Array(c);
  for (let k = 0; k < c; k++) invStd[k] = 1 / Math.sqrt(variance[k]! + epsilon);
  const sumDy = new Float64Array(c);
  const sumDyXhat = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const g = dy[i + k]!;
      sumDy[k]! += g;
      sumDyXhat[k]! += g * (x[i + k]! - mean[k]!) * invStd[k]!;
    }
  }
  const a = new Float32Array(c);
  const b = new Float32Array(c);
  const d = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    dbeta[k] = sumDy[k]!;
    dgamma[k] = sumDyXhat[k]!;
    // dx = a·dy + b·(x − mean) + d, with a = γ·invStd, b = −a·invStd·dγ/M, d = −a·dβ/M.
    a[k] = gamma[k]! * invStd[k]!;
    b[k] = -a[k]! * invStd[k]! * sumDyXhat[k]! / m;
    d[k] = -a[k]! * sumDy[k]! / m;
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      dx[i + k] = a[k]! * dy[i + k]! + b[k]! * (x[i + k]! - mean[k]!) + d[k]!;
    }
  }
}

/** Forward kernel config for `backendName` (a `cpu`- or `wasm`-memory backend). */
export function batchNormTrainConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    backend: KernelBackend;
    attrs: BatchNormAttrs;
  }): TensorInfo[] => {
    const memory = memoryOf(backend);
    const channels = size(inputs.gamma.shape);
    const y = memory.alloc(inputs.x.shape);
    const mean = memory.alloc([channels]);
    const variance = memory.alloc([channels]);
    batchNormForward(
      memory.f32(inputs.x),
      memory.f32(inputs.gamma),
      memory.f32(inputs.beta),
      attrs.epsilon,
      memory.f32(y),
      memory.f32(mean),
      memory.f32(variance),
    );
    return [y, mean, variance];
  };
  return {
    kernelName: BATCH_NORM_TRAIN,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Backward kernel config for `backendName`. */
export function batchNormTrainGradConfig(backendName: string): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: {
    inputs: Record<"dy" | "x" | "gamma" | "mean" | "variance", TensorInfo>;
    backend: KernelBackend;
    attrs: BatchNormAttrs;
  }): TensorInfo[] => {
    const memory = memoryOf(backend);
    const channels = size(inputs.gamma.shape);
    const dx = memory.alloc(inputs.x.shape);
    const dgamma = memory.alloc([channels]);
    const dbeta = memory.alloc([channels]);
    const f = memory.f32;
    batchNormBackward(
      f(inputs.dy),
      f(inputs.x),
      f(inputs.gamma),
      f(inputs.mean),
      f(inputs.variance),
      attrs.epsilon,
      f(dx),
      f(dgamma),
      f(dbeta),
    );
    return [dx, dgamma, dbeta];
  };
  return {
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
