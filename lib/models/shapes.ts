/**
 * Shape inference for a layer list without TF.js and without allocating a
 * weight: the per-example shape after every layer, the number of trainable
 * parameters, and an estimate of a training step's memory. A study checks
 * every variant with it before it creates a folder or starts a worker, so an
 * impossible architecture (a kernel larger than its input, pooling that
 * shrinks the image to nothing, a dense layer of a billion units) is a spec
 * error with the layer and the shapes involved, not a crash mid-study.
 *
 * The output-size rules are TF's (`same`: ⌈n / s⌉; `valid`:
 * ⌈(n − (k − 1)·d) / s⌉); tests/models/shapes_test.ts checks them against
 * the model builder on every committed variant and on random layer stacks.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Layer, Padding } from "./types.ts";

/** Per-example shape: [H, W, C] or [features]. */
export type Shape = number[];

/** What a layer list amounts to. */
export interface ShapeSummary {
  /** Output shape of each top-level layer, in order. */
  shapes: Shape[];
  /** Shape of the logits. */
  output: Shape;
  /** Trainable scalars (what `Model.paramCount` reports). */
  params: number;
  /** Scalars of all activations of one example (forward pass), summed over layers. */
  activations: number;
}

/** Largest model a run accepts: 100 M trainable parameters (about 1.6 GB with Adam's state). */
export const MAX_PARAMS = 100_000_000;
/** Largest activation memory of one training batch, bytes (forward values and their gradients). */
export const MAX_BATCH_BYTES = 8 * 2 ** 30;

/**
 * Infer the shapes of `layers` on `input` (default 28×28×1) and check that
 * they end in `classes` logits. Throws `UsageError` naming `where` (for
 * example `placement variant "bn"`), the layer path and the shapes when a
 * layer cannot take its input.
 */
export function inferShapes(
  layers: Layer[],
  classes: number,
  where: string,
  input: Shape = [28, 28, 1],
): ShapeSummary {
  const state = { params: 0, activations: 0 };
  const shapes: Shape[] = [];
  let shape = input;
  layers.forEach((layer, i) => {
    shape = layerShape(layer, shape, `${String(i).padStart(2, "0")}.${layer.type}`, where, state);
    shapes.push(shape);
  });
  if (shape.length !== 1 || shape[0] !== classes) {
    throw new UsageError(
      `${where}: the model's output has shape [${shape}], expected [${classes}] logits; end the ` +
        `layer list with {"type": "dense", "units": ${classes}}.`,
    );
  }
  if (state.params > MAX_PARAMS) {
    throw new UsageError(
      `${where}: the model has ${state.params.toExponential(2)} trainable parameters, more than ` +
        `the ${MAX_PARAMS.toExponential(0)} a run accepts (weights, gradients and Adam's two ` +
        `moments take 16 bytes each); make the layers smaller.`,
    );
  }
  return { shapes, output: shape, params: state.params, activations: state.activations };
}

/**
 * Check that one training batch of `batchSize` examples fits the activation
 * budget. Throws `UsageError` with the estimate.
 */
export function checkBatchMemory(summary: ShapeSummary, batchSize: number, where: string): void {
  const bytes = summary.activations * batchSize * 4 * 2;
  if (bytes > MAX_BATCH_BYTES) {
    throw new UsageError(
      `${where}: one training batch of ${batchSize} needs about ${
        (bytes / 2 ** 30).toFixed(1)
      } GiB of activations (forward values and gradients), more than the ${
        MAX_BATCH_BYTES / 2 ** 30
      } GiB a run accepts; use fewer filters or units, or a smaller batch.`,
    );
  }
}

/** Output size of a convolution or pooling window along one axis (TF's rule). */
export function outSize(
  n: number,
  k: number,
  stride: number,
  padding: Padding,
  dilation = 1,
): number {
  return padding === "same" ? Math.ceil(n / stride) : Math.ceil((n - (k - 1) * dilation) / stride);
}

function layerShape(
  layer: Layer,
  inShape: Shape,
  path: string,
  where: string,
  state: { params: number; activations: number },
): Shape {
  const image = (): [number, number, number] => {
    if (inShape.length !== 3) {
      throw new UsageError(
        `${where}: layer ${path} needs an image input [H, W, C], but gets [${inShape}].`,
      );
    }
    return inShape as [number, number, number];
  };
  const out = (shape: Shape): Shape => {
    state.activations += shape.reduce((a, b) => a * b, 1);
    return shape;
  };
  const window = (h: number, w: number, k: number, s: number, p: Padding, d: number): Shape => {
    const oh = outSize(h, k, s, p, d);
    const ow = outSize(w, k, s, p, d);
    if (oh < 1 || ow < 1) {
      throw new UsageError(
        `${where}: layer ${path} has a ${k}×${k} window${d > 1 ? ` (dilation ${d})` : ""} on a ` +
          `${h}×${w} input with padding "${p}", which leaves no output; use a smaller window, ` +
          `"padding": "same", or fewer pooling layers before it.`,
      );
    }
    return [oh, ow];
  };
  switch (layer.type) {
    case "conv2d": {
      const [h, w, c] = image();
      const { filters, kernel: k, stride = 1, padding = "same", dilation = 1, bias = true } = layer;
      if (dilation > 1 && stride > 1) {
        throw new UsageError(`${where}: layer ${path}: a dilated convolution needs stride 1.`);
      }
      const [oh, ow] = window(h, w, k, stride, padding, dilation);
      state.params += k * k * c * filters + (bias ? filters : 0);
      return out([oh!, ow!, filters]);
    }
    case "dense": {
      if (inShape.length !== 1) {
        throw new UsageError(
          `${where}: layer ${path} needs a flat input but gets [${inShape}]; add ` +
            `{"type": "flatten"} or {"type": "gap"} before it.`,
        );
      }
      state.params += inShape[0]! * layer.units + ((layer.bias ?? true) ? layer.units : 0);
      return out([layer.units]);
    }
    case "relu":
    case "tanh":
    case "sigmoid":
    case "dropout":
      return out(inShape);
    case "batchnorm":
      state.params += 2 * inShape[inShape.length - 1]!;
      return out(inShape);
    case "maxpool":
    case "avgpool": {
      const [h, w, c] = image();
      const size = layer.size ?? 2;
      const [oh, ow] = window(h, w, size, layer.stride ?? size, layer.padding ?? "valid", 1);
      return out([oh!, ow!, c]);
    }
    case "gap":
      return out([image()[2]]);
    case "flatten":
      return out([inShape.reduce((a, b) => a * b, 1)]);
    case "se": {
      const [, , c] = image();
      const units = Math.max(1, Math.floor(c / (layer.ratio ?? 16)));
      state.params += c * units + units + units * c + c;
      return out(inShape);
    }
    case "residual": {
      const [h, w, c] = image();
      let shape = inShape;
      layer.body.forEach((inner, i) => {
        shape = layerShape(
          inner,
          shape,
          `${path}/body/${String(i).padStart(2, "0")}.${inner.type}`,
          where,
          state,
        );
      });
      if (shape.length !== 3) {
        throw new UsageError(
          `${where}: residual block ${path} must end in an image, but its body gives [${shape}].`,
        );
      }
      const [oh, ow, oc] = shape as [number, number, number];
      const kind = layer.shortcut ?? (oc === c ? "identity" : "projection");
      if (kind === "identity") {
        if (oh !== h || ow !== w || (c !== oc && c !== 1)) {
          throw new UsageError(
            `${where}: residual block ${path} maps [${inShape}] to [${shape}]; an identity ` +
              `shortcut needs equal shapes (or one input channel), so use "shortcut": "projection".`,
          );
        }
      } else {
        if (h % oh !== 0 || w % ow !== 0 || h / oh !== w / ow) {
          throw new UsageError(
            `${where}: residual block ${path} cannot project [${inShape}] onto [${shape}].`,
          );
        }
        state.params += c * oc + oc;
      }
      return out(shape);
    }
  }
}
