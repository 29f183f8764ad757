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

const files = (dir: string) =>
  [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) =>
    `${dir}/${e.name}`
  );

/** Every .ts file under `dir`, recursively. */
function tree(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? tree(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : []
  );
}

/** The relative imports of one file, resolved to paths (type-only ones included). */
function localImports(path: string): string[] {
  const source = Deno.readTextFileSync(path);
  return [...source.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => s.startsWith("."))
    .map((s) => normalize(join(dirname(path), s)));
}

// Data flows one way (data → split → model → train → store → stats → report): the
// modules from the store on, and the splits, must not reach back to TF.js.
const TF_FREE = [
  "lib/cli/report.ts",
  "lib/verify.ts",
  "lib/splits.ts",
  ...files("lib/store"),
  ...files("lib/stats"),
];

for (const entry of TF_FREE) {
  Deno.test(`${entry} never imports TF.js, not even for types`, async () => {
    for (const [path, bare] of await graph(entry)) {
      const tf = bare.filter((s) => s.includes("tensorflow") || s.includes("tfjs"));
      assert.deepEqual(tf, [], `${path} imports ${tf.join(", ")}`);
    }
  });
}

Deno.test("nothing but the CLI imports lib/study", () => {
  for (
    const path of tree("lib").filter((p) =>
      !p.startsWith("lib/study/") && !p.startsWith("lib/cli/")
    )
  ) {
    const bad = localImports(path).filter((p) => p.startsWith("lib/study/"));
    assert.deepEqual(bad, [], `${path} imports ${bad.join(", ")}`);
  }
});

Deno.test("the store imports nothing above it (study, report, verify, CLI, training, models, backends)", () => {
  const above = [
    "lib/study/",
    "lib/report/",
    "lib/cli/",
    "lib/verify.ts",
    "lib/train/",
    "lib/models/",
    "lib/backends/",
    "lib/bench/",
  ];
  for (const path of files("lib/store")) {
    const bad = localImports(path).filter((p) => above.some((a) => p.startsWith(a)));
    assert.deepEqual(bad, [], `${path} imports ${bad.join(", ")}`);
  }
});

Deno.test("golden, verify and report read results through the store only", () => {
  for (
    const path of [
      "lib/verify.ts",
      ...files("lib/report"),
      "lib/cli/report.ts",
      "lib/cli/verify.ts",
    ]
  ) {
    const bad = localImports(path).filter((p) =>
      p.startsWith("lib/study/") && !path.startsWith("lib/cli/verify")
    );
    assert.deepEqual(bad, [], `${path} imports ${bad.join(", ")}`);
  }
});

Deno.test("lib/backends does not reach up into lib/models (gradients sit beside their kernels)", () => {
  for (const path of tree("lib/backends")) {
    const bad = localImports(path).filter((p) => p.startsWith("lib/models/"));
    assert.deepEqual(bad, [], `${path} imports ${bad.join(", ")}`);
  }
});
