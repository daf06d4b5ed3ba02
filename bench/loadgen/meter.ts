/**
 * Counts what a load generator (or client) achieves, and reports it per
 * measurement window: completed units, bytes, its own CPU time, latencies.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { cpuSince, type Window } from "../ipc.js";
import { quantile } from "../stats.js";

export class Meter {
  /** Messages or handshakes completed so far. */
  count = 0;
  /** Bytes received so far. */
  bytes = 0;
  errors = 0;
  /** Latencies of the current window, in milliseconds. */
  private latencies: number[] = [];

  /** Records a round trip. */
  latency(milliseconds: number): void {
    this.latencies.push(milliseconds);
  }

  /** Counts for `ms` milliseconds while the workload keeps running, and reports. */
  async measure(ms: number): Promise<Window> {
    const count = this.count;
    const bytes = this.bytes;
    const errors = this.errors;
    const cpu = process.cpuUsage();
    this.latencies = [];
    const start = performance.now();
    await sleep(ms);
    const elapsed = performance.now() - start;
    const latencies = this.latencies;
    this.latencies = [];
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);
    return {
      type: "window",
      ms: elapsed,
      count: this.count - count,
      bytes: this.bytes - bytes,
      cpu: cpuSince(cpu),
      p50: p50 === null ? null : p50 * 1000,
      p99: p99 === null ? null : p99 * 1000,
      errors: this.errors - errors,
    };
  }
}
