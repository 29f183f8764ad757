import assert from "node:assert/strict";
import fc from "fast-check";
import { Rng, rngAt, streamState } from "../lib/rng.ts";

Deno.test("rngAt() streams are reproducible and independent of creation order", () => {
  const a1 = rngAt(7, "dropout", "03.dropout", 12);
  const b1 = rngAt(7, "shuffle", 0);
  const b2 = rngAt(7, "shuffle", 0);
  const a2 = rngAt(7, "dropout", "03.dropout", 12);
  for (let i = 0; i < 100; i++) {
    assert.equal(a1.nextUint32(), a2.nextUint32());
    assert.equal(b1.nextUint32(), b2.nextUint32());
  }
});

Deno.test("Rng matches xoshiro128** reference output", () => {
  // Reference: xoshiro128starstar.c (Blackman & Vigna) from state {1, 2, 3, 4}.
  const rng = new Rng(new Uint32Array([1, 2, 3, 4]));
  assert.deepEqual(Array.from({ length: 4 }, () => rng.nextUint32()), [
    11520,
    0,
    5927040,
    70819200,
  ]);
});

Deno.test("streamState() differs between paths and between seeds", () => {
  const states = new Set([
    streamState(1, "a"),
    streamState(1, "b"),
    streamState(2, "a"),
    streamState(1, "a", 0),
  ].map((s) => s.join(",")));
  assert.equal(states.size, 4);
});

Deno.test("Rng.nextInt() stays in range and Rng.shuffle() permutes", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer(), (n, seed) => {
    const rng = rngAt(seed, "t");
    for (let i = 0; i < 20; i++) {
      const k = rng.nextInt(n);
      assert.ok(Number.isInteger(k) && k >= 0 && k < n);
    }
    const items = Array.from({ length: Math.min(n, 50) }, (_, i) => i);
    assert.deepEqual([...rng.shuffle([...items])].sort((a, b) => a - b), items);
  }));
});

Deno.test("Rng.fillDropoutMask() keeps a binomially plausible share and scales by 1/(1 - rate)", () => {
  fc.assert(
    fc.property(fc.double({ min: 0.05, max: 0.9, noNaN: true }), fc.integer(), (rate, seed) => {
      const n = 20000;
      const mask = rngAt(seed, "mask").fillDropoutMask(new Float32Array(n), rate);
      const kept = mask.filter((v) => v !== 0);
      const sd = Math.sqrt(n * rate * (1 - rate));
      assert.ok(
        Math.abs(n - kept.length - n * rate) < 5 * sd,
        `dropped ${n - kept.length} of ${n} at rate ${rate}`,
      );
      assert.ok(kept.every((v) => v === Math.fround(1 / (1 - rate))));
    }),
    { numRuns: 30 },
  );
});
