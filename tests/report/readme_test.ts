import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import {
  END_MARKER,
  headlineProfile,
  spliceFindings,
  START_MARKER,
} from "../../lib/report/readme.ts";
import { throwsWith } from "../_assert.ts";

const README =
  `# bnlab\n\nIntro text.\n\n${START_MARKER}\nold summary\nmore old lines\n${END_MARKER}\n\n## Usage\n\nKeep me.\n`;

Deno.test("the findings summary replaces only what lies between the markers", () => {
  const out = spliceFindings(README, "- new finding\n", "README.md");
  assert.equal(
    out,
    `# bnlab\n\nIntro text.\n\n${START_MARKER}\n- new finding\n${END_MARKER}\n\n## Usage\n\nKeep me.\n`,
  );
});

Deno.test("splicing the same summary twice gives the same bytes", () => {
  const once = spliceFindings(README, "- a\n- b", "README.md");
  assert.equal(spliceFindings(once, "- a\n- b", "README.md"), once);
});

Deno.test("a README without the markers is refused with a message naming them", () => {
  throwsWith(() => spliceFindings("# bnlab\n", "x", "README.md"), UsageError, START_MARKER);
  throwsWith(() => spliceFindings(`${START_MARKER}\n`, "x", "README.md"), UsageError, END_MARKER);
  throwsWith(() => spliceFindings("# bnlab\n", "x", "README.md"), UsageError, "--no-readme");
});

Deno.test("markers in the wrong order or repeated are refused", () => {
  throwsWith(
    () => spliceFindings(`${END_MARKER}\n${START_MARKER}\n`, "x", "README.md"),
    UsageError,
    "before",
  );
  throwsWith(
    () => spliceFindings(`${START_MARKER}\n${END_MARKER}\n${START_MARKER}\n`, "x", "README.md"),
    UsageError,
    "more than once",
  );
});

Deno.test("headlineProfile() reads the one declaration line and ignores mentions in prose", () => {
  const text =
    "Say `<!-- findings:headline full -->` in prose.\n<!-- findings:headline quick -->\n";
  assert.equal(headlineProfile(text, "README.md"), "quick");
  throwsWith(() => headlineProfile("no declaration\n", "README.md"), UsageError, "it has 0");
});
