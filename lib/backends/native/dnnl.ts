/**
 * The oneDNN 2.x C API through `Deno.dlopen`: the symbol table, the enum
 * values the kernels use (from `oneapi/dnnl/dnnl_types.h`), and thin typed
 * wrappers that turn a non-success status into a {@linkcode DnnlError}.
 *
 * Handles (engines, primitives, memory objects, descriptors the library
 * owns) travel as integer addresses (`usize`), and memory the caller owns
 * (structs, tensors on the wasm heap) as typed arrays (`buffer`). No Deno
 * pointer API is used, so `--allow-ffi` may be scoped to the library files.
 *
 * oneDNN 2.x fills descriptor structs the caller owns; they are kept here in
 * byte buffers larger than the structs (`dnnl_memory_desc_t` is 696 bytes,
 * operation descriptors a few KiB).
 *
 * @module
 */

/** A oneDNN handle or library-owned address (0n for none). */
export type Handle = bigint;

/** `dnnl_status_t` names, by value, for error messages. */
const STATUS = [
  "success",
  "out_of_memory",
  "invalid_arguments",
  "unimplemented",
  "iterator_ends",
  "runtime_error",
  "not_required",
];

/** Enum values of `dnnl_types.h` (oneDNN 2.6). */
export const DNNL = {
  f32: 3,
  u8: 6,
  formatTagAny: 1,
  engineCpu: 1,
  streamDefault: 1,
  forwardTraining: 64,
  forwardInference: 96,
  backward: 128,
  convolutionDirect: 0x1,
  eltwiseRelu: 0x1f,
  poolingMax: 0x1ff,
  poolingAvgIncludePadding: 0x2ff,
  poolingAvgExcludePadding: 0x3ff,
  useScale: 0x8,
  useShift: 0x10,
  queryExecArgMd: 255,
  runtimeSeq: 1,
  runtimeOmp: 2,
  statusUnimplemented: 3,
} as const;

/** `DNNL_ARG_*` execution argument indices. */
export const ARG = {
  src: 1,
  dst: 17,
  weights: 33,
  bias: 41,
  mean: 49,
  variance: 50,
  scale: 51,
  shift: 52,
  workspace: 64,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  diffScale: 255,
  diffShift: 256,
} as const;

/** `DNNL_MEMORY_ALLOCATE`: the handle asking oneDNN to allocate (and free) a buffer. */
export const ALLOCATE: Handle = 0xffffffffffffffffn;

/** Bytes reserved for a `dnnl_memory_desc_t` (696 bytes in oneDNN 2.6). */
const MD_BYTES = 1024;
/** Bytes reserved for an operation descriptor (largest used: convolution, about 4.4 KiB). */
const OP_DESC_BYTES = 16384;

/** `dnnl_reorder_primitive_desc_create`, bound for descriptors given by address or as bytes. */
function reorderSymbol(src: "usize" | "buffer", dst: "usize" | "buffer") {
  return {
    name: "dnnl_reorder_primitive_desc_create",
    parameters: ["buffer", src, "usize", dst, "usize", "usize"],
    result: "i32",
  } as const;
}

/** The C functions used, with their FFI signatures. */
export const SYMBOLS = {
  dnnl_version: { parameters: [], result: "usize" },
  dnnl_engine_create: { parameters: ["buffer", "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: ["buffer", "usize", "u32"], result: "i32" },
  dnnl_stream_wait: { parameters: ["usize"], result: "i32" },
  dnnl_memory_desc_init_by_strides: {
    parameters: ["buffer", "i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  dnnl_memory_desc_init_by_tag: {
    parameters: ["buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  dnnl_memory_desc_equal: { parameters: ["usize", "buffer"], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: ["usize"], result: "usize" },
  dnnl_memory_create: { parameters: ["buffer", "usize", "usize", "usize"], result: "i32" },
  dnnl_memory_create_described: {
    name: "dnnl_memory_create",
    parameters: ["buffer", "buffer", "usize", "usize"],
    result: "i32",
  },
  dnnl_memory_set_data_handle: { parameters: ["usize", "buffer"], result: "i32" },
  dnnl_memory_destroy: { parameters: ["usize"], result: "i32" },
  dnnl_primitive_attr_create: { parameters: ["buffer"], result: "i32" },
  dnnl_primitive_attr_destroy: { parameters: ["usize"], result: "i32" },
  dnnl_primitive_attr_set_post_ops: { parameters: ["usize", "usize"], result: "i32" },
  dnnl_post_ops_create: { parameters: ["buffer"], result: "i32" },
  dnnl_post_ops_destroy: { parameters: ["usize"], result: "i32" },
  dnnl_post_ops_append_eltwise: {
    parameters: ["usize", "f32", "i32", "f32", "f32"],
    result: "i32",
  },
  dnnl_primitive_desc_create: {
    parameters: ["buffer", "buffer", "usize", "usize", "usize"],
    result: "i32",
  },
  dnnl_primitive_desc_query_md: { parameters: ["usize", "i32", "i32"], result: "usize" },
  dnnl_primitive_desc_destroy: { parameters: ["usize"], result: "i32" },
  dnnl_primitive_create: { parameters: ["buffer", "usize"], result: "i32" },
  dnnl_primitive_execute: { parameters: ["usize", "usize", "i32", "buffer"], result: "i32" },
  dnnl_primitive_destroy: { parameters: ["usize"], result: "i32" },
  dnnl_reorder_from_user: reorderSymbol("buffer", "usize"),
  dnnl_reorder_to_user: reorderSymbol("usize", "buffer"),
  dnnl_reorder_user: reorderSymbol("buffer", "buffer"),
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_pooling_v2_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_pooling_v2_backward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_batch_normalization_forward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_matmul_desc_init: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound functions of a loaded oneDNN. */
export type DnnlSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A non-success status of a oneDNN call. */
export class DnnlError extends Error {
  /** The `dnnl_status_t` value. */
  readonly status: number;
  constructor(call: string, status: number) {
    super(`oneDNN ${call} failed: ${STATUS[status] ?? `status ${status}`}`);
    this.name = "DnnlError";
    this.status = status;
  }
}

/** Throw {@linkcode DnnlError} unless `status` is `dnnl_success`. */
export function check(status: number, call: string): void {
  if (status !== 0) throw new DnnlError(call, status);
}

/** A `dnnl_dims_t` (int64[12]) holding `values`. */
export function dims(values: readonly number[]): BigInt64Array<ArrayBuffer> {
  const out = new BigInt64Array(12);
  values.forEach((v, i) => out[i] = BigInt(v));
  return out;
}

/** A memory descriptor: the bytes of a caller-owned `dnnl_memory_desc_t`. */
export type MemoryDesc = Uint8Array<ArrayBuffer>;

/** A caller-owned operation descriptor (convolution, pooling, ...). */
export function opDesc(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(OP_DESC_BYTES);
}

/** The version and threading runtime of the loaded library. */
export interface DnnlVersion {
  major: number;
  minor: number;
  patch: number;
  /** `DNNL_RUNTIME_*` of the CPU engine (2 = OpenMP, 1 = sequential). */
  cpuRuntime: number;
}

/**
 * A loaded oneDNN with one CPU engine and one in-order stream. Wrappers
 * return handles and throw {@linkcode DnnlError}.
 */
export class Dnnl {
  /** The raw symbols. */
  readonly sym: DnnlSymbols;
  /** The CPU engine. */
  readonly engine: Handle;
  /** The stream every primitive executes on. */
  readonly stream: Handle;
  /** Library version and runtime. */
  readonly version: DnnlVersion;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #out = new BigUint64Array(1);

  /**
   * Open the library at `path`. Throws the `Deno.dlopen` error if it cannot
   * be opened or lacks a 2.x symbol, and `DnnlError` if no CPU engine starts.
   */
  constructor(path: string) {
    this.#lib = Deno.dlopen(path, SYMBOLS);
    this.sym = this.#lib.symbols;
    check(this.sym.dnnl_engine_create(this.#out, DNNL.engineCpu, 0n), "dnnl_engine_create");
    this.engine = this.#out[0]!;
    check(
      this.sym.dnnl_stream_create(this.#out, this.engine, DNNL.streamDefault),
      "dnnl_stream_create",
    );
    this.stream = this.#out[0]!;
    const v = new DataView(this.readBytes(BigInt(this.sym.dnnl_version()), 28).buffer);
    this.version = {
      major: v.getInt32(0, true),
      minor: v.getInt32(4, true),
      patch: v.getInt32(8, true),
      cpuRuntime: v.getUint32(24, true),
    };
  }

  /** The out-parameter buffer for `T*` results. */
  get out(): BigUint64Array<ArrayBuffer> {
    return this.#out;
  }

  /** The handle the last `*_create(&handle, ...)` call wrote to {@linkcode out}. */
  takeHandle(): Handle {
    return this.#out[0]!;
  }

  /**
   * Copy `length` bytes at library address `address` (e.g. a struct oneDNN
   * returns) into a new array, by a byte reorder: no Deno pointer API needed.
   */
  readBytes(address: Handle, length: number): Uint8Array<ArrayBuffer> {
    const md = new Uint8Array(MD_BYTES);
    check(
      this.sym.dnnl_memory_desc_init_by_strides(md, 1, dims([length]), DNNL.u8, dims([1])),
      "dnnl_memory_desc_init_by_strides",
    );
    const bytes = new Uint8Array(Math.max(length, 64));
    const made: [Handle, (h: Handle) => number][] = [];
    try {
      check(this.sym.dnnl_memory_create_described(this.#out, md, this.engine, address), "memory");
      const src = this.#out[0]!;
      made.push([src, this.sym.dnnl_memory_destroy]);
      check(this.sym.dnnl_memory_create_described(this.#out, md, this.engine, 0n), "memory");
      const dst = this.#out[0]!;
      made.push([dst, this.sym.dnnl_memory_destroy]);
      check(this.sym.dnnl_memory_set_data_handle(dst, bytes), "dnnl_memory_set_data_handle");
      check(this.sym.dnnl_reorder_user(this.#out, md, this.engine, md, this.engine, 0n), "reorder");
      const pd = this.#out[0]!;
      made.push([pd, this.sym.dnnl_primitive_desc_destroy]);
      check(this.sym.dnnl_primitive_create(this.#out, pd), "dnnl_primitive_create");
      const prim = this.#out[0]!;
      made.push([prim, this.sym.dnnl_primitive_destroy]);
      const args = new BigUint64Array([BigInt(ARG.src), src, BigInt(ARG.dst), dst]);
      check(
        this.sym.dnnl_primitive_execute(prim, this.stream, 2, new Uint8Array(args.buffer)),
        "execute",
      );
      check(this.sym.dnnl_stream_wait(this.stream), "dnnl_stream_wait");
    } finally {
      for (const [handle, destroy] of made.reverse()) destroy(handle);
    }
    return bytes.slice(0, length);
  }

  /** A plain float32 memory descriptor of logical `shape` with element `strides`. */
  mdStrided(shape: readonly number[], strides: readonly number[]): MemoryDesc {
    const md = new Uint8Array(MD_BYTES);
    check(
      this.sym.dnnl_memory_desc_init_by_strides(
        md,
        shape.length,
        dims(shape),
        DNNL.f32,
        dims(strides),
      ),
      "dnnl_memory_desc_init_by_strides",
    );
    return md;
  }

  /** A dense row-major float32 memory descriptor of `shape`. */
  mdPlain(shape: readonly number[]): MemoryDesc {
    const strides = new Array<number>(shape.length);
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i]!;
    }
    return this.mdStrided(shape, strides);
  }

  /** A float32 descriptor of `shape` whose layout the primitive chooses (`format_tag_any`). */
  mdAny(shape: readonly number[]): MemoryDesc {
    const md = new Uint8Array(MD_BYTES);
    check(
      this.sym.dnnl_memory_desc_init_by_tag(
        md,
        shape.length,
        dims(shape),
        DNNL.f32,
        DNNL.formatTagAny,
      ),
      "dnnl_memory_desc_init_by_tag",
    );
    return md;
  }

  /** Whether a descriptor oneDNN owns (by address) describes the same layout as `user`. */
  mdEqual(md: Handle, user: MemoryDesc): boolean {
    return this.sym.dnnl_memory_desc_equal(md, user) === 1;
  }

  /**
   * A primitive descriptor for the operation descriptor `op`, or `null` when
   * oneDNN has no implementation for it (`unimplemented`); other failures throw.
   */
  primitiveDesc(op: Uint8Array<ArrayBuffer>, hint: Handle = 0n, attr: Handle = 0n): Handle | null {
    const status = this.sym.dnnl_primitive_desc_create(this.#out, op, attr, this.engine, hint);
    if (status === DNNL.statusUnimplemented) return null;
    check(status, "dnnl_primitive_desc_create");
    return this.#out[0]!;
  }

  /** A reorder primitive descriptor from a library-owned layout to a caller-owned one, or back. */
  reorderDesc(from: Handle | MemoryDesc, to: Handle | MemoryDesc): Handle {
    const e = this.engine;
    let status: number;
    if (typeof from === "bigint" && typeof to !== "bigint") {
      status = this.sym.dnnl_reorder_to_user(this.#out, from, e, to, e, 0n);
    } else if (typeof from !== "bigint" && typeof to === "bigint") {
      status = this.sym.dnnl_reorder_from_user(this.#out, from, e, to, e, 0n);
    } else throw new TypeError("reorderDesc needs one library-owned and one caller-owned layout");
    check(status, "dnnl_reorder_primitive_desc_create");
    return this.#out[0]!;
  }

  /** Address of the memory descriptor of execution argument `arg` of `pd`, or null if unused. */
  argMd(pd: Handle, arg: number): Handle | null {
    const md = BigInt(this.sym.dnnl_primitive_desc_query_md(pd, DNNL.queryExecArgMd, arg));
    if (md === 0n || BigInt(this.sym.dnnl_memory_desc_get_size(md)) === 0n) return null;
    return md;
  }

  /** A memory object of layout `md`; `handle` 0n for no buffer yet, or {@linkcode ALLOCATE}. */
  memory(md: Handle, handle: Handle): Handle {
    check(this.sym.dnnl_memory_create(this.#out, md, this.engine, handle), "dnnl_memory_create");
    return this.#out[0]!;
  }

  /** Attributes with a ReLU post-op (free them with {@linkcode destroyAttr}). */
  reluAttr(): Handle {
    check(this.sym.dnnl_post_ops_create(this.#out), "dnnl_post_ops_create");
    const ops = this.#out[0]!;
    try {
      check(
        this.sym.dnnl_post_ops_append_eltwise(ops, 1, DNNL.eltwiseRelu, 0, 0),
        "append_eltwise",
      );
      check(this.sym.dnnl_primitive_attr_create(this.#out), "dnnl_primitive_attr_create");
      const attr = this.#out[0]!;
      check(this.sym.dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops");
      return attr;
    } finally {
      this.sym.dnnl_post_ops_destroy(ops);
    }
  }

  /** Free primitive attributes (0n: nothing to free). */
  destroyAttr(attr: Handle): void {
    if (attr !== 0n) this.sym.dnnl_primitive_attr_destroy(attr);
  }

  /** Close the library (only when nothing created from it is used any more). */
  close(): void {
    this.#lib.close();
  }
}
