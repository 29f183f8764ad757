import assert from "node:assert/strict";
import fc from "fast-check";
import { classCounts, makeSplit, splitHash, type SplitKind } from "../lib/splits.ts";

/** Labels with a random class distribution (some classes may be empty). */
const labelsArb = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 20, maxLength: 400 })
  .map((xs) => Uint8Array.from(xs));
const kindArb = fc.constantFrom<SplitKind>("stratified", "random");
const fractionArb = fc.double({ min: 0.05, max: 0.5, noNaN: true });
const seedArb = fc.integer({ min: 0, max: 1_000_000 });

Deno.test("makeSplit() gives disjoint parts that together cover the pool", () => {
  fc.assert(fc.property(labelsArb, kindArb, fractionArb, seedArb, (labels, kind, f, seed) => {
    const s = makeSplit(labels, { kind, validationFraction: f, seed });
    const all = [...s.train, ...s.validation].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: labels.length }, (_, i) => i));
    assert.equal(s.validation.length, Math.round(labels.length * f));
  }));
});

Deno.test("makeSplit() keeps each class's validation share exact to within one example", () => {
  fc.assert(fc.property(labelsArb, fractionArb, seedArb, (labels, f, seed) => {
    const s = makeSplit(labels, { kind: "stratified", validationFraction: f, seed });
    const total = classCounts(labels, Uint32Array.from(labels.keys()));
    const val = classCounts(labels, s.validation);
    const exactShare = Math.round(labels.length * f) / labels.length;
    total.forEach((n, c) =>
      assert.ok(Math.abs(val[c]! - n * exactShare) < 1, `class ${c}: ${val[c]} of ${n}`)
    );
  }));
});

Deno.test("makeSplit() gives the same split for the same seed and a different one for another", () => {
  fc.assert(fc.property(labelsArb, kindArb, seedArb, (labels, kind, seed) => {
    const a = makeSplit(labels, { kind, validationFraction: 0.2, seed });
    const b = makeSplit(labels, { kind, validationFraction: 0.2, seed });
    assert.equal(splitHash(a), splitHash(b));
    const c = makeSplit(labels, { kind, validationFraction: 0.2, seed: seed + 1 });
    // With at least 100 examples a collision of two random splits is astronomically unlikely.
    if (labels.length >= 100) assert.notEqual(splitHash(a), splitHash(c));
  }));
});

Deno.test("makeSplit() subsamples the pool deterministically and stratified before splitting", () => {
  fc.assert(
    fc.property(
      labelsArb,
      seedArb,
      fc.double({ min: 0.2, max: 0.9, noNaN: true }),
      (labels, seed, share) => {
        const poolSize = Math.max(10, Math.round(labels.length * share));
        const s = makeSplit(labels, {
          kind: "stratified",
          validationFraction: 0.2,
          seed,
          poolSize,
        });
        const t = makeSplit(labels, {
          kind: "stratified",
          validationFraction: 0.2,
          seed,
          poolSize,
        });
        assert.equal(s.train.length + s.validation.length, poolSize);
        assert.deepEqual([s.train, s.validation], [t.train, t.validation]);
        const pooled = classCounts(labels, Uint32Array.from([...s.train, ...s.validation]));
        const total = classCounts(labels, Uint32Array.from(labels.keys()));
        total.forEach((n, c) =>
          assert.ok(Math.abs(pooled[c]! - (n * poolSize) / labels.length) < 1)
        );
      },
    ),
  );
});

Deno.test("splitHash() is a pinned function of the index lists", () => {
  // Independent reference (Python): sha256(struct.pack("<6I", 3, 0, 2, 3, 1, 1)):
  // each list as little-endian uint32, prefixed by its length.
  const split = { train: Uint32Array.from([0, 2, 3]), validation: Uint32Array.from([1]) };
  assert.equal(
    splitHash(split),
    "ec103c6d360450bdb292edbb9bf054ed02da7b8d3a7d77004802d4450f4aa6b9",
  );
});

Deno.test("makeSplit() rejects fractions outside (0, 1) and pools larger than the data", () => {
  const labels = new Uint8Array(50);
  assert.throws(
    () => makeSplit(labels, { kind: "random", validationFraction: 1, seed: 1 }),
    RangeError,
  );
  assert.throws(
    () => makeSplit(labels, { kind: "random", validationFraction: 0.2, seed: 1, poolSize: 51 }),
    RangeError,
  );
});
