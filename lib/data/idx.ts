/**
 * Reader and writer for the IDX format of MNIST and Fashion-MNIST
 * (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number (two zero bytes,
 * a type code, the rank), one big-endian uint32 per dimension, then the body.
 * Only unsigned-byte bodies (type 0x08) occur in these datasets.
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { DataError } from "../errors.ts";

/** Type code of an unsigned-byte IDX body. */
export const IDX_UBYTE = 0x08;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** A parsed IDX array: its dimensions and its bytes (row-major). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** What a caller expects of a file; checked by {@linkcode parseIdx}. */
export interface IdxExpectation {
  /** Required rank (1 for labels, 3 for images). */
  rank: number;
  /** Required trailing dimensions, e.g. `[28, 28]` for images. */
  innerDims?: number[];
}

/**
 * Parse IDX bytes, gunzipping first when they start with the gzip magic.
 * `name` is used in error messages. Throws `DataError` for a gzip stream that
 * fails to inflate, a wrong magic number, type code or rank, unexpected inner
 * dimensions, or a body whose length disagrees with the header.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeIdx, parseIdx } from "./idx.ts";
 * const bytes = encodeIdx({ dims: [2], data: new Uint8Array([7, 9]) });
 * assert.deepEqual(parseIdx(bytes, "labels", { rank: 1 }).data, new Uint8Array([7, 9]));
 * ```
 */
export function parseIdx(bytes: Uint8Array, name: string, expect: IdxExpectation): IdxArray {
  const raw = inflateIfGzip(bytes, name);
  if (raw.length < 4) fail(name, `it has only ${raw.length} bytes, too few for an IDX header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const [z0, z1, type, rank] = [raw[0], raw[1], raw[2], raw[3]];
  if (z0 !== 0 || z1 !== 0 || type !== IDX_UBYTE) {
    fail(name, `its magic number is 0x${hex(view.getUint32(0))}, expected 0x0000080${expect.rank}`);
  }
  if (rank !== expect.rank) fail(name, `it has rank ${rank}, expected ${expect.rank}`);
  const headerLength = 4 + 4 * rank;
  if (raw.length < headerLength) fail(name, `its header is truncated (${raw.length} bytes)`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const inner = expect.innerDims ?? [];
  if (inner.some((d, i) => dims[dims.length - inner.length + i] !== d)) {
    fail(name, `its dimensions are ${dims.join("x")}, expected Nx${inner.join("x")}`);
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = raw.length - headerLength;
  if (actual !== expected) {
    fail(
      name,
      `its body has ${actual} bytes but the header (${dims.join("x")}) promises ${expected}; ` +
        `the file is ${actual < expected ? "truncated" : "followed by extra bytes"}`,
    );
  }
  return { dims, data: raw.slice(headerLength) };
}

/** Encode an unsigned-byte array as IDX bytes, gzipped when `gzip` is true. */
export function encodeIdx(array: IdxArray, gzip = false): Uint8Array {
  const expected = array.dims.reduce((a, b) => a * b, 1);
  if (array.data.length !== expected) {
    throw new RangeError(`IDX body has ${array.data.length} bytes, dims ask for ${expected}`);
  }
  const out = new Uint8Array(4 + 4 * array.dims.length + array.data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, IDX_UBYTE, array.dims.length]);
  array.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(array.data, 4 + 4 * array.dims.length);
  return gzip ? new Uint8Array(gzipSync(out)) : out;
}

/**
 * The IDX bytes inside `bytes`: gunzipped when they start with the gzip magic,
 * else `bytes` itself. Throws `DataError` when the gzip stream is damaged.
 */
export function inflateIfGzip(bytes: Uint8Array, name: string): Uint8Array {
  const gzip = bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
  if (!gzip) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (err) {
    return fail(name, `it is not a valid gzip stream (${(err as Error).message})`);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function fail(name: string, why: string): never {
  throw new DataError(
    `Cannot read ${name} as an IDX file: ${why}. The file is damaged or is not the dataset ` +
      `file it is named after; delete it and fetch the dataset again.`,
  );
}
