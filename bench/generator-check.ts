/**
 * The evidence that the load generator is not the bottleneck, row by row:
 * in the same run, against the raw TCP echo, it moves at least 1.5× the
 * messages the fastest WebSocket server takes; or, driving that server, it
 * leaves part of its own core unused, so it was waiting for the server.
 * Either shows that the WebSocket numbers are the servers' own.
 *
 * @module
 */

import { formatValue, type Table } from "./report.js";

const WEBSOCKET_SERVERS = ["uws", "ws", "ws-native", "ours"] as const;

/** Raw echo over the fastest WebSocket server: this much is margin enough. */
const ENOUGH_HEADROOM = 1.5;
/** A generator using less of its core than this was waiting, not working flat out. */
const SATURATED = 0.85;

const percent = (load: number | null) => (load === null ? "—" : `${Math.round(load * 100)}%`);

/** A Markdown section comparing the raw echo's rate with the best WebSocket server's. */
export function renderGeneratorCheck(tables: Table[]): string | null {
  const small = tables.find((table) => table.id === "small");
  if (small === undefined) return null;
  const lines = [
    "### Load generator check",
    "",
    "| workload | raw TCP echo | generator CPU | fastest WebSocket server | generator CPU | headroom | generator the limit? |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  let unproven = 0;
  for (const row of small.rows) {
    if (!row.id.endsWith("-pipelined")) continue;
    const raw = row.values.raw ?? null;
    const rawLoad = row.measurements?.raw?.generatorLoad ?? null;
    let best: { server: string; rate: number } | null = null;
    for (const server of WEBSOCKET_SERVERS) {
      const rate = row.values[server] ?? null;
      if (rate !== null && (best === null || rate > best.rate)) best = { server, rate };
    }
    const bestLoad =
      best === null ? null : (row.measurements?.[best.server]?.generatorLoad ?? null);
    const ratio = raw === null || best === null ? null : raw / best.rate;
    const byHeadroom = ratio !== null && ratio >= ENOUGH_HEADROOM;
    const byWaiting = bestLoad !== null && bestLoad < SATURATED;
    const verdict = byHeadroom ? "no: headroom" : byWaiting ? "no: its core to spare" : "not shown";
    if (!byHeadroom && !byWaiting) unproven++;
    lines.push(
      `| ${row.title} | ${formatValue(raw, "msg/s")} | ${percent(rawLoad)} | ${best === null ? "—" : `${formatValue(best.rate, "msg/s")} (${small.labels[best.server]})`} | ${percent(bestLoad)} | ${ratio === null ? "—" : `${ratio.toFixed(1)}×`} | ${verdict} |`,
    );
  }
  lines.push(
    "",
    `The first "generator CPU" is the load generator's against the raw echo, the second against the fastest WebSocket server. A row shows that the generator is not what limits the WebSocket servers when it drives the raw echo at least ${ENOUGH_HEADROOM}× as fast as the fastest of them, or when, driving that server, it used less than ${Math.round(SATURATED * 100)}% of its core: it was waiting for the server's answers.`,
    "",
    unproven === 0
      ? "Every row shows it: the WebSocket numbers are the servers' own."
      : `${unproven} row${unproven === 1 ? " does" : "s do"} not show it: when other processes take the CPU, every party slows down together. Read the CPU-per-message tables, or rerun on a quiet machine.`,
  );
  return lines.join("\n");
}
