/**
 * The messages the benchmark's processes exchange over Node's IPC channel, and
 * the parent's side of it: spawn a child (pinned to a CPU core when `taskset`
 * exists), send it commands, await its replies in order.
 *
 * Every measured party runs in its own process so that one cannot steal the
 * other's CPU time unnoticed: the orchestrator only sends a few messages per
 * measurement window.
 *
 * @module
 */

import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";

/** CPU time consumed, in microseconds, as `process.cpuUsage()` reports it. */
export interface CpuTime {
  user: number;
  system: number;
}

/** What a server process reports about itself. */
export interface ServerUsage {
  type: "usage";
  cpu: CpuTime;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** First message of a server process: where it listens and what it loaded. */
export interface ServerListening {
  type: "listening";
  port: number;
  /** Facts worth printing: e.g. whether `ws` runs with its native mask. */
  notes: string[];
}

/** A server process that could not start (e.g. a native module that does not load). */
export interface ServerUnavailable {
  type: "unavailable";
  reason: string;
}

export type ServerReply = ServerListening | ServerUnavailable | ServerUsage;

/** Commands to a server process. `usage` with `gc` collects garbage twice first. */
export type ServerCommand = { type: "usage"; gc: boolean } | { type: "stop" };

/** One measurement window of a load generator or client process. */
export interface Window {
  type: "window";
  /** Length of the window, measured by the process itself, in milliseconds. */
  ms: number;
  /** Messages (or handshakes) completed during the window. */
  count: number;
  /** Bytes received during the window. */
  bytes: number;
  /** CPU time of the measuring process itself during the window. */
  cpu: CpuTime;
  /** Round-trip latencies in microseconds (ping-pong only): median and 99th percentile. */
  p50: number | null;
  p99: number | null;
  errors: number;
}

/** Sent once connections are open and warmed up. */
export interface Ready {
  type: "ready";
  /** Extensions the server accepted, from its 101 response (empty for none). */
  extensions: string;
  errors: number;
}

/** Sent after the one-message-per-connection step of the idle memory workload. */
export interface Done {
  type: "done";
  errors: number;
}

/** A process that gave up, with why. */
export interface Failed {
  type: "failed";
  reason: string;
}

export type GeneratorReply = Ready | Window | Done | Failed;

/** Commands to a load generator or client process, after its job in argv. */
export type GeneratorCommand =
  | { type: "measure"; ms: number }
  | { type: "message-each" }
  | { type: "stop" };

/** The two CPU cores the suite pins to, or `null` when pinning is not possible. */
export interface Pinning {
  server: number;
  generator: number;
}

let tasksetChecked: boolean | null = null;

/** Whether `taskset` exists and there are at least two cores to split between the parties. */
export function pinning(): Pinning | null {
  if (tasksetChecked === null) {
    try {
      execFileSync("taskset", ["-V"], { stdio: "ignore" });
      tasksetChecked = availableParallelism() >= 2;
    } catch {
      tasksetChecked = false;
    }
  }
  return tasksetChecked ? { server: 0, generator: 1 } : null;
}

/** Options of {@link Child.start}. */
export interface StartOptions {
  /** Arguments after the script. */
  args?: string[];
  /** Node flags: `--expose-gc`, `--cpu-prof`, … */
  execArgv?: string[];
  /** Extra environment variables (`WS_NO_BUFFER_UTIL`, …). */
  env?: Record<string, string>;
  /** CPU core to pin every thread of the process to. */
  core?: number | null;
}

/**
 * A benchmark process seen from the orchestrator: commands go in, replies come
 * back in the order the commands were sent.
 */
export class Child<Command, Reply extends { type: string }> implements AsyncDisposable {
  private readonly waiting: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  private readonly early: Reply[] = [];
  private exited = false;

  private constructor(readonly process: ChildProcess) {
    process.on("message", (message) => {
      const reply = message as Reply;
      const next = this.waiting.shift();
      if (next) next.resolve(reply);
      else this.early.push(reply);
    });
    process.on("exit", (code, signal) => {
      this.exited = true;
      const error = new Error(`process exited (${signal ?? code}) before replying`);
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    });
  }

  /** Forks `script` (a path to a compiled bench module) and pins it if asked. */
  static start<C, R extends { type: string }>(script: string, options: StartOptions): Child<C, R> {
    const child = fork(script, options.args ?? [], {
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    if (options.core != null && child.pid !== undefined) {
      // -a: every thread that exists already; threads started later inherit
      // the affinity of the thread that starts them.
      try {
        execFileSync("taskset", ["-a", "-cp", String(options.core), String(child.pid)], {
          stdio: "ignore",
        });
      } catch {
        // Best effort: a process that exited at once reports why through IPC.
      }
    }
    return new Child<C, R>(child);
  }

  /** The next reply not yet taken, e.g. a server's `listening`. */
  next(): Promise<Reply> {
    const early = this.early.shift();
    if (early !== undefined) return Promise.resolve(early);
    if (this.exited) return Promise.reject(new Error("process exited"));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends a command and resolves with the reply it causes. */
  request(command: Command): Promise<Reply> {
    const reply = this.next();
    this.process.send(command as object);
    return reply;
  }

  /** Asks the process to exit (so a CPU profile gets written), then waits; kills it if it hangs. */
  async stop(command: Command): Promise<void> {
    if (this.exited) return;
    const exited = once(this.process, "exit");
    // The channel may be closing already (a server that could not load, such
    // as uWS.js without a binary for this Node, exits right after saying so):
    // given a callback, send() reports that there, not as an 'error' event
    // that nothing listens to.
    this.process.send(command as object, ignoreSendError);
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ type: "stop" } as Command);
  }
}

/** Sends a reply from inside a child process. */
export function reply(message: ServerReply | GeneratorReply): void {
  process.send?.(message);
}

/** Subtracts two CPU readings. */
export function cpuSince(start: CpuTime, end: CpuTime = process.cpuUsage()): CpuTime {
  return { user: end.user - start.user, system: end.system - start.system };
}

/** The process is on its way out: its 'exit' says the rest. */
function ignoreSendError(): void {}

/**
 * Resolves once `child` sends `message` (a plain string, as the one-off
 * scripts' children send); rejects if it exits first, so that a child that
 * crashed does not leave its parent waiting for good.
 */
export function messageFrom(child: ChildProcess, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (received: unknown) => {
      if (received !== message) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve();
    };
    const onExit = (code: number | null) => {
      child.off("message", onMessage);
      reject(new Error(`child process exited with ${code}`));
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}
