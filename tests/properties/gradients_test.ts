/**
 * Autodiff gradients of small models of every kind of layer the experiments
 * use agree with central finite differences of the training loss
 * (cross-entropy in training mode, plus the Keras-style L2 penalty), on cpu,
 * wasm and native. The models are built by `buildModel` (lib/models/build.ts),
 * so the harness's own gradients (fused batch norm, dilated convolution) and
 * the replaced wasm kernels are all on the path.
 *
 * Finite differences in float32. The loss is evaluated in float32, so each
 * evaluation carries a rounding error of about an ulp of L (≈ 1–3e-7 for
 * L ≈ 1); a central difference with step ε divides that by 2ε, while its
 * truncation error is ε²·L‴/6. Hence a moderately large step ε = 1e-2: noise
 * ≈ 2e-5, truncation ≈ 2e-5·L‴. The actual step is fround(w ± ε) − w, not ε.
 * A coordinate passes when |g − fd| ≤ atol + 1e-2·max(|g|, |fd|), with
 * atol = 1e-4 at ε = 1e-2; if it does not (strong curvature, e.g. batch norm
 * over a batch of two), the smaller steps below are tried too.
 *
 * Kinks (ReLU, max pooling) by construction: the `Relu` and `MaxPool` kernels
 * of the active backend are wrapped to record the sign pattern of every ReLU
 * input and the arg-max of every pooling window. A difference is used only
 * when the pattern is the same at w − ε, w and w + ε (the loss is then smooth
 * on the segment); otherwise it is retried with ε = 1e-3 (atol 1e-3, for the
 * 10x larger noise) and then ε = 1e-4 (atol 2e-2). When a kink lies within
 * 1e-4 of w (a unit whose input is ~0 at w itself), autodiff gives the
 * derivative on the side where the pattern is that of w, so the one-sided
 * difference on that side is used. The coordinate is replaced by another if
 * the pattern changes on both sides even at ε = 1e-4. Every weight must get a
 * kink-free coordinate, and at most half of all coordinates tried may be replaced.
 *
 * Coordinates: for every trainable variable, the entry with the largest |g|
 * and random entries, three in all, so a wrong gradient of any single variable fails.
 *
 * Fixed fast-check seed (override: BNLAB_FC_SEED=<int>); a deeper sweep, ten times the runs
 * on larger shapes (see `_prop.ts`; native: `native_test.ts` re-runs this file there), when run as:
 *
 * ```sh
 * BNLAB_DEEP=1 deno test --allow-read=.,/tmp,/usr/share/datasets,$HOME/.cache/bnlab --allow-sys=cpus \
 *   --allow-write=/tmp --allow-ffi \
 *   --allow-env=HOME,XDG_CACHE_HOME,FASHION_MNIST_DIR,MNIST_DIR,BNLAB_DEBUG,BNLAB_DNNL_PATH,BNLAB_FC_SEED,BNLAB_DEEP \
 *   tests/properties/gradients_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { rngAt } from "../../lib/rng.ts";
import { buildCase, GRAD_CASES, type GradCase, lossFunction } from "./_cases.ts";
import { backendTest, check, depth, scoped, values } from "./_prop.ts";

function setEntry(v: tf.Variable, base: Float32Array, index: number, value: number): void {
  tf.tidy(() => {
    const copy = Float32Array.from(base);
    copy[index] = value;
    v.assign(tf.tensor(copy, v.shape, "float32"));
  });
}

/** Records which side of every kink the forward passes are on, while `recording`. */
class KinkRecorder {
  recording = false;
  #parts: string[] = [];
  #restore: (() => void)[] = [];

  /** Wrap `Relu` and `MaxPool` of the active backend. */
  constructor() {
    const backendName = tf.getBackend();
    for (const name of ["Relu", "MaxPool"]) {
      const config = tf.getKernel(name, backendName);
      if (!config) throw new Error(`no ${name} kernel on ${backendName}`);
      const kernelFunc = ((
        args: { inputs: { x: tf.TensorInfo }; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
      ) => {
        if (this.recording) this.#parts.push(this.#pattern(name, args));
        return config.kernelFunc(args as never);
      }) as unknown as tf.KernelFunc;
      tf.unregisterKernel(name, backendName);
      tf.registerKernel({ ...config, kernelFunc });
      this.#restore.push(() => {
        tf.unregisterKernel(name, backendName);
        tf.registerKernel(config);
      });
    }
  }

  #pattern(
    name: string,
    args: { inputs: { x: tf.TensorInfo }; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  ): string {
    const x = args.backend.readSync(args.inputs.x.dataId) as Float32Array;
    if (name === "Relu") return Array.from(x, (v) => (v > 0 ? "1" : "0")).join("");
    const { filterSize, strides, pad } = args.attrs as unknown as tf.MaxPoolAttrs;
    const shape = args.inputs.x.shape as [number, number, number, number];
    const info = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad);
    const [n, h, w, c] = shape;
    const where: number[] = [];
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < info.outHeight; oy++) {
        for (let ox = 0; ox < info.outWidth; ox++) {
          for (let k = 0; k < c; k++) {
            let best = -1;
            for (
              let i = oy * info.strideHeight - info.padInfo.top;
              i < oy * info.strideHeight - info.padInfo.top + info.filterHeight;
              i++
            ) {
              for (
                let j = ox * info.strideWidth - info.padInfo.left;
                j < ox * info.strideWidth - info.padInfo.left + info.filterWidth;
                j++
              ) {
                if (i < 0 || i >= h || j < 0 || j >= w) continue;
                const at = ((b * h + i) * w + j) * c + k;
                if (best < 0 || x[at]! > x[best]!) best = at;
              }
            }
            where.push(best);
          }
        }
      }
    }
    return where.join(",");
  }

  /** The pattern of the forward passes `fn` runs. */
  during(fn: () => void): string {
    this.#parts = [];
    this.recording = true;
    try {
      fn();
    } finally {
      this.recording = false;
    }
    return this.#parts.join("|");
  }

  /** Put the original kernels back. */
  dispose(): void {
    for (const restore of this.#restore) restore();
  }
}

function checkCase(c: GradCase): void {
  const rtol = 1e-2;
  const steps = [{ eps: 1e-2, atol: 1e-4 }, { eps: 1e-3, atol: 1e-3 }, { eps: 1e-4, atol: 2e-2 }];
  check(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 2, max: 4 }),
      (seed, n) => {
        const model = buildCase(c, seed);
        const kinks = new KinkRecorder();
        try {
          const loss = lossFunction(model, seed, n, c.input);
          const evaluate = () => {
            let value = NaN;
            const pattern = kinks.during(() => {
              value = scoped(() => loss().dataSync()[0]!);
            });
            return { value, pattern };
          };
          const grads = scoped(() => {
            const { grads } = tf.variableGrads(loss, model.trainable);
            return new Map(Object.entries(grads).map(([name, g]) => [name, values(g)]));
          });
          const at0 = evaluate();
          const failures: string[] = [];
          const unchecked: string[] = [];
          let skipped = 0;
          let attempts = 0;
          model.params.filter((p) => p.trainable).forEach((param) => {
            const v = param.variable;
            const g = grads.get(v.name);
            assert.ok(g, `no gradient for ${param.name}`);
            let skippedHere = 0;
            const base = values(v);
            const rng = rngAt(seed, "coords", param.name);
            let largest = 0;
            g.forEach((value, i) => (Math.abs(value) > Math.abs(g[largest]!) ? (largest = i) : 0));
            // The largest entry, then random ones, until three kink-free coordinates are checked.
            const candidates = [
              largest,
              ...Array.from({ length: 11 }, () => rng.nextInt(base.length)),
            ];
            const done = new Set<number>();
            for (const i of candidates) {
              if (done.has(i) || done.size - skippedHere >= Math.min(3, base.length)) continue;
              done.add(i);
              attempts++;
              const w0 = base[i]!;
              // Passed, or the mismatches seen at steps with a stable kink pattern (none: all kinked).
              let passed = false;
              const mismatches: string[] = [];
              for (const [step, { eps, atol }] of steps.entries()) {
                const wp = Math.fround(w0 + eps);
                const wm = Math.fround(w0 - eps);
                setEntry(v, base, i, wp);
                const plus = evaluate();
                setEntry(v, base, i, wm);
                const minus = evaluate();
                setEntry(v, base, i, w0);
                const stablePlus = plus.pattern === at0.pattern;
                const stableMinus = minus.pattern === at0.pattern;
                let fd: number;
                if (stablePlus && stableMinus) {
                  fd = (plus.value - minus.value) / (wp - wm);
                } else if (step === steps.length - 1 && (stablePlus || stableMinus)) {
                  // A kink within 1e-4 of w: the one-sided difference on the kink-free side.
                  fd = stablePlus
                    ? (plus.value - at0.value) / (wp - w0)
                    : (at0.value - minus.value) / (w0 - wm);
                } else {
                  continue;
                }
                if (Math.abs(g[i]! - fd) <= atol + rtol * Math.max(Math.abs(g[i]!), Math.abs(fd))) {
                  passed = true;
                  break;
                }
                mismatches.push(`ε ${eps}: ${fd}`);
              }
              if (passed) continue;
              if (mismatches.length > 0) {
                failures.push(
                  `${param.name}[${i}]: autodiff ${g[i]} vs central differences ${
                    mismatches.join(", ")
                  }`,
                );
              } else {
                skippedHere++;
                skipped++;
              }
            }
            if (done.size === skippedHere) unchecked.push(param.name);
          });
          assert.deepEqual(failures, [], `gradient mismatches in ${c.name}`);
          assert.deepEqual(
            unchecked,
            [],
            "weights whose every candidate coordinate sits at a kink",
          );
          assert.ok(skipped <= 0.5 * attempts, `${skipped} of ${attempts} coordinates cross kinks`);
        } finally {
          kinks.dispose();
          model.dispose();
        }
      },
    ),
    depth(4, 20),
  );
}

for (const c of GRAD_CASES) {
  backendTest(`autodiff gradients match finite differences: ${c.name}`, () => checkCase(c));
}
