/**
 * Results as tables: one row per workload, one column per server (or client),
 * then ratios of ours to the others measured in the same run, and what
 * limited our number. Rendered as Markdown for the terminal and the docs.
 *
 * @module
 */

import type { Measurement } from "./measure.js";

/** How a value is printed. */
export type Unit = "msg/s" | "B/s" | "µs" | "B" | "handshakes/s";

/** A ratio column: numerator's value over denominator's. */
export interface Ratio {
  numerator: string;
  denominator: string;
}

export interface Row {
  id: string;
  title: string;
  values: Record<string, number | null>;
  /** Why a column has no value, or facts about it. */
  notes: Record<string, string>;
  /** What limited the value of the `limitOf` column. */
  limit: string | null;
  /** Full measurements by column, for the JSON file. */
  measurements?: Record<string, Measurement>;
}

export interface Table {
  id: string;
  title: string;
  unit: Unit;
  better: "higher" | "lower";
  columns: string[];
  labels: Record<string, string>;
  ratios: Ratio[];
  rows: Row[];
  /** Sentences printed under the table. */
  footnotes: string[];
}

/** A number with a unit, short enough for a table cell. */
export function formatValue(value: number | null, unit: Unit): string {
  if (value === null || !Number.isFinite(value)) return "—";
  switch (unit) {
    case "msg/s":
    case "handshakes/s":
      if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
      if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
      return value.toFixed(0);
    case "B/s":
      return `${(value / 1024 / 1024).toFixed(0)} MiB/s`;
    case "µs":
      return value >= 100 ? value.toFixed(0) : value.toFixed(1);
    case "B":
      if (Math.abs(value) >= 10 * 1024) return `${(value / 1024).toFixed(0)} KiB`;
      if (Math.abs(value) >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
      return value.toFixed(0);
  }
}

/** `value(numerator) / value(denominator)` in a row, or `null`. */
export function ratioIn(row: Row, ratio: Ratio): number | null {
  const numerator = row.values[ratio.numerator];
  const denominator = row.values[ratio.denominator];
  if (numerator == null || denominator == null || denominator === 0) return null;
  return numerator / denominator;
}

function formatRatio(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(2)}×`;
}

/**
 * What limited a measurement: a process using (nearly) a whole core, other
 * work on the machine taking a good share of the CPU, or else waits (round
 * trips, wake-ups).
 */
export function limitOf(measurement: Measurement | undefined, party = "generator"): string | null {
  if (measurement === undefined || measurement.skipped !== null) return null;
  const { serverLoad: server, generatorLoad: generator, otherLoad: other } = measurement;
  const percent = (load: number | null) => (load === null ? "?" : `${Math.round(load * 100)}%`);
  const loads = `server ${percent(server)}, ${party} ${percent(generator)}, others ${percent(other)}`;
  if (server !== null && server >= 0.85) return `server CPU (${loads})`;
  if (generator !== null && generator >= 0.85) return `${party} CPU (${loads})`;
  if (other !== null && other >= 0.3) return `other processes (${loads})`;
  return `waits (${loads})`;
}

/** A table in Markdown, with its unit in the heading and footnotes after. */
export function renderTable(table: Table): string {
  const hasLimits = table.rows.some((row) => row.limit !== null);
  const direction = table.better === "higher" ? "higher is better" : "lower is better";
  const header = [
    "workload",
    ...table.columns.map((column) => table.labels[column] ?? column),
    ...table.ratios.map(
      (ratio) =>
        `${table.labels[ratio.numerator] ?? ratio.numerator} / ${table.labels[ratio.denominator] ?? ratio.denominator}`,
    ),
    ...(hasLimits ? ["ours limited by"] : []),
  ];
  const lines = [
    `### ${table.title} (${table.unit}, ${direction})`,
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  const notes: string[] = [];
  for (const row of table.rows) {
    const cells = table.columns.map((column) => {
      const text = formatValue(row.values[column] ?? null, table.unit);
      const note = row.notes[column];
      if (note === undefined) return text;
      notes.push(`${row.title}, ${table.labels[column] ?? column}: ${note}`);
      return `${text} [${notes.length}]`;
    });
    const ratios = table.ratios.map((ratio) => formatRatio(ratioIn(row, ratio)));
    const limit = hasLimits ? [row.limit ?? "—"] : [];
    lines.push(`| ${[row.title, ...cells, ...ratios, ...limit].join(" | ")} |`);
  }
  lines.push("");
  for (const [i, note] of notes.entries()) lines.push(`[${i + 1}] ${note}  `);
  for (const footnote of table.footnotes) lines.push(`${footnote}  `);
  return lines.join("\n").trimEnd();
}
