/**
 * `BatchMatMul` for the `wasm` backend. The shipped kernel uses XNNPACK only
 * when neither operand is transposed and the batch is 1; every other case
 * (including both matrix products of a dense layer's gradient) runs a scalar
 * loop. This kernel transposes the operand explicitly and calls the fast path.
 *
 * @module
 */
import {
  type BatchMatMulAttrs,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

/** A `BatchMatMul` config for `wasm` wrapping `original`, the shipped kernel. */
export function wasmBatchMatMulConfig(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: {
    inputs: { a: TensorInfo; b: TensorInfo };
    backend: KernelBackend;
    attrs: BatchMatMulAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    const single = (t: TensorInfo) => t.shape.length === 2 || t.shape[0] === 1;
    if (!single(a) || !single(b) || (!attrs.transposeA && !attrs.transposeB)) {
      return original(args as never) as TensorInfo;
    }
    const transposeKernel = getKernel("Transpose", "wasm")!.kernelFunc;
    const as3 = (t: TensorInfo) => t.shape.length === 2 ? { ...t, shape: [1, ...t.shape] } : t;
    const flip = (t: TensorInfo) =>
      transposeKernel(
        { inputs: { x: as3(t) }, backend, attrs: { perm: [0, 2, 1] } } as never,
      ) as TensorInfo;
    const at = attrs.transposeA ? flip(a) : as3(a);
    const bt = attrs.transposeB ? flip(b) : as3(b);
    const out = original({
      inputs: { a: at, b: bt },
      backend,
      attrs: { transposeA: false, transposeB: false },
    } as never) as TensorInfo;
    if (attrs.transposeA) backend.disposeData(at.dataId, true);
    if (attrs.transposeB) backend.disposeData(bt.dataId, true);
    return out;
  };
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
