/**
 * 2-D pooling in oneDNN on NHWC tensors: `MaxPool`, `MaxPoolGrad`,
 * `AvgPool`, `AvgPoolGrad`, and the harness's training-mode `BnlabMaxPool`
 * and `BnlabMaxPoolGrad` (`../kernels/max_pool_train.ts`), which hand the
 * forward pass's workspace to the backward pass as an int32 tensor.
 *
 * `MaxPoolGrad` re-runs the forward pooling in training mode to get oneDNN's
 * workspace (the argmax of each window), then scatters `dy` through it.
 * oneDNN records the first maximum of a window in row-major order, as
 * TF.js's `cpu` kernel does, so gradients of ties (common after ReLU) agree;
 * the tests check this on inputs full of ties, at training sizes too.
 *
 * Average pooling matches TF.js's `cpu` kernels: the forward pass averages
 * over the window's positions inside the input, the gradient divides by the
 * full window size.
 *
 * @module
 */
import {
  type AvgPoolAttrs,
  type AvgPoolGradAttrs,
  backend_util,
  type KernelConfig,
  type MaxPoolAttrs,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import {
  MAX_POOL_TRAIN,
  MAX_POOL_TRAIN_GRAD,
  type MaxPoolTrainAttrs,
  type MaxPoolTrainGradInputs,
} from "../kernels/max_pool_train.ts";
import { ARG, check, dims, DNNL, type Dnnl, opDesc } from "./dnnl.ts";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import { nativeKernel } from "./kernel.ts";
import { nhwc, sizeOf, viewOf } from "./memory.ts";
import { type Group, Primitive, PrimitiveCache, primitiveDesc } from "./primitive.ts";

/** Sizes of one pooling. */
interface Geometry {
  n: number;
  ih: number;
  iw: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
}

function geometry(
  shape: readonly number[],
  attrs: Pick<MaxPoolAttrs, "filterSize" | "strides" | "pad" | "dimRoundingMode">,
): Geometry | null {
  const info = backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  const g: Geometry = {
    n: info.batchSize,
    ih: info.inHeight,
    iw: info.inWidth,
    c: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: top,
    pb: bottom,
    pl: left,
    pr: right,
  };
  if (Object.values(g).some((v) => v < 0) || g.n * g.ih * g.iw * g.c * g.oh * g.ow === 0) {
    return null;
  }
  const out = (i: number, k: number, s: number, p0: number, p1: number) =>
    Math.floor((i - k + p0 + p1) / s) + 1;
  if (out(g.ih, g.kh, g.sh, g.pt, g.pb) !== g.oh || out(g.iw, g.kw, g.sw, g.pl, g.pr) !== g.ow) {
    return null;
  }
  // oneDNN refuses windows lying entirely in the padding.
  if (g.pt >= g.kh || g.pb >= g.kh || g.pl >= g.kw || g.pr >= g.kw) return null;
  return g;
}

function keyOf(g: Geometry): string {
  return Object.values(g).join(",");
}

/** A pooling descriptor in direction `backward` (else forward with `prop`) for algorithm `alg`. */
function poolOp(dnnl: Dnnl, g: Geometry, alg: number, prop: number | "backward") {
  const src = nhwc(dnnl, g.n, g.ih, g.iw, g.c);
  const dst = nhwc(dnnl, g.n, g.oh, g.ow, g.c);
  const args = [
    dims([g.sh, g.sw]),
    dims([g.kh, g.kw]),
    dims([0, 0]),
    dims([g.pt, g.pl]),
    dims([g.pb, g.pr]),
  ] as const;
  const op = opDesc();
  if (prop === "backward") {
    check(
      dnnl.sym.dnnl_pooling_v2_backward_desc_init(op, alg, src, dst, ...args),
      "dnnl_pooling_v2_backward_desc_init",
    );
  } else {
    check(
      dnnl.sym.dnnl_pooling_v2_forward_desc_init(op, prop, alg, src, dst, ...args),
      "dnnl_pooling_v2_forward_desc_init",
    );
  }
  return op;
}

/** A forward pooling of algorithm `alg` (inference: no workspace). */
function buildForward(dnnl: Dnnl, group: Group, g: Geometry, alg: number): Primitive | null {
  const pd = primitiveDesc(dnnl, group, poolOp(dnnl, g, alg, DNNL.forwardInference));
  return pd === null ? null : new Primitive(dnnl, group, pd, [{ arg: ARG.src }, { arg: ARG.dst }]);
}

/** Run on the data of dy and dx. */
type Backward = (dy: Uint8Array, dx: Uint8Array) => void;

/** An average-pooling gradient (it needs no workspace; max pooling's is `TrainingPair`). */
function buildAvgBackward(dnnl: Dnnl, group: Group, g: Geometry, alg: number): Backward | null {
  const fwdPd = primitiveDesc(dnnl, group, poolOp(dnnl, g, alg, DNNL.forwardTraining));
  if (!fwdPd) return null;
  const bwdPd = primitiveDesc(dnnl, group, poolOp(dnnl, g, alg, "backward"), fwdPd);
  if (!bwdPd) return null;
  const bwd = new Primitive(dnnl, group, bwdPd, [{ arg: ARG.diffDst }, { arg: ARG.diffSrc }]);
  return (dy, dx) => bwd.run(dy, dx);
}

/** Training-mode max pooling that keeps its workspace (the argmax) for the backward pass. */
interface TrainingPair {
  /** Slots x, y, workspace. */
  forward: Primitive;
  /** Slots dy, workspace, dx. */
  backward: Primitive;
  /** Bytes of the workspace. */
  workspaceBytes: number;
}

function buildTrainingPair(dnnl: Dnnl, group: Group, g: Geometry): TrainingPair | null {
  const fwdPd = primitiveDesc(dnnl, group, poolOp(dnnl, g, DNNL.poolingMax, DNNL.forwardTraining));
  if (!fwdPd) return null;
  const bwdPd = primitiveDesc(dnnl, group, poolOp(dnnl, g, DNNL.poolingMax, "backward"), fwdPd);
  const workspace = dnnl.argMd(fwdPd, ARG.workspace);
  if (!bwdPd || !workspace) return null;
  return {
    forward: new Primitive(dnnl, group, fwdPd, [
      { arg: ARG.src },
      { arg: ARG.dst },
      { arg: ARG.workspace },
    ]),
    backward: new Primitive(dnnl, group, bwdPd, [
      { arg: ARG.diffDst },
      { arg: ARG.workspace },
      { arg: ARG.diffSrc },
    ]),
    workspaceBytes: Number(dnnl.sym.dnnl_memory_desc_get_size(workspace)),
  };
}

/** The native pooling kernels for `wasm`, using `dnnl`. */
export function poolKernels(dnnl: Dnnl): KernelConfig[] {
  const forward = new PrimitiveCache<Primitive>();
  const backward = new PrimitiveCache<Backward>();
  const training = new PrimitiveCache<TrainingPair>();
  const trainingFor = (shape: readonly number[], attrs: MaxPoolTrainAttrs) => {
    const g = geometry(shape, attrs);
    const pair = g && training.get(keyOf(g), (group) => buildTrainingPair(dnnl, group, g));
    return pair && { g: g!, pair };
  };

  /** Max pooling of `x` in training mode: y and the workspace (argmax) as an int32 tensor. */
  const forwardTraining = (
    x: TensorInfo,
    { g, pair }: { g: Geometry; pair: TrainingPair },
    backend: WasmBackendLike,
  ): [TensorInfo, TensorInfo] => {
    const y = backend.makeOutput([g.n, g.oh, g.ow, g.c], "float32");
    const argmax = backend.makeOutput([Math.ceil(pair.workspaceBytes / 4)], "int32");
    const p = (t: TensorInfo) => viewOf(backend, t);
    pair.forward.run(p(x), p(y), p(argmax));
    return [y, argmax];
  };

  const maxPoolTrain = nativeKernel<{ x: TensorInfo }, MaxPoolTrainAttrs>(
    MAX_POOL_TRAIN,
    ({ inputs: { x }, attrs }, backend) => {
      const found = trainingFor(x.shape, attrs);
      return found && forwardTraining(x, found, backend);
    },
  );

  // TF.js's gradient gets no workspace: recompute it with the training forward pass.
  const maxPoolGrad = nativeKernel<{ dy: TensorInfo; input: TensorInfo }, MaxPoolGradAttrs>(
    "MaxPoolGrad",
    ({ inputs: { dy, input }, attrs }, backend) => {
      const found = trainingFor(input.shape, { dimRoundingMode: undefined, ...attrs });
      if (!found) return null;
      const [y, argmax] = forwardTraining(input, found, backend);
      const dx = backend.makeOutput([...input.shape], "float32");
      const p = (t: TensorInfo) => viewOf(backend, t);
      found.pair.backward.run(p(dy), p(argmax), p(dx));
      backend.disposeData(y.dataId, true);
      backend.disposeData(argmax.dataId, true);
      return dx;
    },
  );

  const maxPoolTrainGrad = nativeKernel<MaxPoolTrainGradInputs, MaxPoolTrainAttrs>(
    MAX_POOL_TRAIN_GRAD,
    ({ inputs: { dy, x, argmax }, attrs }, backend) => {
      const found = trainingFor(x.shape, attrs);
      // An argmax from another kernel (the fallback's is empty) sends this one to the fallback.
      if (!found || 4 * sizeOf(argmax.shape) < found.pair.workspaceBytes) return null;
      const dx = backend.makeOutput([...x.shape], "float32");
      const p = (t: TensorInfo) => viewOf(backend, t);
      found.pair.backward.run(p(dy), p(argmax), p(dx));
      return dx;
    },
  );

  const pool = (name: string, alg: number) =>
    nativeKernel<{ x: TensorInfo }, MaxPoolAttrs | AvgPoolAttrs>(
      name,
      ({ inputs: { x }, attrs }, backend) => {
        const g = geometry(x.shape, attrs);
        const prim = g &&
          forward.get(`${alg}|${keyOf(g)}`, (group) => buildForward(dnnl, group, g, alg));
        if (!g || !prim) return null;
        const y = backend.makeOutput([g.n, g.oh, g.ow, g.c], "float32");
        prim.run(viewOf(backend, x), viewOf(backend, y));
        return y;
      },
    );

  const avgPoolGrad = nativeKernel<{ dy: TensorInfo; input: TensorInfo }, AvgPoolGradAttrs>(
    "AvgPoolGrad",
    ({ inputs: { dy, input }, attrs }, backend) => {
      const alg = DNNL.poolingAvgIncludePadding;
      const g = geometry(input.shape, { dimRoundingMode: undefined, ...attrs });
      const prim = g &&
        backward.get(`${alg}|${keyOf(g)}`, (group) => buildAvgBackward(dnnl, group, g, alg));
      if (!prim) return null;
      const dx = backend.makeOutput([...input.shape], "float32");
      prim(viewOf(backend, dy), viewOf(backend, dx));
      return dx;
    },
  );

  return [
    maxPoolTrain,
    maxPoolTrainGrad,
    pool("MaxPool", DNNL.poolingMax),
    maxPoolGrad,
    pool("AvgPool", DNNL.poolingAvgExcludePadding),
    avgPoolGrad,
  ];
}
