import assert from "node:assert/strict";
import fc from "fast-check";
import {
  dropoutBits,
  dropoutMask,
  dropoutStream,
  dropoutThreshold,
  philox4x32,
  Rng,
  rngAt,
  streamState,
} from "../lib/rng.ts";

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

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2), output (4).
const PHILOX_KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

Deno.test("philox4x32() reproduces Random123's known-answer vectors for Philox4x32-10", () => {
  for (const [ctr, key, expected] of PHILOX_KAT) {
    assert.deepEqual([...philox4x32(ctr, key)], expected);
  }
});

/** Philox4x32-10 with BigInt products: an independent check of the float-split mulhi. */
function philoxBigInt(ctr: number[], key: number[]): number[] {
  const mask = 0xffffffffn;
  let [c0, c1, c2, c3] = ctr.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & mask, (p0 >> 32n) ^ c3 ^ k1, p0 & mask];
    k0 = (k0 + 0x9e3779b9n) & mask;
    k1 = (k1 + 0xbb67ae85n) & mask;
  }
  return [c0, c1, c2, c3].map(Number);
}

Deno.test("philox4x32() agrees with a BigInt implementation on random counters and keys", () => {
  const word = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(
    fc.property(fc.array(word, { minLength: 4, maxLength: 4 }), fc.tuple(word, word), (c, k) => {
      assert.deepEqual([...philox4x32(c, k)], philoxBigInt(c, k));
    }),
    { seed: 17, numRuns: 300 },
  );
});

Deno.test("dropoutBits() takes the fewest bits that represent the rate exactly, else 16", () => {
  assert.deepEqual([0, 0.5, 0.25, 0.75, 0.125, 0.0625, 0.2, 0.3].map(dropoutBits), [
    1,
    1,
    2,
    2,
    4,
    4,
    16,
    16,
  ]);
  assert.deepEqual([0.5, 0.25, 0.2].map(dropoutThreshold), [1, 1, 13107]);
  assert.throws(() => dropoutBits(1), RangeError);
  assert.throws(() => dropoutBits(-0.1), RangeError);
  assert.throws(() => dropoutBits(NaN), RangeError);
});

// ---------------------------------------------------------------------------
// Statistical properties of the dropout masks, checked on the real generator
// and shown to catch planted bugs. Every check is a two-sided binomial bound
// at Z = 5 standard deviations (false alarm ≤ 5.7e-7 per check; the inputs are
// fixed by seeds, so the outcome is deterministic).

const Z = 5;
const N = 1 << 15;

/** How masks are made: the layer stream for (seed, path, step) and the mask of a stream. */
interface MaskSource {
  streamOf(seed: number, path: string, step: number): ArrayLike<number>;
  maskOf(stream: ArrayLike<number>, rate: number, size: number): Float32Array;
}

const REAL: MaskSource = { streamOf: dropoutStream, maskOf: dropoutMask };

/** |count − n·p| ≤ Z·√(n·p·(1 − p)), or a message saying what failed. */
function binomial(what: string, count: number, n: number, p: number): string[] {
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.abs(count - n * p) <= Z * sd
    ? []
    : [`${what}: ${count} of ${n}, expected ${(n * p).toFixed(1)} ± ${(Z * sd).toFixed(1)}`];
}

/** Elements dropped in both `a` (shifted by `lag`) and `b`. */
function bothDropped(a: Float32Array, b: Float32Array, lag = 0): number {
  let k = 0;
  for (let i = 0; i + lag < b.length; i++) if (a[i] === 0 && b[i + lag] === 0) k++;
  return k;
}

/** Failures of the mask properties for `rate` and `seed`. */
function maskFailures(source: MaskSource, rate: number, seed: number): string[] {
  const { streamOf, maskOf } = source;
  const m = maskOf(streamOf(seed, "03.dropout", 5), rate, N);
  const dropped = m.filter((v) => v === 0).length;
  const scale = Math.fround(1 / (1 - rate));
  const failures = binomial("dropped share", dropped, N, rate);
  if (!m.every((v) => v === 0 || v === scale)) failures.push("entries not 0 or 1/(1 − rate)");
  // Independence: both-dropped counts follow Binomial(n, rate²).
  const others: [string, Float32Array][] = [
    ["next step", maskOf(streamOf(seed, "03.dropout", 6), rate, N)],
    ["step 5 + 2^32", maskOf(streamOf(seed, "03.dropout", 5 + 2 ** 32), rate, N)],
    ["other layer", maskOf(streamOf(seed, "07.dropout", 5), rate, N)],
    ["other seed", maskOf(streamOf(seed + 1, "03.dropout", 5), rate, N)],
  ];
  for (const [what, other] of others) {
    failures.push(...binomial(`dropped in both, ${what}`, bothDropped(m, other), N, rate * rate));
  }
  // Within a mask: neighbours (other SIMD lane), other fields and words, other blocks and groups.
  for (const lag of [1, 3, 4, 8, 16, 32, 64, 512]) {
    failures.push(
      ...binomial(`dropped at i and i + ${lag}`, bothDropped(m, m, lag), N - lag, rate * rate),
    );
  }
  return failures;
}

const RATES = [0.5, 0.25, 0.2, 0.1, 0.125, 0.6, 0.75, 0.9];

Deno.test(
  "dropout masks drop the stated share, and are independent across steps, layers, seeds and positions",
  () => {
    for (const rate of RATES) {
      for (const seed of [1, 2, 3]) assert.deepEqual(maskFailures(REAL, rate, seed), [], `${rate}`);
    }
  },
);

Deno.test("the mask checks catch planted bugs", () => {
  const mutants: Record<string, MaskSource> = {
    "stream ignores the step": { ...REAL, streamOf: (seed, path) => dropoutStream(seed, path, 0) },
    "stream ignores the layer": {
      ...REAL,
      streamOf: (seed, _p, step) => dropoutStream(seed, "", step),
    },
    "off-by-one threshold (field > t)": {
      ...REAL,
      maskOf: (s, rate, n) => {
        const bits = dropoutBits(rate);
        const m = dropoutMask(s, Math.min(1 - 2 ** -bits, rate + 2 ** -bits), n);
        return m.map((v) => (v === 0 ? 0 : Math.fround(1 / (1 - rate))));
      },
    },
    "SIMD lanes share a block": {
      ...REAL,
      maskOf: (s, rate, n) => dropoutMask(s, rate, n).map((_v, i, m) => m[i & ~1]!),
    },
    "32-bit words reused across groups": {
      ...REAL,
      maskOf: (s, rate, n) => dropoutMask(s, rate, n).map((_v, i, m) => m[i % 64]!),
    },
  };
  for (const [name, source] of Object.entries(mutants)) {
    // Each bug must fail at some rate where it makes a difference.
    const caught = RATES.some((rate) => maskFailures(source, rate, 1).length > 0);
    assert.ok(caught, `planted bug not caught: ${name}`);
  }
});

Deno.test("dropoutMask() is a pure function of the stream, rate and position", () => {
  const s = dropoutStream(9, "05.dropout", 3);
  const whole = dropoutMask(s, 0.2, 5000);
  assert.deepEqual(dropoutMask(s, 0.2, 5000), whole);
  // A prefix is the same whatever the tensor's size: decisions depend on the position only.
  assert.deepEqual(dropoutMask(s, 0.2, 777), whole.subarray(0, 777));
  assert.deepEqual([...dropoutStream(9, "05.dropout", 3)], [
    ...streamState(9, "dropout", "05.dropout", 3),
  ]);
});
