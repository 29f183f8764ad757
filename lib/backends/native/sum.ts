/**
 * `Sum` over a leading or trailing block of axes as a oneDNN matrix product
 * with a vector of ones: the bias gradient of a convolution (a sum of
 * [N, H, W, C] over N, H and W) is ones[1, NHW] · dy[NHW, C]. The shipped
 * wasm kernel transposes the reduced axes innermost first, a full copy of
 * the tensor, and then sums on one thread.
 *
 * @module
 */
import {
  backend_util,
  type KernelConfig,
  type SumAttrs,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { ARG, check, type Dnnl, opDesc } from "./dnnl.ts";
import { nativeKernel } from "./kernel.ts";
import { type SumBlock, sumBlock } from "../kernels/sum.ts";
import { sizeOf, viewOf } from "./memory.ts";
import { type Group, Primitive, PrimitiveCache, primitiveDesc } from "./primitive.ts";

/** Run on the data of x and the sum. */
type Reducer = (x: Uint8Array, y: Uint8Array) => void;

/** A sum as `ones[1, a] · x[a, b]` (`leading`) or `x[a, b] · ones[b, 1]`. */
function build(dnnl: Dnnl, group: Group, { a, b, leading }: SumBlock): Reducer | null {
  const n = leading ? a : b;
  const op = opDesc();
  const ones = dnnl.mdPlain(leading ? [1, n] : [n, 1]);
  const x = dnnl.mdPlain([a, b]);
  const y = dnnl.mdPlain(leading ? [1, b] : [a, 1]);
  check(
    leading
      ? dnnl.sym.dnnl_matmul_desc_init(op, ones, x, null, y)
      : dnnl.sym.dnnl_matmul_desc_init(op, x, ones, null, y),
    "dnnl_matmul_desc_init",
  );
  const pd = primitiveDesc(dnnl, group, op);
  if (!pd) return null;
  // Over 64 bytes, so that V8 keeps the values off its moving heap.
  const onesData = new Uint8Array(new Float32Array(Math.max(n, 32)).fill(1).buffer, 0, 4 * n);
  const args = [{ arg: ARG.src }, { arg: ARG.weights }, { arg: ARG.dst }];
  const prim = new Primitive(dnnl, group, pd, args);
  return leading ? (xv, yv) => prim.run(onesData, xv, yv) : (xv, yv) => prim.run(xv, onesData, yv);
}

/** The native `Sum` kernel for `wasm` (float32), using `dnnl`. */
export function sumKernels(dnnl: Dnnl): KernelConfig[] {
  const cache = new PrimitiveCache<Reducer>();
  const sum = nativeKernel<{ x: TensorInfo }, SumAttrs>(
    "Sum",
    ({ inputs: { x }, attrs }, backend) => {
      if (x.dtype !== "float32" || sizeOf(x.shape) === 0) return null;
      const axes = util.parseAxisParam(attrs.axis, x.shape);
      const p = sumBlock(x.shape, axes);
      const reducer = p &&
        cache.get(`${p.a},${p.b},${p.leading}`, (group) => build(dnnl, group, p));
      if (!reducer) return null;
      const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
      const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      const y = backend.makeOutput(shape, "float32");
      reducer(viewOf(backend, x), viewOf(backend, y));
      return y;
    },
  );
  return [sum];
}
