/**
 * Fixed number formatting for the report: every number is written with a
 * fixed number of decimals chosen by its kind, never with the machine's
 * locale, so the same CSVs always give the same bytes.
 *
 * @module
 */

/** The minus sign used in prose and tables (U+2212). */
export const MINUS = "\u2212";

/**
 * `x` with `decimals` digits after the point, a real minus sign, and no
 * negative zero ("−0.00" becomes "0.00"). Non-finite values are written "—".
 */
export function fixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return "—";
  const text = x.toFixed(decimals);
  if (/^-0(\.0+)?$/.test(text)) return text.slice(1);
  return text.startsWith("-") ? MINUS + text.slice(1) : text;
}

/** Like {@linkcode fixed} but with an explicit "+" for positive values (differences). */
export function signed(x: number, decimals: number): string {
  const text = fixed(x, decimals);
  return text === "—" || text.startsWith(MINUS) || Number(text) === 0 ? text : `+${text}`;
}

/** An integer with thin-space-free comma grouping (locale-independent), e.g. "1,234,567". */
export function grouped(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const sign = n < 0 ? MINUS : "";
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A p-value: three decimals, "< 0.001" below that, "—" when undefined or not
 * finite. Values above 1 (adjusted p-values are capped, but be safe) print as 1.000.
 */
export function pValue(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return "—";
  if (p < 0.001) return "< 0.001";
  return Math.min(p, 1).toFixed(3);
}

/** "p = 0.012" or "p < 0.001" for prose; `name` is the symbol (e.g. "p_adj"). */
export function pEquals(name: string, p: number | undefined): string {
  const text = pValue(p);
  return text.startsWith("<") ? `${name} ${text}` : `${name} = ${text}`;
}

/** A markdown table from a header row and body rows (cells escaped for "|"). */
export function table(header: string[], rows: string[][], align?: ("l" | "r")[]): string {
  const esc = (cell: string) => cell.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rule = header.map((_, i) => (align?.[i] === "r" ? "---:" : "---"));
  return [header, rule, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(" | ")} |`)
    .join("\n");
}
