/**
 * Runs one workload against one server and turns the windows into medians:
 * the orchestrator's part of a measurement.
 *
 * A window is bracketed by two readings of the server's CPU time, so every
 * number comes with how busy the server and the generator were, which is what
 * says what limited it.
 *
 * @module
 */

import * as os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { ClientJob } from "./clients/job.js";
import {
  Child,
  type CpuTime,
  type GeneratorCommand,
  type GeneratorReply,
  pinning,
  type ServerCommand,
  type ServerReply,
  type ServerUsage,
  type Window,
} from "./ipc.js";
import { type ClientKind, SERVER_ENV, type ServerKind, speaksWebSocket } from "./kinds.js";
import type { EchoJob, HandshakeJob, IdleJob } from "./loadgen/jobs.js";
import { median } from "./stats.js";
import type { Timing } from "./workloads.js";

const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/** Options of {@link RunningServer.start}. */
export interface ServerStartOptions {
  /** Write a CPU profile to this directory when the server stops. */
  profileDir?: string | null;
  /** More Node flags, e.g. `--import` of a module that patches the library to try an idea. */
  execArgv?: string[];
}

/** A server process, listening. */
export class RunningServer implements AsyncDisposable {
  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    readonly notes: string[],
    private readonly child: Child<ServerCommand, ServerReply>,
  ) {}

  /** Starts a server; resolves with why not when it cannot run here. */
  static async start(
    kind: ServerKind,
    options: ServerStartOptions = {},
  ): Promise<RunningServer | { unavailable: string }> {
    const execArgv = ["--expose-gc", ...(options.execArgv ?? [])];
    if (options.profileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${options.profileDir}`);
    const child = Child.start<ServerCommand, ServerReply>(script("server"), {
      args: [kind],
      execArgv,
      env: SERVER_ENV[kind],
      core: pinning()?.server ?? null,
    });
    const first = await child.next().catch((error: Error) => ({
      type: "unavailable" as const,
      reason: error.message,
    }));
    if (first.type !== "listening") {
      await child.stop({ type: "stop" });
      return { unavailable: first.type === "unavailable" ? first.reason : "unexpected reply" };
    }
    return new RunningServer(kind, first.port, first.notes, child);
  }

  get websocket(): boolean {
    return speaksWebSocket(this.kind);
  }

  async usage(gc = false): Promise<ServerUsage> {
    const answer = await this.child.request({ type: "usage", gc });
    if (answer.type !== "usage") throw new Error(`unexpected reply ${answer.type}`);
    return answer;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.child.stop({ type: "stop" });
  }
}

const cpuTotal = (cpu: CpuTime) => cpu.user + cpu.system;

/**
 * Waits until the server has finished the work a generator left behind
 * (messages still in flight, connections closing), so that it does not
 * spill into the next measurement: until it uses under 5% of a core.
 */
export async function settle(server: RunningServer): Promise<void> {
  let previous = cpuTotal((await server.usage()).cpu);
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const now = cpuTotal((await server.usage()).cpu);
    const busy = now - previous;
    previous = now;
    if (busy < 2500) return;
  }
}

/** Medians over the windows of one workload on one server (or client). */
export interface Measurement {
  /** Units (messages, handshakes) per second. */
  rate: number | null;
  /** Bytes received by the generator per second. */
  throughput: number | null;
  /** Ping-pong round trips, microseconds. */
  p50: number | null;
  p99: number | null;
  /** Server CPU time per unit, microseconds. */
  serverCpuPerUnit: number | null;
  /** Server CPU time per MiB received by the generator, microseconds. */
  serverCpuPerMiB: number | null;
  /** Generator (or client) CPU time per unit, microseconds. */
  generatorCpuPerUnit: number | null;
  /** Fraction of one core used by the server and by the generator. */
  serverLoad: number | null;
  generatorLoad: number | null;
  /**
   * Cores' worth of CPU used by everything else on the machine (other
   * processes, the kernel's own threads) during the windows.
   */
  otherLoad: number | null;
  errors: number;
  /** Why there is no number, when there is none. */
  skipped: string | null;
  /** The windows the medians were taken over, for {@link combineMeasurements}. */
  samples?: Sample[];
}

export function skipped(reason: string): Measurement {
  return {
    rate: null,
    throughput: null,
    p50: null,
    p99: null,
    serverCpuPerUnit: null,
    serverCpuPerMiB: null,
    generatorCpuPerUnit: null,
    serverLoad: null,
    generatorLoad: null,
    otherLoad: null,
    errors: 0,
    skipped: reason,
  };
}

export interface Sample {
  window: Window;
  /** Server CPU during the window, microseconds, and the wall time between the readings. */
  serverCpu: number;
  serverWallMs: number;
  /** Cores' worth of CPU the whole machine used over the same time, when the OS says. */
  machineBusy: number | null;
}

/** Busy and total CPU time of the machine so far, in milliseconds summed over cores. */
function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function summarize(samples: Sample[], errors: number): Measurement {
  const perSecond = (value: number, ms: number) => (value * 1000) / ms;
  return {
    rate: median(samples.map(({ window }) => perSecond(window.count, window.ms))),
    throughput: median(samples.map(({ window }) => perSecond(window.bytes, window.ms))),
    p50: median(samples.map(({ window }) => window.p50)),
    p99: median(samples.map(({ window }) => window.p99)),
    serverCpuPerUnit: median(
      samples.map(({ window, serverCpu }) =>
        window.count === 0 ? null : serverCpu / window.count,
      ),
    ),
    serverCpuPerMiB: median(
      samples.map(({ window, serverCpu }) =>
        window.bytes === 0 ? null : (serverCpu * 1024 * 1024) / window.bytes,
      ),
    ),
    generatorCpuPerUnit: median(
      samples.map(({ window }) =>
        window.count === 0 ? null : cpuTotal(window.cpu) / window.count,
      ),
    ),
    serverLoad: median(
      samples.map(({ serverCpu, serverWallMs }) => serverCpu / 1000 / serverWallMs),
    ),
    generatorLoad: median(samples.map(({ window }) => cpuTotal(window.cpu) / 1000 / window.ms)),
    otherLoad: median(
      samples.map(({ window, serverCpu, serverWallMs, machineBusy }) =>
        machineBusy === null
          ? null
          : Math.max(
              0,
              machineBusy -
                serverCpu / 1000 / serverWallMs -
                cpuTotal(window.cpu) / 1000 / window.ms,
            ),
      ),
    ),
    errors: errors + samples.reduce((sum, { window }) => sum + window.errors, 0),
    skipped: null,
    samples,
  };
}

/**
 * One measurement from several of the same workload on the same server,
 * taken at different times: medians over all their windows. The first
 * skipped one, if any, stands for all.
 */
export function combineMeasurements(measurements: Measurement[]): Measurement {
  const failed = measurements.find((measurement) => measurement.skipped !== null);
  if (failed !== undefined) return failed;
  const samples = measurements.flatMap((measurement) => measurement.samples ?? []);
  const windowErrors = samples.reduce((sum, { window }) => sum + window.errors, 0);
  const errors = measurements.reduce((sum, measurement) => sum + measurement.errors, 0);
  // summarize() adds the windows' errors to the connection errors it is given.
  return summarize(samples, errors - windowErrors);
}

type Generator = Child<GeneratorCommand, GeneratorReply>;

/** Takes `timing.repeats` windows, each bracketed by readings of the server's CPU. */
async function windows(
  generator: Generator,
  server: RunningServer,
  timing: Timing,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < timing.repeats; i++) {
    const machineBefore = machineTimes();
    const before = await server.usage();
    const start = performance.now();
    const window = await generator.request({ type: "measure", ms: timing.windowMs });
    if (window.type !== "window") throw new Error(`unexpected reply ${window.type}`);
    const after = await server.usage();
    const wall = performance.now() - start;
    const machineAfter = machineTimes();
    const cores = os.cpus().length;
    const machineTotal = machineAfter.total - machineBefore.total;
    samples.push({
      window,
      serverCpu: cpuTotal(after.cpu) - cpuTotal(before.cpu),
      serverWallMs: wall,
      machineBusy:
        machineTotal > 0 ? ((machineAfter.busy - machineBefore.busy) / machineTotal) * cores : null,
    });
  }
  return samples;
}

function startGenerator(job: EchoJob | HandshakeJob | IdleJob): Generator {
  return Child.start<GeneratorCommand, GeneratorReply>(script("loadgen"), {
    args: [JSON.stringify(job)],
    core: pinning()?.generator ?? null,
  });
}

async function measureWith(
  generator: Generator,
  server: RunningServer,
  timing: Timing,
): Promise<Measurement> {
  try {
    const ready = await generator.next();
    if (ready.type === "failed") return skipped(ready.reason);
    if (ready.type !== "ready") return skipped(`unexpected reply ${ready.type}`);
    return summarize(await windows(generator, server, timing), ready.errors);
  } catch (error) {
    return skipped(error instanceof Error ? error.message : String(error));
  } finally {
    await generator.stop({ type: "stop" });
    await settle(server);
  }
}

/** An echo workload against `server`. */
export function measureEcho(
  server: RunningServer,
  job: Omit<EchoJob, "kind" | "port" | "websocket" | "warmupMs">,
  timing: Timing,
): Promise<Measurement> {
  const generator = startGenerator({
    ...job,
    kind: "echo",
    port: server.port,
    websocket: server.websocket,
    warmupMs: timing.warmupMs,
  });
  return measureWith(generator, server, timing);
}

/** Handshake cycles against `server`. */
export function measureHandshakes(
  server: RunningServer,
  concurrency: number,
  timing: Timing,
): Promise<Measurement> {
  const generator = startGenerator({
    kind: "handshake",
    port: server.port,
    websocket: server.websocket,
    concurrency,
    warmupMs: timing.warmupMs,
  });
  return measureWith(generator, server, timing);
}

/** Memory of a server holding idle connections, before and after one message each. */
export interface MemoryMeasurement {
  /** Bytes per connection (heap used + external, after GC) while idle. */
  idleHeap: number | null;
  idleRss: number | null;
  /** The same after one message was echoed on every connection. */
  afterHeap: number | null;
  afterRss: number | null;
  connections: number;
  errors: number;
  skipped: string | null;
}

const heapOf = (usage: ServerUsage) => usage.heapUsed + usage.external;

/** Opens `job.connections` idle connections to a fresh `server`, reads its memory. */
export async function measureIdleMemory(
  server: RunningServer,
  job: Omit<IdleJob, "kind" | "port" | "websocket">,
): Promise<MemoryMeasurement> {
  const generator = startGenerator({
    ...job,
    kind: "idle",
    port: server.port,
    websocket: server.websocket,
  });
  const none = (reason: string): MemoryMeasurement => ({
    idleHeap: null,
    idleRss: null,
    afterHeap: null,
    afterRss: null,
    connections: job.connections,
    errors: 0,
    skipped: reason,
  });
  try {
    const base = await server.usage(true);
    const ready = await generator.next();
    if (ready.type === "failed") return none(ready.reason);
    const idle = await server.usage(true);
    const done = await generator.request({ type: "message-each" });
    if (done.type !== "done") return none(done.type === "failed" ? done.reason : "no echo");
    const after = await server.usage(true);
    const n = job.connections;
    return {
      idleHeap: (heapOf(idle) - heapOf(base)) / n,
      idleRss: (idle.rss - base.rss) / n,
      afterHeap: (heapOf(after) - heapOf(base)) / n,
      afterRss: (after.rss - base.rss) / n,
      connections: n,
      errors: done.errors,
      skipped: null,
    };
  } catch (error) {
    return none(error instanceof Error ? error.message : String(error));
  } finally {
    await generator.stop({ type: "stop" });
  }
}

/** A client library in its own process against `server`. */
export function measureClient(
  server: RunningServer,
  client: ClientKind,
  job: Omit<ClientJob, "client" | "warmupMs" | "url">,
  timing: Timing,
  execArgv: string[],
): Promise<Measurement> {
  const url = `ws://127.0.0.1:${server.port}/`;
  const generator = Child.start<GeneratorCommand, GeneratorReply>(script("client"), {
    args: [JSON.stringify({ ...job, url, client, warmupMs: timing.warmupMs })],
    execArgv,
    core: pinning()?.generator ?? null,
  });
  return measureWith(generator, server, timing);
}
