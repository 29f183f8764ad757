/**
 * Matrix products in oneDNN: `BatchMatMul` and `_FusedMatMul` (bias, linear
 * or ReLU activation). Transposed operands are described by their strides,
 * so no transposed copy is made; a batch of one broadcasts.
 *
 * @module
 */
import type {
  _FusedMatMulAttrs,
  BatchMatMulAttrs,
  KernelConfig,
  TensorInfo,
} from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../kernels/_memory.ts";
import { ARG, check, type Dnnl, type Handle, opDesc } from "./dnnl.ts";
import { nativeKernel } from "./kernel.ts";
import { sizeOf, viewOf } from "./memory.ts";
import { type Group, Primitive, PrimitiveCache, primitiveDesc } from "./primitive.ts";

/** One product: batches of A [m, k] (or its transpose) times B [k, n] (or its transpose). */
interface Product {
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Leading (batch) dims of the output. */
  batchShape: number[];
}

function product(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): Product | null {
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [a0, a1] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [b0, b1] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb || m * k * n === 0) return null;
  const leadA = a.shape.slice(0, -2);
  const leadB = b.shape.slice(0, -2);
  const batchA = sizeOf(leadA);
  const batchB = sizeOf(leadB);
  let batchShape: number[];
  if (leadA.length === leadB.length && leadA.every((d, i) => d === leadB[i])) batchShape = leadA;
  else if (batchA === 1) batchShape = leadB;
  else if (batchB === 1) batchShape = leadA;
  else return null;
  return { batchA, batchB, m, k, n, transposeA, transposeB, batchShape };
}

function build(
  dnnl: Dnnl,
  group: Group,
  p: Product,
  bias: boolean,
  relu: boolean,
): Primitive | null {
  const batch = Math.max(p.batchA, p.batchB);
  const src = dnnl.mdStrided(
    [p.batchA, p.m, p.k],
    p.transposeA ? [p.m * p.k, 1, p.m] : [p.m * p.k, p.k, 1],
  );
  const weights = dnnl.mdStrided(
    [p.batchB, p.k, p.n],
    p.transposeB ? [p.k * p.n, 1, p.k] : [p.k * p.n, p.n, 1],
  );
  const biasMd = bias ? dnnl.mdPlain([1, 1, p.n]) : null;
  const dst = dnnl.mdPlain([batch, p.m, p.n]);
  const op = opDesc();
  check(
    dnnl.sym.dnnl_matmul_desc_init(
      op,
      src,
      weights,
      biasMd,
      dst,
    ),
    "dnnl_matmul_desc_init",
  );
  const attr = relu ? dnnl.reluAttr() : 0n;
  let pd: Handle | null;
  try {
    pd = primitiveDesc(dnnl, group, op, 0n, attr);
  } finally {
    dnnl.destroyAttr(attr);
  }
  if (!pd) return null;
  return new Primitive(dnnl, group, pd, [
    { arg: ARG.src },
    { arg: ARG.weights },
    ...(bias ? [{ arg: ARG.bias }] : []),
    { arg: ARG.dst },
  ]);
}

/** The native matrix-product kernels for `wasm`, using `dnnl`. */
export function matMulKernels(dnnl: Dnnl): KernelConfig[] {
  const cache = new PrimitiveCache<Primitive>();
  const run = (
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | undefined,
    attrs: BatchMatMulAttrs,
    relu: boolean,
    backend: WasmBackendLike,
  ): TensorInfo | null => {
    if (a.dtype !== "float32" || b.dtype !== "float32") return null;
    const p = product(a, b, attrs.transposeA, attrs.transposeB);
    if (!p || (bias && sizeOf(bias.shape) !== p.n)) return null;
    const key = `${Object.values(p).join(",")}|${!!bias}|${relu}`;
    const prim = cache.get(key, (group) => build(dnnl, group, p, !!bias, relu));
    if (!prim) return null;
    const out = backend.makeOutput([...p.batchShape, p.m, p.n], "float32");
    const ptr = (t: TensorInfo) => viewOf(backend, t);
    if (bias) prim.run(ptr(a), ptr(b), ptr(bias), ptr(out));
    else prim.run(ptr(a), ptr(b), ptr(out));
    return out;
  };

  const batchMatMul = nativeKernel<{ a: TensorInfo; b: TensorInfo }, BatchMatMulAttrs>(
    "BatchMatMul",
    ({ inputs: { a, b }, attrs }, backend) => run(a, b, undefined, attrs, false, backend),
  );

  const fusedMatMul = nativeKernel<
    { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo },
    _FusedMatMulAttrs
  >("_FusedMatMul", ({ inputs: { a, b, bias, preluActivationWeights }, attrs }, backend) => {
    const activation = attrs.activation ?? "linear";
    if (preluActivationWeights || (activation !== "linear" && activation !== "relu")) return null;
    return run(a, b, bias, attrs, activation === "relu", backend);
  });

  return [batchMatMul, fusedMatMul];
}
