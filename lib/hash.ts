/**
 * SHA-256 digests (hex) and the canonical JSON serialisation used for every
 * hash the harness records: fixed key order, fixed number formatting, LF.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * SHA-256 of bytes or of a UTF-8 string, as 64 lowercase hex characters.
 *
 * @example Known vector
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Hex } from "./hash.ts";
 * assert.deepEqual(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A value that canonical JSON can serialise. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Serialise `value` with object keys sorted, numbers written by `formatNumber`
 * (default: shortest round-trip form) and no whitespace, so equal values give
 * equal bytes on every machine. Throws `TypeError` on non-finite numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalJson } from "./hash.ts";
 * assert.deepEqual(canonicalJson({ b: 1, a: [true, null] }), '{"a":[true,null],"b":1}');
 * ```
 */
export function canonicalJson(
  value: Json,
  formatNumber: (n: number) => string = (n) => JSON.stringify(n),
): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`Cannot serialise ${value} canonically`);
    return formatNumber(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v, formatNumber)).join(",")}]`;
  }
  const keys = Object.keys(value).sort();
  return `{${
    keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json, formatNumber)}`)
      .join(",")
  }}`;
}
