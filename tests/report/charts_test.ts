import assert from "node:assert/strict";
import { analyzeStudy, DEFAULT_ANALYSIS } from "../../lib/report/analyze.ts";
import {
  CHART_FONT,
  CHART_NAMES,
  chartSpecs,
  compileWarnings,
  renderSvg,
} from "../../lib/report/charts.ts";
import { loadStudy } from "../../lib/report/load.ts";
import { PLACEMENT_EPOCHS, spec, tempDir, writeFixture } from "./_fixture.ts";

async function analysis() {
  const tmp = await tempDir();
  const s = await spec("placement");
  await writeFixture(tmp.path, s, { values: PLACEMENT_EPOCHS });
  const data = (await loadStudy(tmp.path, s, "quick"))!;
  await tmp.cleanup();
  return analyzeStudy(s, data, { ...DEFAULT_ANALYSIS, resamples: 1000 });
}

Deno.test("every experiment gets learning curves, test accuracy, convergence and gap charts", async () => {
  const charts = chartSpecs(await analysis());
  assert.deepEqual(charts.map((c) => c.name), [...CHART_NAMES]);
  for (const chart of charts) assert.deepEqual(compileWarnings(chart.spec), [], chart.name);
});

Deno.test("rendering a chart twice gives identical SVG bytes", async () => {
  const a = await analysis();
  for (const chart of chartSpecs(a)) {
    const first = await renderSvg(chart.spec);
    const second = await renderSvg(chart.spec);
    assert.equal(first, second, chart.name);
    assert.ok(first.startsWith("<svg"), chart.name);
  }
});

Deno.test("charts name their fonts and carry titles and axis labels", async () => {
  const charts = chartSpecs(await analysis());
  const svg = await renderSvg(charts.find((c) => c.name === "test_acc")!.spec);
  assert.ok(svg.includes(`font-family="${CHART_FONT}"`));
  assert.ok(svg.includes("placement: test accuracy per variant"));
  assert.ok(svg.includes("Test accuracy (%)"));
  const curves = await renderSvg(charts.find((c) => c.name === "curves")!.spec);
  assert.ok(curves.includes("Validation loss") && curves.includes("Epoch"));
});

Deno.test("the dot charts list the best variant first", async () => {
  const charts = chartSpecs(await analysis());
  const convergence = JSON.stringify(charts.find((c) => c.name === "convergence")!.spec);
  // pre_bn converges earliest (3.4 epochs) and post_bn latest (5.4): lower is better.
  const sort = JSON.parse(convergence).layer[0].encoding.y.sort as string[];
  assert.equal(sort[0], "pre_bn");
  assert.equal(sort[sort.length - 1], "post_bn");
});
