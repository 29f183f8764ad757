/**
 * How long a run is expected to take, for handing the longest runs to the
 * workers first (so that a study does not end with one core busy on a long
 * run while the others idle). Only the order of dispatch depends on it, never
 * a result.
 *
 * The estimate is a work count in multiply-add equivalents, not seconds: per
 * example, the forward pass's multiply-adds plus `ELEMENT_COST` for every
 * activation element a layer writes (element-wise layers, pooling, batch norm
 * and dropout are bound by memory traffic, not arithmetic); a training example
 * costs three forward passes (forward, and the two products of the backward
 * pass), an evaluated one costs one; and every training step costs
 * `STEP_COST` per layer (the per-op overhead that dominates small networks).
 * A run trains `epochs` epochs (early stopping may cut that short: the
 * estimate is an upper bound) and evaluates its validation split every epoch
 * and its test split once.
 *
 * The two constants were fitted (least squares on relative error) to the mean
 * run seconds of the 23 variants of the committed quick study (native
 * backend); the model ranks those variants with Spearman's ρ = 0.91.
 *
 * @module
 */
import type { Layer } from "../models/types.ts";
import type { RunConfig } from "../spec.ts";

/** Work of one example's forward pass. */
export interface ForwardWork {
  /** Multiply-adds of convolutions and dense layers. */
  macs: number;
  /** Activation elements written by every layer (the input not counted). */
  elements: number;
}

/** Multiply-add equivalents of writing one activation element (fitted; module notes). */
export const ELEMENT_COST = 60;
/** Multiply-add equivalents of one training step, per layer (fitted; module notes). */
export const STEP_COST = 5.6e7;

/** Per-example shape: [H, W, C] or [features]. */
type Shape = number[];

function outSize(size: number, window: number, stride: number, padding: string): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

function walk(layers: Layer[], shape: Shape, work: ForwardWork): Shape {
  for (const layer of layers) shape = step(layer, shape, work);
  return shape;
}

function step(layer: Layer, shape: Shape, work: ForwardWork): Shape {
  const size = shape.reduce((a, b) => a * b, 1);
  switch (layer.type) {
    case "conv2d": {
      const [h = 1, w = 1, c = 1] = shape;
      const stride = layer.stride ?? 1;
      const padding = layer.padding ?? "same";
      const reach = (layer.kernel - 1) * (layer.dilation ?? 1) + 1;
      const out = [
        outSize(h, reach, stride, padding),
        outSize(w, reach, stride, padding),
        layer.filters,
      ];
      work.macs += out[0]! * out[1]! * layer.filters * layer.kernel * layer.kernel * c;
      work.elements += out[0]! * out[1]! * layer.filters;
      return out;
    }
    case "dense":
      work.macs += size * layer.units;
      work.elements += layer.units;
      return [layer.units];
    case "maxpool":
    case "avgpool": {
      const [h = 1, w = 1, c = 1] = shape;
      const window = layer.size ?? 2;
      const stride = layer.stride ?? window;
      const padding = layer.padding ?? "valid";
      const out = [outSize(h, window, stride, padding), outSize(w, window, stride, padding), c];
      work.elements += out[0]! * out[1]! * c;
      return out;
    }
    case "gap":
      work.elements += shape[2] ?? 1;
      return [shape[2] ?? 1];
    case "flatten":
      return [size];
    case "residual": {
      const out = walk(layer.body, shape, work);
      if ((out[2] ?? 0) !== (shape[2] ?? 0) || layer.shortcut === "projection") {
        const c = shape[2] ?? 1;
        const outSize = out.reduce((a, b) => a * b, 1);
        work.macs += outSize * c; // 1x1 projection
      }
      work.elements += 2 * out.reduce((a, b) => a * b, 1); // sum and activation
      return out;
    }
    case "se": {
      const c = shape[2] ?? 1;
      const units = Math.max(1, Math.floor(c / (layer.ratio ?? 16)));
      work.macs += 2 * c * units;
      work.elements += 2 * size; // pooling read and gating product
      return shape;
    }
    default:
      // Element-wise: activations, batch norm, dropout.
      work.elements += size;
      return shape;
  }
}

/** Forward work of one example through `layers` from `input` (default 28x28x1). */
export function forwardWork(layers: Layer[], input: Shape = [28, 28, 1]): ForwardWork {
  const work = { macs: 0, elements: 0 };
  walk(layers, input, work);
  return work;
}

/** Number of layers, those nested in residual blocks included. */
export function layerCount(layers: Layer[]): number {
  return layers.reduce((n, l) => n + 1 + (l.type === "residual" ? layerCount(l.body) : 0), 0);
}

/** Examples a run trains on, validates on each epoch, and tests on. */
export interface RunExamples {
  train: number;
  validation: number;
  test: number;
}

/** Expected work of a run of `config` on `examples` (relative units; see the module notes). */
export function runCost(config: RunConfig, examples: RunExamples): number {
  const { macs, elements } = forwardWork(config.layers);
  const perExample = macs + ELEMENT_COST * elements;
  const epochs = config.train.epochs;
  const steps = epochs * Math.ceil(examples.train / config.train.batchSize);
  return perExample * (epochs * (3 * examples.train + examples.validation) + examples.test) +
    STEP_COST * layerCount(config.layers) * steps;
}

/**
 * The examples a run of `config` uses from a dataset with `trainCount`
 * training-part and `testCount` test-part examples (as `executeRun` splits them).
 */
export function runExamples(config: RunConfig, trainCount: number, testCount: number): RunExamples {
  const pool = Math.min(config.split.pool ?? trainCount, trainCount);
  const validation = Math.round(pool * config.split.validation);
  return {
    train: pool - validation,
    validation,
    test: Math.min(config.testCount ?? testCount, testCount),
  };
}

/**
 * `items` ordered longest expected first (by `cost`, descending); ties keep
 * their given order, so the order is a pure function of the items.
 */
export function longestFirst<T>(items: readonly T[], cost: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, cost: cost(item) }))
    .sort((a, b) => b.cost - a.cost || a.index - b.index)
    .map((e) => e.item);
}
