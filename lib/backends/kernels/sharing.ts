/**
 * Kernels whose result is their input, sharing its memory instead of copying
 * it, as the `cpu` backend does (the shipped wasm kernels copy the tensor):
 *
 * - `Identity`: TF.js runs it to keep every tensor a gradient needs (the
 *   engine clones each saved tensor), so a training step copies all its
 *   activations once more on the shipped kernel.
 * - `Cast` to the dtype the tensor already has (e.g. ReLU's gradient casts
 *   the float32 `Step` mask to float32).
 *
 * Tensors are immutable in TF.js (a variable gets new memory on assignment),
 * and the wasm backend frees shared memory at its last reference, as it does
 * for `Reshape`.
 *
 * @module
 */
import type {
  CastAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from "@tensorflow/tfjs-core";

/** Another reference to `x`'s memory (null for strings, which keep the shipped kernel). */
function share(x: TensorInfo, backend: KernelBackend): TensorInfo | null {
  if (x.dtype === "string") return null;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

type Args<A> = { inputs: { x: TensorInfo }; backend: KernelBackend; attrs: A };

/**
 * The memory-sharing `Identity` and same-dtype `Cast` kernels for `wasm`;
 * other cases go to `shipped(name)`, the kernels they replace. Throws `Error`
 * at call time when such a case has no shipped kernel.
 */
export function sharingConfigs(shipped: (name: string) => KernelFunc | undefined): KernelConfig[] {
  const config = <A>(
    kernelName: string,
    impl: (args: Args<A>) => TensorInfo | null,
  ): KernelConfig => {
    const fallback = shipped(kernelName);
    const kernelFunc = (args: Args<A>): TensorInfo => {
      const out = impl(args);
      if (out) return out;
      if (!fallback) throw new Error(`No shipped wasm kernel ${kernelName} to fall back to`);
      return fallback(args as never) as TensorInfo;
    };
    return { kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as KernelFunc };
  };
  return [
    config<Record<string, never>>("Identity", ({ inputs: { x }, backend }) => share(x, backend)),
    config<CastAttrs>(
      "Cast",
      ({ inputs: { x }, backend, attrs }) => x.dtype === attrs.dtype ? share(x, backend) : null,
    ),
  ];
}
