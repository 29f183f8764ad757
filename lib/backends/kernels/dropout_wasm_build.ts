/**
 * Assembles `dropout.wat` into the bytes `dropout_wasm.ts` embeds (with
 * WABT's `wat2wasm`, npm `wabt`). Run after editing the `.wat`:
 *
 * ```sh
 * deno run --allow-read=lib,node_modules --allow-write=lib lib/backends/kernels/dropout_wasm_build.ts
 * ```
 *
 * `tests/backends/dropout_wasm_test.ts` fails when the embedded bytes and the
 * source differ.
 *
 * @module
 */
import wabtInit from "wabt";

/** Path of the WebAssembly text source, relative to this module. */
export const WAT_URL = new URL("./dropout.wat", import.meta.url);
/** Path of the generated TypeScript module. */
export const TS_URL = new URL("./dropout_wasm.ts", import.meta.url);

/** The binary module assembled from `wat` (SIMD enabled). Throws on a syntax or validation error. */
export async function assemble(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("dropout.wat", wat, { simd: true });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** The source of `dropout_wasm.ts` embedding `bytes`. */
export function tsModule(bytes: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...bytes));
  const lines = base64.match(/.{1,96}/g)!.map((l) => `  "${l}",`).join("\n");
  return `/**
 * The dropout kernels' WebAssembly module, assembled from \`dropout.wat\` by
 * \`dropout_wasm_build.ts\` (generated file: edit the \`.wat\` and rebuild).
 *
 * @module
 */

const BASE64 = [
${lines}
].join("");

/** The module's bytes. */
export const DROPOUT_WASM: Uint8Array<ArrayBuffer> = Uint8Array.from(
  atob(BASE64),
  (c) => c.charCodeAt(0),
);
`;
}

if (import.meta.main) {
  const bytes = await assemble(await Deno.readTextFile(WAT_URL));
  await Deno.writeTextFile(TS_URL, tsModule(bytes));
}
