/**
 * Adam as tfjs-core's `AdamOptimizer`, with each variable's update run as one
 * fused kernel (`BnlabAdam`, lib/backends/kernels/elementwise.ts) instead of
 * twelve separate ops, where the active backend has that kernel (`cpu`,
 * `wasm`, `native`); elsewhere (`tensorflow`) the stock update runs. The
 * kernel rounds as the ops do, so both give the same bits, and the optimizer's
 * state (moments, `accBeta1`/`accBeta2`, iterations) is kept in the same
 * fields, so checkpoints work either way.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { ADAM, type AdamAttrs } from "../backends/kernels/elementwise.ts";

/** The parts of tfjs-core's Adam the fused update reads and writes (not public API; 4.x). */
interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/** The argument of `AdamOptimizer.applyGradients`. */
type VariableGradients = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

/** tfjs-core's Adam with a fused per-variable update (same results, fewer passes over memory). */
export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    if (!tf.getKernel(ADAM, tf.getBackend())) return super.applyGradients(variableGradients);
    const self = this as unknown as AdamFields;
    const list = Array.isArray(variableGradients);
    const names = list ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs: AdamAttrs = {
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      learningRate: self.learningRate,
    };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        self.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        self.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = list ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [p1, m1, v1] = tf.engine().runKernel(
          ADAM,
          { value, m, v, gradient, accBeta1: self.accBeta1, accBeta2: self.accBeta2 },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        m.assign(m1!);
        v.assign(v1!);
        value.assign(p1!);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.incrementIterations();
  }
}
