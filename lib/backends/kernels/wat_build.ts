/**
 * Assembles the kernels' WebAssembly text sources (`dropout.wat`,
 * `elementwise.wat`) into the bytes their generated modules embed
 * (`dropout_wasm.ts`, `elementwise_wasm.ts`), with WABT's `wat2wasm` (npm
 * `wabt`). Run after editing a `.wat`:
 *
 * ```sh
 * deno run --allow-read=lib,node_modules --allow-write=lib lib/backends/kernels/wat_build.ts
 * ```
 *
 * `tests/backends/wat_modules_test.ts` fails when embedded bytes and their
 * source differ.
 *
 * @module
 */
import wabtInit from "wabt";

/** One WebAssembly module of the kernels. */
export interface WatModule {
  /** Base name: the source is `<name>.wat`, the generated module `<name>_wasm.ts`. */
  name: string;
  /** Name of the `Uint8Array` the generated module exports. */
  constant: string;
  /** Whose module it is, for the generated file's doc comment ("The dropout kernels'"). */
  owner: string;
}

/** Every module this script builds. */
export const WAT_MODULES: readonly WatModule[] = [
  { name: "dropout", constant: "DROPOUT_WASM", owner: "The dropout kernels'" },
  { name: "elementwise", constant: "ELEMENTWISE_WASM", owner: "The fused element-wise kernels'" },
];

/** Path of `module`'s WebAssembly text source. */
export function watUrl(module: WatModule): URL {
  return new URL(`./${module.name}.wat`, import.meta.url);
}

/** Path of `module`'s generated TypeScript module. */
export function tsUrl(module: WatModule): URL {
  return new URL(`./${module.name}_wasm.ts`, import.meta.url);
}

/** The binary module assembled from `wat` (SIMD enabled). Throws on a syntax or validation error. */
export async function assemble(wat: string, file = "module.wat"): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(file, wat, { simd: true });
  try {
    parsed.validate();
    return new Uint8Array(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

/** The source of `module`'s generated TypeScript module embedding `bytes`. */
export function tsModule(module: WatModule, bytes: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...bytes));
  const lines = base64.match(/.{1,96}/g)!.map((l) => `  "${l}",`).join("\n");
  return `/**
 * ${module.owner} WebAssembly module, assembled from \`${module.name}.wat\` by
 * \`wat_build.ts\` (generated file: edit the \`.wat\` and rebuild).
 *
 * @module
 */

const BASE64 = [
${lines}
].join("");

/** The module's bytes. */
export const ${module.constant}: Uint8Array<ArrayBuffer> = Uint8Array.from(
  atob(BASE64),
  (c) => c.charCodeAt(0),
);
`;
}

if (import.meta.main) {
  for (const module of WAT_MODULES) {
    const bytes = await assemble(await Deno.readTextFile(watUrl(module)), `${module.name}.wat`);
    await Deno.writeTextFile(tsUrl(module), tsModule(module, bytes));
  }
}
