import assert from "node:assert/strict";
import { DROPOUT_WASM } from "../../lib/backends/kernels/dropout_wasm.ts";
import {
  assemble,
  TS_URL,
  tsModule,
  WAT_URL,
} from "../../lib/backends/kernels/dropout_wasm_build.ts";

Deno.test("the embedded dropout module is dropout.wat assembled (rebuild after editing the .wat)", async () => {
  const bytes = await assemble(await Deno.readTextFile(WAT_URL));
  assert.deepEqual(DROPOUT_WASM, bytes);
  assert.equal(await Deno.readTextFile(TS_URL), tsModule(bytes));
});

Deno.test("the dropout module validates and exports its two kernels", () => {
  const module = new WebAssembly.Module(DROPOUT_WASM);
  assert.deepEqual(
    WebAssembly.Module.exports(module).map((e) => e.name).sort(),
    ["backward", "forward"],
  );
  assert.deepEqual(WebAssembly.Module.imports(module), [
    { module: "env", name: "memory", kind: "memory" },
  ]);
});
