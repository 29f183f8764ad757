/**
 * Build and write the whole findings report: for each experiment, load its
 * results for the profile, analyse them, render its page and charts; then
 * FINDINGS.md over all covered experiments and the README summary. Files are
 * written atomically and only when their bytes change; the same inputs always
 * give the same bytes.
 *
 * @module
 */
import { basename, dirname, join, relative } from "node:path";
import { ResultsError, UsageError } from "../errors.ts";
import { exists, readTextIfExists, refuseSymlinks, writeFileAtomic } from "../fs.ts";
import { listSpecs, loadSpec, type ProfileName, type Spec } from "../spec.ts";
import { quickFullAgreement } from "./agreement.ts";
import { type AnalysisOptions, analyzeStudy, DEFAULT_ANALYSIS } from "./analyze.ts";
import { CHART_NAMES, chartSpecs, renderSvg } from "./charts.ts";
import { comparisonRecords, recordsCsv, recordsJson } from "./export.ts";
import { loadStudy } from "./load.ts";
import { readLooks } from "./looks.ts";
import {
  type ExperimentEntry,
  experimentMarkdown,
  findingsMarkdown,
  readmeSummary,
} from "./markdown.ts";
import { headlineProfile, spliceFindings } from "./readme.ts";

/** What to report on and where to write it. */
export interface ReportOptions {
  /** Results root holding `<experiment>/<profile>/` folders. */
  results: string;
  profile: ProfileName;
  /** Experiments to cover (empty: every spec in `specsDir`). */
  experiments: string[];
  /** Folder the report files go to. */
  out: string;
  /**
   * README to splice the summary into, or `undefined` to leave it alone. The
   * README is only changed when it declares `profile` as its headline
   * (`<!-- findings:headline quick -->`).
   */
  readme?: string | undefined;
  /** Folder of the experiment specs (default `experiments`). */
  specsDir?: string;
  /** Statistics settings (default {@linkcode DEFAULT_ANALYSIS}). */
  analysis?: AnalysisOptions;
}

/** One file of the report and its full content. */
export interface ReportFile {
  path: string;
  content: string;
}

/** The report in memory: files to write, and stale files to remove. */
export interface BuiltReport {
  files: ReportFile[];
  /** Report files of covered experiments that no longer have results. */
  stale: string[];
  /** Experiments with results, and without. */
  reported: string[];
  empty: string[];
  /** Why the README was left alone, when it was. */
  readmeSkipped?: string;
}

/** What {@linkcode writeReport} did, by path. */
export interface WriteOutcome {
  written: string[];
  unchanged: string[];
  removed: string[];
  reported: string[];
  empty: string[];
  readmeSkipped?: string;
}

/**
 * Compute every file of the report without writing anything. Throws
 * `UsageError` for unknown experiments or README markers, `ResultsError` for
 * malformed results.
 */
export async function buildReport(options: ReportOptions): Promise<BuiltReport> {
  const specsDir = options.specsDir ?? "experiments";
  if (!(await exists(options.results))) {
    throw new ResultsError(
      `The results folder ${options.results} does not exist, so there is nothing to report; ` +
        `check --results (or BNLAB_RESULTS). Nothing was written or removed.`,
    );
  }
  const names = options.experiments.length > 0
    ? [...new Set(options.experiments)]
    : await listSpecs(specsDir);
  const specs: Spec[] = [];
  for (const name of names) specs.push(await loadSpec(name, specsDir));
  const files: ReportFile[] = [];
  const entries: ExperimentEntry[] = [];
  const stale: string[] = [];
  for (const spec of specs) {
    const data = await loadStudy(options.results, spec, options.profile);
    if (!data) {
      entries.push({ spec });
      stale.push(...experimentFiles(options.out, spec.name));
      continue;
    }
    const settings = options.analysis ?? DEFAULT_ANALYSIS;
    const record = await readLooks(data.dir);
    const last = record?.looks[record.looks.length - 1];
    const seeds = Math.min(
      ...spec.variants.map((v) => data.runs.filter((r) => r.variant === v.name).length),
    );
    // A sequential study is judged at its last look's levels when the data are that look's.
    const sequential = last !== undefined && last.seeds === seeds;
    const analysis = analyzeStudy(
      spec,
      data,
      sequential ? { ...settings, levels: last.levels } : settings,
    );
    if (sequential) analysis.sequential = record;
    // The full profile's page shows how the quick profile's verdicts compare, when both exist.
    const quick = options.profile === "full"
      ? await loadStudy(options.results, spec, "quick")
      : undefined;
    const agreement = quick
      ? quickFullAgreement(analyzeStudy(spec, quick, settings), analysis)
      : undefined;
    entries.push({ spec, analysis, ...(agreement ? { agreement } : {}) });
    const records = comparisonRecords(analysis);
    files.push({
      path: join(options.out, `${spec.name}-comparisons.json`),
      content: recordsJson(records),
    });
    files.push({
      path: join(options.out, `${spec.name}-comparisons.csv`),
      content: recordsCsv(records),
    });
    const links = [];
    for (const chart of chartSpecs(analysis)) {
      const file = `${spec.name}-${chart.name}.svg`;
      files.push({ path: join(options.out, file), content: await renderSvg(chart.spec) });
      links.push({ file, alt: chart.alt });
    }
    files.push({
      path: join(options.out, `${spec.name}.md`),
      content: experimentMarkdown(analysis, links, agreement),
    });
  }
  const reported = entries.filter((e) => e.analysis).map((e) => e.spec.name);
  if (reported.length === 0) {
    throw new ResultsError(
      `No results of the ${options.profile} profile in ${options.results} (looked for ` +
        `${join(options.results, specs[0]?.name ?? "<experiment>", options.profile, "runs.csv")}` +
        `${specs.length > 1 ? " and the other experiments'" : ""}), so there is nothing to ` +
        `report. Train them first (\`deno task study --profile ${options.profile}\`), or choose ` +
        `another --profile or --results. Nothing was written or removed.`,
    );
  }
  const ctx = { results: options.results, profile: options.profile };
  files.push({ path: join(options.out, "FINDINGS.md"), content: findingsMarkdown(entries, ctx) });
  let readmeSkipped: string | undefined;
  if (options.readme !== undefined) {
    const text = await readTextIfExists(options.readme);
    if (text === undefined) {
      throw new UsageError(
        `${options.readme} does not exist, so the findings summary has nowhere to go; run from the ` +
          `repository root, or pass --no-readme.`,
      );
    }
    const headline = headlineProfile(text, options.readme);
    if (headline !== options.profile) {
      readmeSkipped = `${options.readme} declares the ${headline} profile as its headline, ` +
        `so its summary was left alone`;
    } else {
      const linkDir = relative(dirname(options.readme), options.out).split("\\").join("/");
      files.push({
        path: options.readme,
        content: spliceFindings(text, readmeSummary(entries, ctx, linkDir), options.readme),
      });
    }
  }
  return {
    files,
    stale,
    reported,
    empty: entries.filter((e) => !e.analysis).map((e) => e.spec.name),
    ...(readmeSkipped ? { readmeSkipped } : {}),
  };
}

/**
 * Build the report and write it: each file atomically and only when its
 * bytes differ from what is on disk; report files of covered experiments
 * without results are removed. Returns what was done.
 */
export async function writeReport(options: ReportOptions): Promise<WriteOutcome> {
  const built = await buildReport(options);
  const outcome: WriteOutcome = {
    written: [],
    unchanged: [],
    removed: [],
    reported: built.reported,
    empty: built.empty,
    ...(built.readmeSkipped ? { readmeSkipped: built.readmeSkipped } : {}),
  };
  // Refuse symbolic links under the report folder before changing anything.
  for (const file of built.files) {
    if (file.path !== options.readme) await refuseSymlinks(options.out, file.path);
  }
  for (const path of built.stale) await refuseSymlinks(options.out, path);
  for (const file of built.files) {
    if ((await readTextIfExists(file.path)) === file.content) outcome.unchanged.push(file.path);
    else {
      if (file.path === options.readme) {
        await replaceViaStaging(file.path, file.content, options.out);
      } else await writeFileAtomic(file.path, file.content, { root: options.out });
      outcome.written.push(file.path);
    }
  }
  for (const path of built.stale) {
    try {
      await Deno.remove(path);
      outcome.removed.push(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return outcome;
}

/**
 * Replace `path` atomically by staging the new bytes in `stagingDir` and
 * renaming them over it. `deno task report` may write only the report folder
 * and the README itself, not a temporary file beside the README, so the
 * staging copy lives in the report folder. Falls back to a temporary sibling
 * when the rename cannot cross file systems.
 */
async function replaceViaStaging(path: string, content: string, stagingDir: string): Promise<void> {
  const staging = join(stagingDir, `${basename(path)}.tmp-staging`);
  await writeFileAtomic(staging, content, { root: stagingDir });
  try {
    await Deno.rename(staging, path);
  } catch (err) {
    await Deno.remove(staging).catch(() => {});
    if (err instanceof Deno.errors.NotCapable) throw err;
    await writeFileAtomic(path, content);
  }
}

/** Paths of the files an experiment's report consists of. */
function experimentFiles(out: string, experiment: string): string[] {
  return [
    join(out, `${experiment}.md`),
    join(out, `${experiment}-comparisons.json`),
    join(out, `${experiment}-comparisons.csv`),
    ...CHART_NAMES.map((c) => join(out, `${experiment}-${c}.svg`)),
  ];
}
