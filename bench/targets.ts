/**
 * The targets, checked against the tables of one run: each is a
 * ratio of ours to a peer measured side by side, so machine speed and noise
 * from other load mostly cancel out.
 *
 * @module
 */

import { ratioIn, type Table } from "./report.js";
import { MEMORY_MESSAGE_SIZE } from "./workloads.js";

/** One comparison: a ratio in a row against a threshold. */
export interface Check {
  row: string;
  ratio: number | null;
  /**
   * For throughput checks, the same comparison made on CPU per unit (the
   * server's, or the client's; peer over ours): the ratio with a core each, whatever
   * else the machine was doing.
   */
  cpuRatio?: number | null;
  threshold: number;
  /** `min`: the ratio must be at least the threshold; `max`: at most. */
  bound: "min" | "max";
  met: boolean | null;
}

export interface Target {
  name: string;
  rule: string;
  checks: Check[];
}

function check(
  tables: Table[],
  tableId: string,
  rowFilter: (id: string) => boolean,
  numerator: string,
  denominator: string,
  threshold: number,
  bound: "min" | "max",
): Check[] {
  const table = tables.find((candidate) => candidate.id === tableId);
  if (table === undefined) return [];
  // Throughput tables have a CPU-per-unit twin whose rows have the same ids.
  const cpuTable = tables.find((candidate) => candidate.id === `${tableId}-cpu`);
  return table.rows
    .filter((row) => rowFilter(row.id))
    .map((row) => {
      const ratio = ratioIn(row, { numerator, denominator });
      const met = ratio === null ? null : bound === "min" ? ratio >= threshold : ratio <= threshold;
      const cpuRow = cpuTable?.rows.find((candidate) => candidate.id === row.id);
      const cpuRatio =
        cpuRow === undefined
          ? undefined
          : ratioIn(cpuRow, { numerator: denominator, denominator: numerator });
      return {
        row: `${table.title}: ${row.title}`,
        ratio,
        threshold,
        bound,
        met,
        ...(cpuRatio === undefined ? {} : { cpuRatio }),
      };
    });
}

/** Heap kept per connection after one message, as a fraction of the message's size. */
function growthCheck(tables: Table[]): Check[] {
  const table = tables.find((candidate) => candidate.id === "memory");
  const row = table?.rows.find((candidate) => candidate.id === "growth-heap");
  if (table === undefined || row === undefined) return [];
  const growth = row.values.ours ?? null;
  const ratio = growth === null ? null : growth / MEMORY_MESSAGE_SIZE;
  return [
    {
      row: `${table.title}: ${row.title}, as a fraction of the ${MEMORY_MESSAGE_SIZE} B message`,
      ratio,
      threshold: 0.25,
      bound: "max",
      met: ratio === null ? null : ratio <= 0.25,
    },
  ];
}

/** Checks every target that the run has numbers for. */
export function evaluateTargets(tables: Table[]): Target[] {
  const all = () => true;
  const pipelined = (id: string) => id.endsWith("-pipelined");
  const targets: Target[] = [
    {
      name: "Pipelined small messages",
      rule: "≥ 5× ws and ≥ 0.5× the raw TCP echo",
      checks: [
        ...check(tables, "small", pipelined, "ours", "ws", 5, "min"),
        ...check(tables, "small", pipelined, "ours", "raw", 0.5, "min"),
      ],
    },
    {
      name: "Ping-pong latency",
      rule: "p50 and p99 within 10% of the raw TCP echo (≤ 1.10×)",
      checks: check(tables, "latency", all, "ours", "raw", 1.1, "max"),
    },
    {
      name: "Large messages",
      rule: "≥ 2.5× plain ws and ≥ 1× ws with its native addons",
      checks: [
        ...check(tables, "large", all, "ours", "ws", 2.5, "min"),
        ...check(tables, "large", all, "ours", "ws-native", 1, "min"),
      ],
    },
    {
      name: "Handshakes",
      rule: "server CPU per handshake ≤ 0.85× ws",
      checks: check(tables, "handshake-cpu", all, "ours", "ws", 0.85, "max"),
    },
    {
      name: "Memory per idle connection",
      rule: "≤ 0.75× ws; after one message each, growth ≤ 0.25× the message (no buffer kept)",
      checks: [
        ...check(tables, "memory", (id) => id.startsWith("idle-"), "ours", "ws", 0.75, "max"),
        ...growthCheck(tables),
      ],
    },
    {
      name: "Compression",
      rule: "≥ 3× the messages/s of ws with permessage-deflate, ≤ 0.3× its memory per connection",
      checks: [
        ...check(tables, "compression", all, "ours-deflate", "ws-deflate", 3, "min"),
        ...check(tables, "compression-memory", all, "ours-deflate", "ws-deflate", 0.3, "max"),
      ],
    },
    {
      name: "Our client",
      rule: "≥ 1× the throughput of the ws client",
      checks: check(tables, "clients", all, "ours", "ws", 1, "min"),
    },
  ];
  return targets.filter((target) => target.checks.length > 0);
}

/** The targets as a Markdown list: met or missed, by how much. */
export function renderTargets(targets: Target[]): string {
  const lines = ["### Targets", ""];
  for (const target of targets) {
    const known = target.checks.filter((c) => c.met !== null);
    const met = known.filter((c) => c.met).length;
    const status =
      known.length === 0 ? "not measured" : met === known.length ? "**met**" : "**missed**";
    lines.push(`- ${target.name} (${target.rule}): ${status}, ${met}/${known.length} checks`);
    for (const c of target.checks) {
      if (c.met !== false) continue;
      const factor =
        c.ratio === null
          ? ""
          : c.bound === "min"
            ? `, ${(c.threshold / c.ratio).toFixed(1)}× short`
            : `, ${(c.ratio / c.threshold).toFixed(2)}× over`;
      const sign = c.bound === "min" ? "≥" : "≤";
      const cpu = c.cpuRatio == null ? "" : `; on CPU per unit ${c.cpuRatio.toFixed(2)}×`;
      lines.push(
        `  - ${c.row}: ${c.ratio?.toFixed(2)}× (needs ${sign} ${c.threshold}×${factor}${cpu})`,
      );
    }
  }
  return lines.join("\n");
}
