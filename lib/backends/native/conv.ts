/**
 * 2-D convolutions in oneDNN: `Conv2D`, `FusedConv2D` (bias, linear or ReLU
 * activation), the harness's training-mode `BnlabConv2D` (bias,
 * `../kernels/fused_conv.ts`), `Conv2DBackpropInput` and
 * `Conv2DBackpropFilter`, on NHWC
 * activations and HWIO filters in place on the wasm heap.
 *
 * Filters are reordered per call into the blocked layout oneDNN picks (a
 * small copy next to the convolution), and filter gradients back to HWIO.
 * Other data formats, activations and rounding modes use the wasm kernel.
 *
 * @module
 */
import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type FusedConv2DAttrs,
  type KernelConfig,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import {
  ARG,
  check,
  dims,
  DNNL,
  type Dnnl,
  DnnlError,
  type Handle,
  type MemoryDesc,
  opDesc,
} from "./dnnl.ts";
import { CONV2D_BIAS, type ConvBiasAttrs, type ConvBiasInputs } from "../kernels/fused_conv.ts";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import { nativeKernel } from "./kernel.ts";
import { hwio, nhwc, viewOf } from "./memory.ts";
import {
  Buffer,
  type Group,
  Primitive,
  PrimitiveCache,
  primitiveDesc,
  reorder,
} from "./primitive.ts";

/** Sizes of one convolution, TF.js names, dilation as in TF.js (1 = none). */
interface Geometry {
  n: number;
  ih: number;
  iw: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
}

/** The geometry of `info`, or null when oneDNN's output-size rule would disagree with TF.js's. */
function geometry(info: backend_util.Conv2DInfo): Geometry | null {
  const { top, bottom, left, right } = info.padInfo;
  const g: Geometry = {
    n: info.batchSize,
    ih: info.inHeight,
    iw: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: top,
    pb: bottom,
    pl: left,
    pr: right,
  };
  const out = (i: number, k: number, d: number, s: number, p0: number, p1: number) =>
    Math.floor((i - ((k - 1) * d + 1) + p0 + p1) / s) + 1;
  const sizes = [g.n, g.ih, g.iw, g.ci, g.oh, g.ow, g.co, g.kh, g.kw];
  if (sizes.some((v) => !(v > 0)) || [g.pt, g.pb, g.pl, g.pr].some((v) => v < 0)) return null;
  if (out(g.ih, g.kh, g.dh, g.sh, g.pt, g.pb) !== g.oh) return null;
  if (out(g.iw, g.kw, g.dw, g.sw, g.pl, g.pr) !== g.ow) return null;
  return g;
}

function keyOf(g: Geometry, extra = ""): string {
  return `${Object.values(g).join(",")}${extra}`;
}

/** The descriptors every convolution direction shares. */
function descriptors(dnnl: Dnnl, g: Geometry) {
  return {
    src: nhwc(dnnl, g.n, g.ih, g.iw, g.ci),
    dst: nhwc(dnnl, g.n, g.oh, g.ow, g.co),
    weights: dnnl.mdAny([g.co, g.ci, g.kh, g.kw]),
    user: hwio(dnnl, g.kh, g.kw, g.ci, g.co),
    strides: dims([g.sh, g.sw]),
    dilates: dims([g.dh - 1, g.dw - 1]),
    padL: dims([g.pt, g.pl]),
    padR: dims([g.pb, g.pr]),
  };
}

/** A forward-convolution descriptor (used as such and as the hint of the backward ones). */
function forwardOp(dnnl: Dnnl, g: Geometry, bias: MemoryDesc | null): Uint8Array<ArrayBuffer> {
  const d = descriptors(dnnl, g);
  const op = opDesc();
  check(
    dnnl.sym.dnnl_dilated_convolution_forward_desc_init(
      op,
      DNNL.forwardTraining,
      DNNL.convolutionDirect,
      d.src,
      d.weights,
      bias,
      d.dst,
      d.strides,
      d.dilates,
      d.padL,
      d.padR,
    ),
    "dnnl_dilated_convolution_forward_desc_init",
  );
  return op;
}

/**
 * The user-layout memory of a weights argument of `pd`: null if it already is
 * `user`, else a buffer in the primitive's layout and the reorder to/from it.
 */
function weightsBuffer(
  dnnl: Dnnl,
  group: Group,
  pd: Handle,
  arg: number,
  user: MemoryDesc,
  toUser: boolean,
): { buffer: Buffer; reorder: Primitive } | null {
  const md = dnnl.argMd(pd, arg);
  if (md === null) throw new DnnlError(`convolution weights argument ${arg}`, 2);
  if (dnnl.mdEqual(md, user)) return null;
  const buffer = new Buffer(dnnl, group, md);
  const prim = toUser
    ? reorder(dnnl, group, { from: buffer, md, user })
    : reorder(dnnl, group, { to: buffer, md, user });
  return { buffer, reorder: prim };
}

/** Run on the data of x, filter, bias (null when none) and y. */
type Forward = (
  x: Uint8Array,
  w: Uint8Array,
  b: Uint8Array | null,
  y: Uint8Array,
) => void;

/** A forward convolution: the filter's reorder (if needed), then the convolution. */
function buildForward(
  dnnl: Dnnl,
  group: Group,
  g: Geometry,
  hasBias: boolean,
  relu: boolean,
): Forward | null {
  const d = descriptors(dnnl, g);
  const op = forwardOp(dnnl, g, hasBias ? dnnl.mdPlain([g.co]) : null);
  const attr = relu ? dnnl.reluAttr() : 0n;
  let pd: Handle | null;
  try {
    pd = primitiveDesc(dnnl, group, op, 0n, attr);
  } finally {
    dnnl.destroyAttr(attr);
  }
  if (!pd) return null;
  const w = weightsBuffer(dnnl, group, pd, ARG.weights, d.user, false);
  const conv = new Primitive(dnnl, group, pd, [
    { arg: ARG.src },
    w ? { arg: ARG.weights, memory: w.buffer.memory } : { arg: ARG.weights },
    ...(hasBias ? [{ arg: ARG.bias }] : []),
    { arg: ARG.dst },
  ]);
  return (x, wp, b, y) => {
    if (w) w.reorder.run(wp);
    const ptrs = w ? [x] : [x, wp];
    if (hasBias) ptrs.push(b!);
    ptrs.push(y);
    conv.run(...ptrs);
  };
}

/** Run on the data of dy, filter and dx. */
type BackwardData = (dy: Uint8Array, w: Uint8Array, dx: Uint8Array) => void;

/** A backward-data convolution: the filter's reorder (if needed), then dx from dy. */
function buildBackwardData(dnnl: Dnnl, group: Group, g: Geometry): BackwardData | null {
  const d = descriptors(dnnl, g);
  const hint = primitiveDesc(dnnl, group, forwardOp(dnnl, g, null));
  if (!hint) return null;
  const op = opDesc();
  check(
    dnnl.sym.dnnl_dilated_convolution_backward_data_desc_init(
      op,
      DNNL.convolutionDirect,
      d.src,
      d.weights,
      d.dst,
      d.strides,
      d.dilates,
      d.padL,
      d.padR,
    ),
    "dnnl_dilated_convolution_backward_data_desc_init",
  );
  const pd = primitiveDesc(dnnl, group, op, hint);
  if (!pd) return null;
  const w = weightsBuffer(dnnl, group, pd, ARG.weights, d.user, false);
  const conv = new Primitive(dnnl, group, pd, [
    { arg: ARG.diffDst },
    w ? { arg: ARG.weights, memory: w.buffer.memory } : { arg: ARG.weights },
    { arg: ARG.diffSrc },
  ]);
  return (dy, wp, dx) => {
    if (w) {
      w.reorder.run(wp);
      conv.run(dy, dx);
    } else conv.run(dy, wp, dx);
  };
}

/** Run on the data of x, dy and dW. */
type BackwardWeights = (x: Uint8Array, dy: Uint8Array, dw: Uint8Array) => void;

/** A backward-weights convolution: dW from x and dy, then its reorder to HWIO (if needed). */
function buildBackwardWeights(dnnl: Dnnl, group: Group, g: Geometry): BackwardWeights | null {
  const d = descriptors(dnnl, g);
  const hint = primitiveDesc(dnnl, group, forwardOp(dnnl, g, null));
  if (!hint) return null;
  const op = opDesc();
  check(
    dnnl.sym.dnnl_dilated_convolution_backward_weights_desc_init(
      op,
      DNNL.convolutionDirect,
      d.src,
      d.weights,
      null,
      d.dst,
      d.strides,
      d.dilates,
      d.padL,
      d.padR,
    ),
    "dnnl_dilated_convolution_backward_weights_desc_init",
  );
  const pd = primitiveDesc(dnnl, group, op, hint);
  if (!pd) return null;
  const w = weightsBuffer(dnnl, group, pd, ARG.diffWeights, d.user, true);
  const conv = new Primitive(dnnl, group, pd, [
    { arg: ARG.src },
    { arg: ARG.diffDst },
    w ? { arg: ARG.diffWeights, memory: w.buffer.memory } : { arg: ARG.diffWeights },
  ]);
  return (x, dy, dw) => {
    if (w) {
      conv.run(x, dy);
      w.reorder.run(dw);
    } else conv.run(x, dy, dw);
  };
}

type Shape4 = [number, number, number, number];

/** The native convolution kernels for `wasm`, using `dnnl`. */
export function convKernels(dnnl: Dnnl): KernelConfig[] {
  const forward = new PrimitiveCache<Forward>();
  const backwardData = new PrimitiveCache<BackwardData>();
  const backwardWeights = new PrimitiveCache<BackwardWeights>();

  /** y = relu?(conv(x, filter) + bias?) in one oneDNN convolution, or null where it cannot. */
  const convolve = (
    { x, filter, bias }: ConvBiasInputs,
    attrs: Pick<Conv2DAttrs, "strides" | "dilations" | "pad" | "dimRoundingMode">,
    relu: boolean,
    backend: WasmBackendLike,
  ): TensorInfo | null => {
    const info = backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filter.shape as Shape4,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    if (bias && bias.shape.reduce((a, b) => a * b, 1) !== info.outChannels) return null;
    const g = geometry(info);
    const prim = g &&
      forward.get(
        keyOf(g, `|${!!bias}|${relu}`),
        (group) => buildForward(dnnl, group, g, !!bias, relu),
      );
    if (!prim) return null;
    const y = backend.makeOutput(info.outShape, "float32");
    const p = (t: TensorInfo) => viewOf(backend, t);
    prim(p(x), p(filter), bias ? p(bias) : null, p(y));
    return y;
  };

  const conv2d = nativeKernel<{ x: TensorInfo; filter: TensorInfo }, Conv2DAttrs>(
    "Conv2D",
    ({ inputs, attrs }, backend) =>
      attrs.dataFormat === "NHWC" ? convolve(inputs, attrs, false, backend) : null,
  );

  const fusedConv2d = nativeKernel<
    { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo },
    FusedConv2DAttrs
  >("FusedConv2D", ({ inputs, attrs }, backend) => {
    const activation = attrs.activation ?? "linear";
    if (attrs.dataFormat !== "NHWC" || inputs.preluActivationWeights) return null;
    if (activation !== "linear" && activation !== "relu") return null;
    return convolve(inputs, attrs, activation === "relu", backend);
  });

  const trainingConv = nativeKernel<ConvBiasInputs, ConvBiasAttrs>(
    CONV2D_BIAS,
    ({ inputs, attrs }, backend) => convolve(inputs, attrs, false, backend),
  );

  const backpropInput = nativeKernel<
    { dy: TensorInfo; filter: TensorInfo },
    Conv2DBackpropInputAttrs
  >("Conv2DBackpropInput", ({ inputs, attrs }, backend) => {
    if (attrs.dataFormat !== "NHWC") return null;
    const { dy, filter } = inputs;
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as Shape4,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const g = geometry(info);
    const prim = g && backwardData.get(keyOf(g), (group) => buildBackwardData(dnnl, group, g));
    if (!prim) return null;
    const dx = backend.makeOutput([...attrs.inputShape], "float32");
    const p = (t: TensorInfo) => viewOf(backend, t);
    prim(p(dy), p(filter), p(dx));
    return dx;
  });

  const backpropFilter = nativeKernel<
    { x: TensorInfo; dy: TensorInfo },
    Conv2DBackpropFilterAttrs
  >("Conv2DBackpropFilter", ({ inputs, attrs }, backend) => {
    if (attrs.dataFormat !== "NHWC") return null;
    const { x, dy } = inputs;
    const info = backend_util.computeConv2DInfo(
      x.shape as Shape4,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const g = geometry(info);
    const prim = g &&
      backwardWeights.get(keyOf(g), (group) => buildBackwardWeights(dnnl, group, g));
    if (!prim) return null;
    const dw = backend.makeOutput([...attrs.filterShape], "float32");
    const p = (t: TensorInfo) => viewOf(backend, t);
    prim(p(x), p(dy), p(dw));
    return dw;
  });

  return [conv2d, fusedConv2d, trainingConv, backpropInput, backpropFilter];
}
