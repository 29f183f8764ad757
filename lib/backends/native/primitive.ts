/**
 * oneDNN primitives bound to their memory objects, and a cache of them keyed
 * by shape and attributes (a training run repeats the same shapes every
 * batch, so each primitive is created once and executed many times).
 *
 * Every oneDNN object a cache entry needs (descriptors, primitives, memory
 * objects, buffers) is registered with the entry's {@linkcode Group} as it is
 * created, so a failed build frees what it made and nothing cached leaks.
 *
 * A {@linkcode Primitive}'s execution arguments are "slots", pointed at
 * tensors before each execution, or fixed library-owned buffers (reordered
 * weights, pooling workspaces).
 *
 * @module
 */
import { ALLOCATE, check, type Dnnl, DnnlError, type Handle, type MemoryDesc } from "./dnnl.ts";

/** Something holding oneDNN objects. */
export interface Destroyable {
  destroy(): void;
}

/** oneDNN objects freed together, last created first. */
export class Group implements Destroyable {
  readonly #parts: Destroyable[] = [];

  /** Remember `part` for {@linkcode destroy} and return it. */
  add<T extends Destroyable>(part: T): T {
    this.#parts.push(part);
    return part;
  }

  /** Free every part, last added first. */
  destroy(): void {
    for (const part of this.#parts.reverse()) part.destroy();
    this.#parts.length = 0;
  }
}

/**
 * A primitive descriptor for operation descriptor `op` (optionally with a
 * forward `hint` and attributes `attr`), freed with `group`; null when oneDNN
 * has no implementation. Throws `DnnlError` on other failures.
 */
export function primitiveDesc(
  dnnl: Dnnl,
  group: Group,
  op: Uint8Array<ArrayBuffer>,
  hint: Handle = 0n,
  attr: Handle = 0n,
): Handle | null {
  const pd = dnnl.primitiveDesc(op, hint, attr);
  if (pd) group.add({ destroy: () => dnnl.sym.dnnl_primitive_desc_destroy(pd) });
  return pd;
}

/** One execution argument: a slot (set per call) or a fixed memory object. */
export interface Binding {
  /** `DNNL_ARG_*` index. */
  arg: number;
  /** A memory object owned elsewhere (e.g. a {@linkcode Buffer}); omitted for a slot. */
  memory?: Handle;
}

/** A oneDNN primitive with its execution arguments. */
export class Primitive {
  readonly #dnnl: Dnnl;
  readonly #prim: Handle;
  readonly #slots: Handle[] = [];
  readonly #args: Uint8Array<ArrayBuffer>;
  readonly #count: number;

  /**
   * Create the primitive of descriptor `pd` with `bindings`, freed with
   * `group` (which must also own `pd`); slots are filled by {@linkcode run}
   * in binding order. Throws `DnnlError` if oneDNN refuses.
   */
  constructor(dnnl: Dnnl, group: Group, pd: Handle, bindings: readonly Binding[]) {
    this.#dnnl = dnnl;
    check(dnnl.sym.dnnl_primitive_create(dnnl.out, pd), "dnnl_primitive_create");
    const prim = dnnl.takeHandle();
    this.#prim = prim;
    group.add({ destroy: () => dnnl.sym.dnnl_primitive_destroy(prim) });
    this.#count = bindings.length;
    this.#args = new Uint8Array(16 * Math.max(1, bindings.length));
    const view = new DataView(this.#args.buffer);
    bindings.forEach(({ arg, memory }, i) => {
      let mem = memory;
      if (!mem) {
        const md = dnnl.argMd(pd, arg);
        if (!md) throw new DnnlError(`binding argument ${arg}`, 2);
        const slot = dnnl.memory(md, 0n);
        group.add({ destroy: () => dnnl.sym.dnnl_memory_destroy(slot) });
        this.#slots.push(mem = slot);
      }
      view.setInt32(16 * i, arg, true);
      view.setBigUint64(16 * i + 8, mem, true);
    });
  }

  /**
   * Execute with the slots on `data` (one view per slot, in binding order,
   * each covering the argument's bytes); returns when the results are
   * written. Throws `DnnlError`.
   */
  run(...data: Uint8Array[]): void {
    const { sym, stream } = this.#dnnl;
    if (data.length !== this.#slots.length) {
      throw new RangeError(`Primitive needs ${this.#slots.length} arguments, got ${data.length}`);
    }
    for (let i = 0; i < data.length; i++) {
      check(
        sym.dnnl_memory_set_data_handle(this.#slots[i]!, data[i]!),
        "dnnl_memory_set_data_handle",
      );
    }
    check(
      sym.dnnl_primitive_execute(this.#prim, stream, this.#count, this.#args),
      "dnnl_primitive_execute",
    );
    check(sym.dnnl_stream_wait(stream), "dnnl_stream_wait");
  }
}

/** A library-owned buffer of a given layout, bound to primitives as a fixed argument. */
export class Buffer {
  /** The memory object. */
  readonly memory: Handle;

  /** Allocate a buffer of layout `md` (a library-owned descriptor), freed with `group`. */
  constructor(dnnl: Dnnl, group: Group, md: Handle) {
    const memory = dnnl.memory(md, ALLOCATE);
    this.memory = memory;
    group.add({ destroy: () => dnnl.sym.dnnl_memory_destroy(memory) });
  }
}

/**
 * A reorder (layout conversion) between a caller-owned layout and a buffer
 * of a library-owned one, freed with `group`: `to` the buffer from a slot, or
 * `from` the buffer to a slot.
 */
export function reorder(
  dnnl: Dnnl,
  group: Group,
  direction: { to: Buffer; md: Handle; user: MemoryDesc } | {
    from: Buffer;
    md: Handle;
    user: MemoryDesc;
  },
): Primitive {
  const toBuffer = "to" in direction;
  const pd = toBuffer
    ? dnnl.reorderDesc(direction.user, direction.md)
    : dnnl.reorderDesc(direction.md, direction.user);
  group.add({ destroy: () => dnnl.sym.dnnl_primitive_desc_destroy(pd) });
  return new Primitive(dnnl, group, pd, [
    toBuffer ? { arg: 1 } : { arg: 1, memory: direction.from.memory },
    toBuffer ? { arg: 17, memory: direction.to.memory } : { arg: 17 },
  ]);
}

const caches = new Set<PrimitiveCache<unknown>>();

/**
 * Entries built once per key, each with the {@linkcode Group} of oneDNN
 * objects it uses. A `null` entry records that oneDNN has no implementation
 * for that key (or refused its arguments), so the kernel falls back to wasm
 * without retrying.
 */
export class PrimitiveCache<T> {
  readonly #entries = new Map<string, { value: T; group: Group } | null>();

  constructor() {
    caches.add(this);
  }

  /**
   * The entry for `key`, built on first use by `build`, which registers what
   * it creates with `group` and returns null for "not implemented". A
   * `DnnlError` while building also caches null; other errors propagate.
   */
  get(key: string, build: (group: Group) => T | null): T | null {
    const entry = this.#entries.get(key);
    if (entry !== undefined) return entry && entry.value;
    const group = new Group();
    let value: T | null;
    try {
      value = build(group);
    } catch (err) {
      group.destroy();
      if (!(err instanceof DnnlError)) throw err;
      value = null;
    }
    if (value === null) group.destroy();
    this.#entries.set(key, value === null ? null : { value, group });
    return value;
  }

  /** Number of cached entries (including "not implemented" ones). */
  get size(): number {
    return this.#entries.size;
  }

  /** Free every entry. */
  clear(): void {
    for (const entry of this.#entries.values()) entry?.group.destroy();
    this.#entries.clear();
  }
}

/** Free every cached primitive of every kernel (e.g. between tests). */
export function clearPrimitiveCaches(): void {
  for (const cache of caches) cache.clear();
}

/** Total cached entries over all kernels. */
export function cachedPrimitiveCount(): number {
  let n = 0;
  for (const cache of caches) n += cache.size;
  return n;
}
