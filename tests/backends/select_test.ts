import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initTensorflow } from "../../lib/backends/tensorflow.ts";
import { BackendError } from "../../lib/errors.ts";

Deno.test("initTensorflow() explains a missing libtensorflow binding instead of crashing", async () => {
  let error: unknown;
  try {
    await initTensorflow();
  } catch (err) {
    error = err;
  }
  if (error === undefined) {
    // tfjs-node is installed with its binding here: then the backend must be active.
    assert.equal(tf.getBackend(), "tensorflow");
    return;
  }
  assert.ok(error instanceof BackendError, String(error));
  assert.match(error.message, /tfjs-node/);
  assert.match(error.message, /--backend native or --backend wasm/);
});
