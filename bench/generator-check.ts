/**
 * The evidence that the load generator is not the bottleneck: in the same
 * run, against the raw TCP echo, it moves several times more messages than
 * the fastest WebSocket server takes, without saturating its core.
 *
 * @module
 */

import { formatValue, type Table } from "./report.js";

const WEBSOCKET_SERVERS = ["uws", "ws", "ws-native", "ours"] as const;

/** A Markdown section comparing the raw echo's rate with the best WebSocket server's. */
export function renderGeneratorCheck(tables: Table[]): string | null {
  const small = tables.find((table) => table.id === "small");
  if (small === undefined) return null;
  const lines = [
    "### Load generator check",
    "",
    "| workload | raw TCP echo | generator CPU | fastest WebSocket server | headroom |",
    "|---|---:|---:|---:|---:|",
  ];
  let worst = Number.POSITIVE_INFINITY;
  let busiest = 0;
  for (const row of small.rows) {
    if (!row.id.endsWith("-pipelined")) continue;
    const raw = row.values.raw ?? null;
    const load = row.measurements?.raw?.generatorLoad ?? null;
    let best: { server: string; rate: number } | null = null;
    for (const server of WEBSOCKET_SERVERS) {
      const rate = row.values[server] ?? null;
      if (rate !== null && (best === null || rate > best.rate)) best = { server, rate };
    }
    const ratio = raw === null || best === null ? null : raw / best.rate;
    if (ratio !== null) worst = Math.min(worst, ratio);
    if (load !== null) busiest = Math.max(busiest, load);
    const headroom = ratio === null ? "—" : `${ratio.toFixed(1)}×`;
    lines.push(
      `| ${row.title} | ${formatValue(raw, "msg/s")} | ${load === null ? "—" : `${Math.round(load * 100)}%`} | ${best === null ? "—" : `${formatValue(best.rate, "msg/s")} (${small.labels[best.server]})`} | ${headroom} |`,
    );
  }
  lines.push(
    "",
    worst >= 1.5 && busiest < 0.85
      ? "The generator drives the raw echo faster than any WebSocket server answers, with its core to spare: the WebSocket numbers are the servers' own."
      : "This run does not show enough headroom (at least 1.5× on every row with the generator's core not saturated): when other processes take the CPU, every party slows down together. Read the CPU-per-message tables, or rerun on a quiet machine.",
  );
  return lines.join("\n");
}
