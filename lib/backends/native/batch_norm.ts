/**
 * The harness's training-mode batch norm kernels (`BnlabBatchNormTrain`,
 * `BnlabBatchNormTrainGrad`, semantics in `../kernels/batch_norm.ts`) as
 * oneDNN batch normalization forward training and backward, with separate
 * scale (γ) and shift (β).
 *
 * Statistics are per channel (the last axis) over all other axes, so a tensor
 * of any rank is viewed as NHWC [N, 1, W, C] with W the product of the middle
 * axes. oneDNN's variance is the biased one, as the kernels' contract asks.
 *
 * @module
 */
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";
import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type BatchNormAttrs,
} from "../kernels/batch_norm.ts";
import { ARG, check, DNNL, type Dnnl, opDesc } from "./dnnl.ts";
import { nativeKernel } from "./kernel.ts";
import { nhwc, sizeOf, viewOf } from "./memory.ts";
import { type Group, Primitive, PrimitiveCache, primitiveDesc } from "./primitive.ts";

const FLAGS = DNNL.useScale | DNNL.useShift;

/** [N, W, C] of the NHWC view of `shape` (channels last), or null for an empty or rank-0 tensor. */
function view(shape: readonly number[]): [number, number, number] | null {
  if (shape.length < 2 || sizeOf(shape) === 0) return null;
  const c = shape[shape.length - 1]!;
  const n = shape[0]!;
  return [n, sizeOf(shape) / (n * c), c];
}

/** Forward and backward primitives for one shape and epsilon. */
interface Pair {
  forward: Primitive;
  backward: Primitive;
}

function buildPair(
  dnnl: Dnnl,
  group: Group,
  [n, w, c]: [number, number, number],
  epsilon: number,
): Pair | null {
  const data = nhwc(dnnl, n, 1, w, c);
  const fwdOp = opDesc();
  check(
    dnnl.sym.dnnl_batch_normalization_forward_desc_init(
      fwdOp,
      DNNL.forwardTraining,
      data,
      epsilon,
      FLAGS,
    ),
    "dnnl_batch_normalization_forward_desc_init",
  );
  const fwdPd = primitiveDesc(dnnl, group, fwdOp);
  if (!fwdPd) return null;
  const bwdOp = opDesc();
  check(
    dnnl.sym.dnnl_batch_normalization_backward_desc_init(
      bwdOp,
      DNNL.backward,
      data,
      data,
      epsilon,
      FLAGS,
    ),
    "dnnl_batch_normalization_backward_desc_init",
  );
  const bwdPd = primitiveDesc(dnnl, group, bwdOp, fwdPd);
  if (!bwdPd) return null;
  const forward = new Primitive(dnnl, group, fwdPd, [
    { arg: ARG.src },
    { arg: ARG.scale },
    { arg: ARG.shift },
    { arg: ARG.dst },
    { arg: ARG.mean },
    { arg: ARG.variance },
  ]);
  const backward = new Primitive(dnnl, group, bwdPd, [
    { arg: ARG.diffDst },
    { arg: ARG.src },
    { arg: ARG.scale },
    { arg: ARG.shift },
    { arg: ARG.mean },
    { arg: ARG.variance },
    { arg: ARG.diffSrc },
    { arg: ARG.diffScale },
    { arg: ARG.diffShift },
  ]);
  return { forward, backward };
}

/** The native batch norm kernels for `wasm`, using `dnnl`. */
export function batchNormKernels(dnnl: Dnnl): KernelConfig[] {
  const cache = new PrimitiveCache<Pair>();
  const pairFor = (shape: readonly number[], epsilon: number): Pair | null => {
    const v = view(shape);
    return v && cache.get(`${v}|${epsilon}`, (group) => buildPair(dnnl, group, v, epsilon));
  };

  const train = nativeKernel<
    { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo },
    BatchNormAttrs
  >(BATCH_NORM_TRAIN, ({ inputs: { x, gamma, beta }, attrs }, backend) => {
    const pair = pairFor(x.shape, attrs.epsilon);
    if (!pair) return null;
    const c = x.shape[x.shape.length - 1]!;
    const y = backend.makeOutput([...x.shape], "float32");
    const mean = backend.makeOutput([c], "float32");
    const variance = backend.makeOutput([c], "float32");
    const p = (t: TensorInfo) => viewOf(backend, t);
    pair.forward.run(p(x), p(gamma), p(beta), p(y), p(mean), p(variance));
    return [y, mean, variance];
  });

  const grad = nativeKernel<
    Record<"dy" | "x" | "gamma" | "mean" | "variance", TensorInfo>,
    BatchNormAttrs
  >(
    BATCH_NORM_TRAIN_GRAD,
    ({ inputs: { dy, x, gamma, mean, variance }, attrs }, backend) => {
      const pair = pairFor(x.shape, attrs.epsilon);
      if (!pair) return null;
      const c = x.shape[x.shape.length - 1]!;
      const dx = backend.makeOutput([...x.shape], "float32");
      const dgamma = backend.makeOutput([c], "float32");
      const dbeta = backend.makeOutput([c], "float32");
      const p = (t: TensorInfo) => viewOf(backend, t);
      // oneDNN counts β as an input of the backward pass though it never reads it: pass γ.
      const g = p(gamma);
      pair.backward.run(p(dy), p(x), g, g, p(mean), p(variance), p(dx), p(dgamma), p(dbeta));
      return [dx, dgamma, dbeta];
    },
  );

  return [train, grad];
}
