/**
 * The report's charts: Vega-Lite specs built from an analysis, compiled and
 * rendered headlessly to SVG strings by Vega (no browser, no canvas).
 *
 * SVG bytes must not depend on the machine: text width is always Vega's fixed
 * estimate (0.8 × font size per character; node-canvas measurement is turned
 * off even if it were installed), fonts are named explicitly, SVG definition
 * ids are reset before each render, and the data are rounded before they
 * enter a spec.
 *
 * @module
 */
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";
import type { Metric } from "../spec.ts";
import type { StudyAnalysis, VariantSummary } from "./analyze.ts";
import { METRIC_INFO } from "./metrics.ts";

/** The charts of one experiment, in the order the report shows them. */
export const CHART_NAMES = ["curves", "test_acc", "convergence", "gap"] as const;
/** One chart of an experiment. */
export type ChartName = (typeof CHART_NAMES)[number];

/** A chart ready to render: its file name stem, alt text and Vega-Lite spec. */
export interface ChartSpec {
  name: ChartName;
  /** One-line description, used as the image's alt text. */
  alt: string;
  spec: TopLevelSpec;
}

/** Fonts named in every chart; widths never depend on them (see module doc). */
export const CHART_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

const CONFIG = {
  font: CHART_FONT,
  background: "white",
  padding: 8,
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start", offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titlePadding: 8, grid: true, gridColor: "#e6e6e6" },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    orient: "bottom",
    direction: "horizontal",
    columns: 3,
    symbolOpacity: 1,
    symbolStrokeWidth: 2,
  },
  view: { stroke: "#bbb" },
  range: { category: { scheme: "tableau10" } },
} as const;

/** Dot-plot charts: which metric each shows and its axis title. */
const DOT_CHARTS: {
  name: Exclude<ChartName, "curves">;
  metric: Metric;
  title: string;
  axis: string;
}[] = [
  {
    name: "test_acc",
    metric: "test_acc",
    title: "Test accuracy per variant",
    axis: "Test accuracy (%)",
  },
  {
    name: "convergence",
    metric: "best_epoch",
    title: "Epochs to convergence per variant",
    axis: "Epoch of lowest validation loss",
  },
  {
    name: "gap",
    metric: "gap",
    title: "Generalisation gap per variant",
    axis: "Training minus validation accuracy (pp)",
  },
];

/** Which direction is better for the dot charts' sort (best first). */
const BETTER: Partial<Record<Metric, "higher" | "lower">> = {
  test_acc: "higher",
  best_epoch: "lower",
  gap: "lower",
};

/**
 * The Vega-Lite specs of one experiment's charts: learning curves (validation
 * loss and accuracy per epoch, mean over seeds with a 95% band, per variant),
 * and test accuracy, epochs to convergence and generalisation gap per variant
 * (mean with its bootstrap CI and one dot per seed, best variant first).
 */
export function chartSpecs(analysis: StudyAnalysis): ChartSpec[] {
  const variants = analysis.variants.map((v) => v.variant);
  const level = `${Math.round(analysis.options.confidence * 100)}%`;
  const profile = `profile ${analysis.data.profile}`;
  const charts: ChartSpec[] = [curves(analysis, variants, level, profile)];
  for (const chart of DOT_CHARTS) {
    charts.push(dotPlot(analysis, chart, variants, level, profile));
  }
  return charts;
}

/**
 * Compile a Vega-Lite spec and render it to an SVG string, headlessly.
 * Throws `Error` when Vega would measure text with a canvas (the bytes would
 * then depend on installed fonts) or when the spec does not compile.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  useEstimatedTextWidths();
  const compiled = compile(spec, { logger: quietLogger() }).spec;
  vega.resetSVGDefIds();
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    return svg.endsWith("\n") ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}

/** Compile `spec` and return Vega-Lite's warnings (none expected; for tests). */
export function compileWarnings(spec: TopLevelSpec): string[] {
  const logger = quietLogger();
  compile(spec, { logger });
  return logger.warnings;
}

function curves(
  analysis: StudyAnalysis,
  variants: string[],
  level: string,
  profile: string,
): ChartSpec {
  const panel = (metric: "val_loss" | "val_acc", axis: string) => {
    const color = {
      field: "variant",
      type: "nominal",
      title: "Variant",
      scale: { domain: variants },
    };
    return {
      width: 300,
      height: 240,
      data: {
        values: analysis.curves.filter((p) => p.metric === metric).map((p) => ({
          variant: p.variant,
          epoch: p.epoch,
          n: p.n,
          mean: round(p.mean),
          lower: p.lower === undefined ? null : round(p.lower),
          upper: p.upper === undefined ? null : round(p.upper),
        })),
      },
      encoding: {
        x: {
          field: "epoch",
          type: "quantitative",
          title: "Epoch",
          axis: { tickMinStep: 1, format: "d" },
          scale: { nice: false, padding: 8 },
        },
      },
      layer: [
        {
          transform: [{ filter: "isValid(datum.lower) && isValid(datum.upper)" }],
          mark: { type: "area", opacity: 0.15 },
          encoding: {
            y: { field: "lower", type: "quantitative" },
            y2: { field: "upper" },
            color,
          },
        },
        {
          mark: { type: "line", point: { size: 25 }, strokeWidth: 1.5 },
          encoding: {
            y: { field: "mean", type: "quantitative", title: axis, scale: { zero: false } },
            color,
            tooltip: [{ field: "variant" }, { field: "epoch" }, { field: "mean" }, { field: "n" }],
          },
        },
      ],
    };
  };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: {
      text: `${analysis.spec.name}: validation learning curves`,
      subtitle:
        `Mean over the seeds that reached each epoch, with its ${level} bootstrap band; ${profile}`,
    },
    hconcat: [panel("val_loss", "Validation loss"), panel("val_acc", "Validation accuracy (%)")],
    resolve: { scale: { color: "shared" } },
  } as TopLevelSpec;
  return {
    name: "curves",
    alt:
      `${analysis.spec.name}: validation loss and accuracy per epoch, mean over seeds with ${level} band, per variant`,
    spec,
  };
}

function dotPlot(
  analysis: StudyAnalysis,
  chart: (typeof DOT_CHARTS)[number],
  variants: string[],
  level: string,
  profile: string,
): ChartSpec {
  const { metric } = chart;
  const summaries = analysis.variants;
  const sorted = sortBest(summaries, metric);
  const seeds = analysis.data.runs.map((r) => ({
    variant: r.variant,
    seed: r.seed,
    value: round(r.values[metric]),
  }));
  const means = summaries.map((v) => ({
    variant: v.variant,
    mean: round(v.metrics[metric].mean),
    lower: round(v.intervals[metric]?.lower ?? v.metrics[metric].mean),
    upper: round(v.intervals[metric]?.upper ?? v.metrics[metric].mean),
    n: v.metrics[metric].n,
  }));
  const ns = [...new Set(summaries.map((v) => v.metrics[metric].n))].sort((a, b) => a - b);
  const y = {
    field: "variant",
    type: "nominal",
    title: null,
    sort: sorted,
    scale: { type: "band", paddingInner: 0.2 },
    axis: { labelFontSize: 12, labelLimit: 200 },
  };
  // Convergence: the epoch cap of each variant, where a best epoch is right-censored.
  const caps = metric === "best_epoch"
    ? summaries.filter((v) => Number.isFinite(v.epochCap)).map((v) => ({
      variant: v.variant,
      cap: v.epochCap,
      censored: v.censored,
    }))
    : [];
  const capLayer = caps.length === 0 ? [] : [
    {
      data: { values: caps },
      mark: { type: "tick", color: "#d62728", thickness: 2, strokeDash: [4, 2] },
      encoding: {
        y,
        x: { field: "cap", type: "quantitative" },
        tooltip: [{ field: "variant" }, { field: "cap" }, { field: "censored" }],
      },
    },
  ];
  const censoredRuns = caps.reduce((n, c) => n + c.censored, 0);
  const capNote = caps.length === 0 ? [] : [
    `Red dashed tick: the epoch cap; ${censoredRuns} of ${analysis.data.runs.length} runs ` +
    `peaked there (right-censored)`,
  ];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: {
      text: `${analysis.spec.name}: ${chart.title.charAt(0).toLowerCase()}${chart.title.slice(1)}`,
      subtitle: [
        `Mean (black diamond) with ${level} BCa bootstrap CI; dots are single seeds`,
        `n = ${ns.join(" to ")} per variant; best first; ${profile}`,
        ...capNote,
      ],
    },
    width: 420,
    height: 36 * Math.max(summaries.length, 3),
    layer: [
      {
        data: { values: seeds },
        mark: { type: "circle", size: 45, opacity: 0.55 },
        encoding: {
          y,
          yOffset: { field: "seed", type: "nominal", scale: { paddingOuter: 0.5 } },
          x: {
            field: "value",
            type: "quantitative",
            title: chart.axis,
            scale: { zero: false, nice: true, padding: 10 },
          },
          color: { field: "variant", type: "nominal", scale: { domain: variants }, legend: null },
          tooltip: [{ field: "variant" }, { field: "seed" }, { field: "value" }],
        },
      },
      {
        data: { values: means },
        mark: { type: "rule", strokeWidth: 2, color: "#222" },
        encoding: { y, x: { field: "lower", type: "quantitative" }, x2: { field: "upper" } },
      },
      ...capLayer,
      {
        data: { values: means },
        mark: { type: "point", shape: "diamond", filled: true, size: 90, color: "#000" },
        encoding: {
          y,
          x: { field: "mean", type: "quantitative" },
          tooltip: [
            { field: "variant" },
            { field: "mean" },
            { field: "lower" },
            { field: "upper" },
            { field: "n" },
          ],
        },
      },
    ],
  } as TopLevelSpec;
  return {
    name: chart.name,
    alt: `${analysis.spec.name}: ${
      METRIC_INFO[metric].noun
    } per variant, mean with ${level} CI and one dot per seed`,
    spec,
  };
}

/** Variant names sorted best first by mean (ties by name), for the y axis. */
function sortBest(summaries: VariantSummary[], metric: Metric): string[] {
  const sign = BETTER[metric] === "lower" ? 1 : -1;
  return [...summaries]
    .sort((a, b) =>
      sign * (a.metrics[metric].mean - b.metrics[metric].mean) || (a.variant < b.variant ? -1 : 1)
    )
    .map((v) => v.variant);
}

/** Round chart data to 6 significant digits: enough to draw, and stable bytes. */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

interface TextMetrics {
  width: unknown;
  estimateWidth: unknown;
  canvas(use: boolean): void;
}

function useEstimatedTextWidths(): void {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  metrics.canvas(false);
  if (metrics.width !== metrics.estimateWidth) {
    throw new Error(
      "Vega is measuring text with a canvas; chart SVGs would depend on installed fonts.",
    );
  }
}

interface CollectingLogger {
  warnings: string[];
  level(): number;
  level(level: number): CollectingLogger;
  error(...args: readonly unknown[]): CollectingLogger;
  warn(...args: readonly unknown[]): CollectingLogger;
  info(...args: readonly unknown[]): CollectingLogger;
  debug(...args: readonly unknown[]): CollectingLogger;
}

function quietLogger(): CollectingLogger {
  const logger: CollectingLogger = {
    warnings: [],
    level:
      ((level?: number) => (level === undefined ? vega.Warn : logger)) as CollectingLogger["level"],
    error: (...args) => {
      throw new Error(`Vega-Lite: ${args.map(String).join(" ")}`);
    },
    warn: (...args) => {
      logger.warnings.push(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}
