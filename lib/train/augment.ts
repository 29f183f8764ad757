/**
 * Random affine augmentation of 28x28 grey images, as Keras'
 * `ImageDataGenerator(rotation_range, width_shift_range, height_shift_range,
 * horizontal_flip)` of seed study 002: rotation about the centre, shifts as a
 * fraction of the side, a horizontal flip with probability 1/2, bilinear
 * sampling and nearest-edge fill. Parameters come from the caller's stream.
 *
 * @module
 */
import { z } from "zod";
import type { Rng } from "../rng.ts";

/** Augmentation ranges. */
export const AugmentSchema = z.strictObject({
  /** Maximum rotation, degrees (uniform in ±rotation). */
  rotation: z.number().min(0),
  /** Maximum shift as a fraction of the image side (uniform in ±shift, per axis). */
  shift: z.number().min(0).lt(0.5),
  /** Flip left-right with probability 1/2. */
  flip: z.boolean(),
});
/** Augmentation ranges. */
export type AugmentSettings = z.infer<typeof AugmentSchema>;

/**
 * Augment `count` images of `side`×`side` pixels in `images` (values in
 * [0, 1]) in place, drawing each image's parameters from `rng`.
 */
export function augmentBatch(
  images: Float32Array,
  count: number,
  side: number,
  settings: AugmentSettings,
  rng: Rng,
): void {
  const pixels = side * side;
  const source = new Float32Array(pixels);
  const centre = (side - 1) / 2;
  for (let n = 0; n < count; n++) {
    const angle = ((2 * rng.nextFloat() - 1) * settings.rotation * Math.PI) / 180;
    const tx = (2 * rng.nextFloat() - 1) * settings.shift * side;
    const ty = (2 * rng.nextFloat() - 1) * settings.shift * side;
    const flip = settings.flip && rng.nextFloat() < 0.5;
    const image = images.subarray(n * pixels, (n + 1) * pixels);
    source.set(image);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        // Inverse map: output pixel -> source position (undo shift, then rotation, then flip).
        const dx = x - centre - tx;
        const dy = y - centre - ty;
        let sx = cos * dx + sin * dy + centre;
        const sy = -sin * dx + cos * dy + centre;
        if (flip) sx = side - 1 - sx;
        image[y * side + x] = bilinear(source, side, sx, sy);
      }
    }
  }
}

function bilinear(src: Float32Array, side: number, x: number, y: number): number {
  const cx = Math.min(side - 1, Math.max(0, x));
  const cy = Math.min(side - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(side - 1, x0 + 1);
  const y1 = Math.min(side - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const top = src[y0 * side + x0]! * (1 - fx) + src[y0 * side + x1]! * fx;
  const bottom = src[y1 * side + x0]! * (1 - fx) + src[y1 * side + x1]! * fx;
  return top * (1 - fy) + bottom * fy;
}
