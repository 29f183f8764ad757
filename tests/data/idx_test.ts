import assert from "node:assert/strict";
import { throwsWith } from "../_assert.ts";
import fc from "fast-check";
import { encodeIdx, parseIdx } from "../../lib/data/idx.ts";
import { DataError } from "../../lib/errors.ts";

const images = (n: number) => ({
  dims: [n, 28, 28],
  data: new Uint8Array(n * 784).map((_, i) => i % 251),
});

Deno.test("parseIdx() round-trips generated files, gzipped or not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 20 }),
      fc.boolean(),
      fc.uint8Array({ minLength: 0, maxLength: 50 }),
      (n, gzip, labels) => {
        const img = images(n);
        assert.deepEqual(
          parseIdx(encodeIdx(img, gzip), "img", { rank: 3, innerDims: [28, 28] }),
          img,
        );
        const lab = { dims: [labels.length], data: labels };
        assert.deepEqual(parseIdx(encodeIdx(lab, gzip), "lab", { rank: 1 }), lab);
      },
    ),
  );
});

Deno.test("parseIdx() rejects a flipped magic number with a DataError", () => {
  const bytes = encodeIdx(images(2));
  bytes[2] = 0x09;
  throwsWith(
    () => parseIdx(bytes, "x.idx", { rank: 3 }),
    DataError,
    "its magic number is 0x00000903, expected 0x00000803",
  );
});

Deno.test("parseIdx() rejects a truncated body, naming both sizes", () => {
  const bytes = encodeIdx(images(3)).subarray(0, 16 + 784 * 3 - 10);
  assert.throws(
    () => parseIdx(bytes, "x.idx", { rank: 3 }),
    /body has 2342 bytes but the header \(3x28x28\) promises 2352; the file is truncated/,
  );
});

Deno.test("parseIdx() rejects a header whose count disagrees with the body", () => {
  const bytes = encodeIdx(images(3));
  new DataView(bytes.buffer).setUint32(4, 4);
  assert.throws(() => parseIdx(bytes, "x.idx", { rank: 3 }), /promises 3136/);
});

Deno.test("parseIdx() rejects the wrong rank and wrong inner dimensions", () => {
  assert.throws(
    () => parseIdx(encodeIdx({ dims: [4], data: new Uint8Array(4) }), "l", { rank: 3 }),
    /rank 1, expected 3/,
  );
  const wide = encodeIdx({ dims: [1, 28, 29], data: new Uint8Array(28 * 29) });
  assert.throws(
    () => parseIdx(wide, "w", { rank: 3, innerDims: [28, 28] }),
    /dimensions are 1x28x29/,
  );
});

Deno.test("parseIdx() rejects a damaged gzip stream with a DataError", () => {
  const bytes = encodeIdx(images(2), true);
  const damaged = bytes.subarray(0, bytes.length - 20);
  assert.throws(() => parseIdx(damaged, "x.gz", { rank: 3 }), DataError);
});
