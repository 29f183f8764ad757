/**
 * Weight initialisation from the run's random stream, identical on every
 * backend (values are generated in JS, then uploaded).
 *
 * - `glorot_uniform` (Keras default): kernel ~ U(±√(6 / (fan_in + fan_out))), bias 0.
 * - `torch_default` (PyTorch's `nn.Conv2d`/`nn.Linear`): kernel and bias
 *   ~ U(±1/√fan_in), which is kaiming_uniform with a = √5.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { InitScheme } from "./types.ts";

/** Fan-in and fan-out of a kernel: receptive field times input or output channels. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/** Values for a kernel of `count` entries with the given fans. */
export function initKernel(count: number, fans: Fans, scheme: InitScheme, rng: Rng): Float32Array {
  const limit = scheme === "glorot_uniform"
    ? Math.sqrt(6 / (fans.fanIn + fans.fanOut))
    : 1 / Math.sqrt(fans.fanIn);
  return uniform(count, limit, rng);
}

/** Values for a bias of `count` entries. */
export function initBias(count: number, fans: Fans, scheme: InitScheme, rng: Rng): Float32Array {
  return scheme === "glorot_uniform"
    ? new Float32Array(count)
    : uniform(count, 1 / Math.sqrt(fans.fanIn), rng);
}

function uniform(count: number, limit: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng.nextFloat() - 1) * limit;
  return out;
}
