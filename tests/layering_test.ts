import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";

/** Every module reachable from `entry` through relative imports (type-only ones included), with its bare imports. */
async function graph(entry: string): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  const queue = [normalize(entry)];
  while (queue.length > 0) {
    const path = queue.pop()!;
    if (seen.has(path)) continue;
    const source = await Deno.readTextFile(path);
    const specifiers = [
      ...source.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g),
    ]
      .map((m) => m[1] ?? m[2]!);
    seen.set(path, specifiers.filter((s) => !s.startsWith(".")));
    for (const s of specifiers.filter((s) => s.startsWith("."))) {
      queue.push(normalize(join(dirname(path), s)));
    }
  }
  return seen;
}

// Data flows one way (data → split → model → train → CSV → stats → report): the
// modules after the CSV step, and the splits, must not reach back to TF.js.
const TF_FREE = [
  "lib/cli/report.ts",
  "lib/golden.ts",
  "lib/verify.ts",
  "lib/splits.ts",
  "lib/study/results.ts",
  "lib/study/meta.ts",
  ...[...Deno.readDirSync("lib/stats")].map((e) => `lib/stats/${e.name}`),
];

for (const entry of TF_FREE) {
  Deno.test(`${entry} never imports TF.js, not even for types`, async () => {
    for (const [path, bare] of await graph(entry)) {
      const tf = bare.filter((s) => s.includes("tensorflow") || s.includes("tfjs"));
      assert.deepEqual(tf, [], `${path} imports ${tf.join(", ")}`);
    }
  });
}
