/**
 * What each metric means in the report: its label, the unit it is shown in,
 * the factor from the CSV value to that unit (accuracies are stored as
 * fractions and shown in percent, their differences in percentage points),
 * and how many decimals it gets.
 *
 * @module
 */
import type { Metric } from "../spec.ts";
import { fixed, signed } from "./format.ts";

/** How a metric is displayed. */
export interface MetricInfo {
  /** Table heading, with the unit, e.g. "Test accuracy (%)". */
  heading: string;
  /** Noun for prose, e.g. "test accuracy". */
  noun: string;
  /** What the metric measures, when the noun does not say it. */
  definition?: string;
  /** Noun phrase for verdicts, with its article, e.g. "a generalisation gap". */
  prose: string;
  /** Comparatives for verdicts: [less, more], e.g. ["smaller", "larger"]. */
  comparatives: [string, string];
  /** Factor from the CSV value to the display unit (100 for accuracies). */
  scale: number;
  /** Unit of a level in prose ("%", " epochs", ""). */
  levelUnit: string;
  /** Unit of a difference in prose, singular and plural ("percentage point(s)", "epoch(s)", ""). */
  diffUnit: { one: string; many: string };
  /** Short unit of a difference for tables and charts ("pp", "epochs", ""). */
  diffShort: string;
  /** Decimals of levels and differences. */
  decimals: number;
}

const LH: [string, string] = ["lower", "higher"];
const ACC = {
  comparatives: LH,
  scale: 100,
  levelUnit: "%",
  diffUnit: { one: "percentage point", many: "percentage points" },
};
const LOSS = {
  comparatives: LH,
  scale: 1,
  levelUnit: "",
  diffUnit: { one: "", many: "" },
  diffShort: "",
  decimals: 4,
};
const EPOCHS = {
  comparatives: LH,
  scale: 1,
  levelUnit: " epochs",
  diffUnit: { one: "epoch", many: "epochs" },
  diffShort: "epochs",
};

/** Display information of every metric a question or table can use. */
export const METRIC_INFO: Record<Metric, MetricInfo> = {
  test_acc: {
    heading: "Test accuracy (%)",
    noun: "test accuracy",
    prose: "test accuracy",
    ...ACC,
    diffShort: "pp",
    decimals: 2,
  },
  val_acc: {
    heading: "Validation accuracy (%)",
    noun: "validation accuracy",
    prose: "validation accuracy",
    ...ACC,
    diffShort: "pp",
    decimals: 2,
  },
  train_acc: {
    heading: "Training accuracy (%)",
    noun: "training accuracy",
    definition: "accuracy on a fixed sample of the training split, in inference mode",
    prose: "training accuracy",
    ...ACC,
    diffShort: "pp",
    decimals: 2,
  },
  running_train_acc: {
    heading: "Running training accuracy (%)",
    noun: "running training accuracy",
    definition: "mean over the epoch's batches in training mode, as Keras reports it",
    prose: "running training accuracy",
    ...ACC,
    diffShort: "pp",
    decimals: 2,
  },
  gap: {
    heading: "Generalisation gap (pp)",
    noun: "generalisation gap",
    definition: "training minus validation accuracy at the tested epoch, both in inference mode",
    prose: "a generalisation gap",
    ...ACC,
    comparatives: ["smaller", "larger"],
    levelUnit: " pp",
    diffShort: "pp",
    decimals: 2,
  },
  test_loss: { heading: "Test loss", noun: "test loss", prose: "a test loss", ...LOSS },
  val_loss: {
    heading: "Validation loss",
    noun: "validation loss",
    prose: "a validation loss",
    ...LOSS,
  },
  train_loss: {
    heading: "Training loss",
    noun: "training loss",
    definition: "loss on a fixed sample of the training split, in inference mode",
    prose: "a training loss",
    ...LOSS,
  },
  running_train_loss: {
    heading: "Running training loss",
    noun: "running training loss",
    definition: "mean over the epoch's batches in training mode, as Keras reports it",
    prose: "a running training loss",
    ...LOSS,
  },
  best_epoch: {
    heading: "Best epoch",
    noun: "epoch of lowest validation loss",
    definition: "epochs to convergence",
    prose: "its best validation loss",
    ...EPOCHS,
    decimals: 2,
  },
  epochs_run: {
    heading: "Epochs run",
    noun: "number of epochs run",
    prose: "training",
    ...EPOCHS,
    decimals: 2,
  },
  acc_per_mparam: {
    heading: "Accuracy per M params",
    noun: "test accuracy per million parameters",
    definition: "test accuracy (fraction) divided by the parameter count in millions",
    prose: "a test accuracy per million parameters",
    comparatives: LH,
    scale: 1,
    levelUnit: "",
    diffUnit: { one: "", many: "" },
    diffShort: "",
    decimals: 3,
  },
};

/** A level (mean, bound) of `metric` in display units, e.g. "91.23%" or "5.40 epochs". */
export function formatLevel(metric: Metric, x: number): string {
  const info = METRIC_INFO[metric];
  return `${fixed(x, info.decimals)}${info.levelUnit}`;
}

/** A magnitude of a difference in words, e.g. "1.20 percentage points" or "0.0123". */
export function formatDiffWords(metric: Metric, magnitude: number): string {
  const info = METRIC_INFO[metric];
  const text = fixed(magnitude, info.decimals);
  const unit = text === fixed(1, info.decimals) ? info.diffUnit.one : info.diffUnit.many;
  return unit ? `${text} ${unit}` : text;
}

/** A difference with an explicit sign and its short unit, e.g. "+1.20 pp" or "−0.40 epochs". */
export function formatDiffShort(metric: Metric, x: number): string {
  const info = METRIC_INFO[metric];
  const text = signed(x, info.decimals);
  return info.diffShort ? `${text} ${info.diffShort}` : text;
}

/** Human name of a dataset id as written in meta.json ("fashion-mnist" → "Fashion-MNIST"). */
export function datasetName(id: string): string {
  switch (id) {
    case "fashion-mnist":
      return "Fashion-MNIST";
    case "mnist":
      return "MNIST";
    case "synthetic":
      return "synthetic (generated) data";
    default:
      return id;
  }
}
