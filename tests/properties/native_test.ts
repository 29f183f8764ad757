/**
 * Every property of this folder on the `native` backend (oneDNN kernels on
 * the wasm heap, lib/backends/native/), against the same expectations and the
 * same `cpu` reference as on wasm. Runs in an isolate of its own, so a native
 * kernel that corrupts the wasm heap cannot disturb the wasm tests.
 *
 * When oneDNN cannot be loaded, every test below is registered as ignored,
 * with the reason in its name.
 *
 * @module
 */
import { enableNative } from "./_prop.ts";

await enableNative();
await import("./batch_norm_test.ts");
await import("./dropout_test.ts");
await import("./conv_test.ts");
await import("./pool_test.ts");
await import("./softmax_test.ts");
await import("./blocks_test.ts");
await import("./gradients_test.ts");
await import("./kernels_test.ts");
await import("./regularization_test.ts");
await import("./elementwise_test.ts");
await import("./fused_conv_test.ts");
