import assert from "node:assert/strict";
import { DROPOUT_WASM } from "../../lib/backends/kernels/dropout_wasm.ts";
import { ELEMENTWISE_WASM } from "../../lib/backends/kernels/elementwise_wasm.ts";
import {
  assemble,
  tsModule,
  tsUrl,
  WAT_MODULES,
  watUrl,
} from "../../lib/backends/kernels/wat_build.ts";

const EMBEDDED: Record<string, Uint8Array<ArrayBuffer>> = {
  dropout: DROPOUT_WASM,
  elementwise: ELEMENTWISE_WASM,
};

const EXPORTS: Record<string, string[]> = {
  dropout: ["backward", "forward"],
  elementwise: ["adam", "batchNorm", "reluGrad", "tanh", "tanhGrad"],
};

for (const module of WAT_MODULES) {
  Deno.test(`the embedded ${module.name} module is ${module.name}.wat assembled (rebuild after editing the .wat)`, async () => {
    const bytes = await assemble(await Deno.readTextFile(watUrl(module)));
    assert.deepEqual(EMBEDDED[module.name], bytes);
    assert.equal(await Deno.readTextFile(tsUrl(module)), tsModule(module, bytes));
  });

  Deno.test(`the ${module.name} module validates, imports only the heap and exports its kernels`, () => {
    const compiled = new WebAssembly.Module(EMBEDDED[module.name]!);
    assert.deepEqual(
      WebAssembly.Module.exports(compiled).map((e) => e.name).sort(),
      EXPORTS[module.name],
    );
    assert.deepEqual(WebAssembly.Module.imports(compiled), [
      { module: "env", name: "memory", kind: "memory" },
    ]);
  });
}

Deno.test("every module the build script knows is checked here", () => {
  assert.deepEqual(WAT_MODULES.map((m) => m.name).sort(), Object.keys(EMBEDDED).sort());
});
