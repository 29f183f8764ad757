import assert from "node:assert/strict";
import { machineOf, RunClock, type Timing } from "../../lib/study/clock.ts";

const HERE = machineOf({ arch: "x86_64", cpu: "Intel Xeon", backend: "native", threads: 1 });
const THERE = machineOf({ arch: "x86_64", cpu: "AMD EPYC", backend: "native", threads: 1 });

function timing(
  key: string,
  work: number,
  seconds: number,
  machine: string,
  profile = "full",
): Timing {
  return { key, profile, work, seconds, machine };
}

Deno.test("machineOf() tells machines apart by CPU model, architecture, backend and threads", () => {
  const base = { arch: "x86_64", cpu: "AMD EPYC", backend: "native", threads: 1 };
  const variants = [
    base,
    { ...base, cpu: "Intel Xeon" },
    { ...base, arch: "aarch64" },
    { ...base, backend: "wasm" },
    { ...base, threads: 2 },
    { arch: "x86_64", backend: "native", threads: 1 },
  ];
  assert.equal(new Set(variants.map(machineOf)).size, variants.length);
  assert.equal(machineOf(base), machineOf({ ...base }));
});

Deno.test("the clock knows nothing before any run is measured", () => {
  const clock = new RunClock(HERE, []);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 5 }), undefined);
  assert.equal(clock.speed(), 1);
});

Deno.test("a variant measured on this machine is expected to take its median seconds here", () => {
  const clock = new RunClock(HERE, [
    timing("e/a", 1, 100, HERE),
    timing("e/a", 1, 120, HERE),
    timing("e/a", 1, 400, HERE),
    timing("e/a", 1, 900, THERE), // another machine's runs do not count when this one has some
  ]);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 1 }), 120);
});

Deno.test("runs stored by another machine are scaled by this machine's measured speed", () => {
  // Elsewhere a takes 100 s and b 300 s; here a took 200 s, so this machine is twice as slow.
  const clock = new RunClock(HERE, [
    timing("e/a", 1, 100, THERE),
    timing("e/b", 3, 300, THERE),
    timing("e/a", 1, 200, HERE),
  ]);
  assert.equal(clock.speed(), 2);
  assert.equal(clock.expected({ key: "e/b", profile: "full", work: 3 }), 600);
});

Deno.test("without runs on this machine, other machines' seconds are taken as they are", () => {
  const clock = new RunClock(HERE, [timing("e/b", 3, 300, THERE)]);
  assert.equal(clock.expected({ key: "e/b", profile: "full", work: 3 }), 300);
  // An unseen variant: the cost model's work times the measured seconds per unit of work.
  assert.equal(clock.expected({ key: "e/c", profile: "full", work: 6 }), 600);
});

Deno.test("the clock corrects itself as this study's runs finish on a slower machine", () => {
  const clock = new RunClock(HERE, [timing("e/a", 1, 100, THERE), timing("e/b", 2, 200, THERE)]);
  assert.equal(clock.expected({ key: "e/b", profile: "full", work: 2 }), 200);
  clock.observe({ key: "e/a", profile: "full", work: 1 }, 250);
  assert.equal(clock.speed(), 2.5);
  assert.equal(clock.expected({ key: "e/b", profile: "full", work: 2 }), 500);
  // Once b itself finished here, its own seconds here are the estimate.
  clock.observe({ key: "e/b", profile: "full", work: 2 }, 480);
  assert.equal(clock.expected({ key: "e/b", profile: "full", work: 2 }), 480);
});

Deno.test("another profile's runs of the same variant on this machine beat the all-variant rate", () => {
  const clock = new RunClock(HERE, [
    timing("e/a", 1, 50, HERE, "quick"), // 50 s per unit of work
    timing("e/z", 1, 10, HERE, "quick"),
    timing("e/z", 1, 10, HERE, "quick"),
  ]);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 4 }), 200);
  assert.equal(clock.expected({ key: "e/y", profile: "full", work: 4 }), 40);
});

Deno.test("without a variant measured on both sides, speed is the ratio of the median rates", () => {
  const clock = new RunClock(HERE, [
    timing("e/a", 1, 100, THERE),
    timing("e/b", 2, 150, HERE), // 75 s per unit here against 100 there
  ]);
  assert.equal(clock.speed(), 0.75);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 1 }), 75);
});

Deno.test("runs without usable seconds or work are not evidence", () => {
  const clock = new RunClock(HERE, [
    timing("e/a", 1, Number.NaN, HERE),
    timing("e/a", 1, 0, HERE),
    timing("e/a", 0, 10, HERE),
  ]);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 1 }), undefined);
  clock.observe({ key: "e/a", profile: "full", work: 1 }, Number.POSITIVE_INFINITY);
  assert.equal(clock.expected({ key: "e/a", profile: "full", work: 1 }), undefined);
});
