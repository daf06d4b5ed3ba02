/**
 * A description of the machine and software a run happened on, for the
 * report: numbers only mean something next to it.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import { pinning } from "./ipc.js";

const require = createRequire(import.meta.url);

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  ws: string;
  /** `ulimit -n` of the processes. */
  openFiles: string;
  pinning: string;
  /** 1-minute load average at the start: other work on the machine skews everything. */
  loadAverage: number;
}

function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function openFilesLimit(): string {
  try {
    return execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const pins = pinning();
  return {
    date: new Date().toISOString().slice(0, 16).replace("T", " "),
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ws: packageVersion("ws"),
    openFiles: openFilesLimit(),
    pinning:
      pins === null
        ? "none (taskset missing or a single core)"
        : `servers on core ${pins.server}, load generator and clients on core ${pins.generator} (taskset)`,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

/** The machine as a Markdown list. */
export function renderMachine(machine: Machine, command: string): string {
  return [
    `- Date: ${machine.date} UTC`,
    `- Command: \`${command}\``,
    `- CPU: ${machine.cpu}, ${machine.cores} cores; ${machine.memoryGiB} GiB RAM; ${machine.os}`,
    `- Node ${machine.node}, ws ${machine.ws}; open files limit ${machine.openFiles}`,
    `- Pinning: ${machine.pinning}`,
    `- Load average at start: ${machine.loadAverage.toFixed(2)}`,
  ].join("\n");
}
