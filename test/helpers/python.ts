/**
 * Python's `websockets` as an interop peer: Debian's `/usr/bin/python3` with
 * the `python3-websockets` package (`.ci/run` installs it). Tests skip, with
 * a reason, where it is missing.
 *
 * {@link startPythonServer} and {@link runPythonClient} run the scripts of
 * `test/interop/python/` with a JSON scenario; their docstrings list what a
 * scenario may say and what the scripts report.
 */

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RunningNode, runProcess, startProcess } from "./child.js";

/** Debian's Python, which has `websockets` once `python3-websockets` is installed. */
export const PYTHON = "/usr/bin/python3";

/** The version of Python's `websockets`, or `null` when it can't be imported. */
export function pythonWebsocketsVersion(): string | null {
  try {
    return execFileSync(PYTHON, ["-c", "import websockets; print(websockets.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

/** `false` when `version` is known, else why a test that needs `websockets` is skipped. */
export function skipWithoutPythonWebsockets(version: string | null): string | false {
  return version === null ? `needs ${PYTHON} with websockets (apt python3-websockets)` : false;
}

const SCRIPTS = fileURLToPath(new URL("../../../test/interop/python/", import.meta.url));

/** `-B`: the scripts import peer.py, and Python would write its bytecode next to it. */
const PYTHON_FLAGS = ["-B"];

/** A frame as the Python side recorded it: direction, opcode, bytes on the wire, payload bytes. */
export type PythonFrame = [direction: "in" | "out", opcode: string, wire: number, payload: number];

/** permessage-deflate as the Python side agreed it, in its own terms (local = Python). */
export interface PythonDeflate {
  local_max_window_bits: number;
  remote_max_window_bits: number;
  local_no_context_takeover: boolean;
  remote_no_context_takeover: boolean;
}

/** The opening handshake, as the Python side saw it. */
export interface PythonHandshake {
  path: string;
  request_headers: Record<string, string>;
  response_headers: Record<string, string>;
  subprotocol: string | null;
  deflate: PythonDeflate | null;
  /** The TLS version, e.g. "TLSv1.3", or `null` without TLS. */
  tls: string | null;
}

/** How the connection ended, as the Python side saw it. */
export interface PythonClosing {
  close_rcvd: [code: number, reason: string] | null;
  close_sent: [code: number, reason: string] | null;
  close_rcvd_then_sent: boolean | null;
  frames: PythonFrame[];
}

/** A connection the Python server had, reported once it ended. */
export interface PythonConnection extends PythonHandshake, PythonClosing {
  event: "connection";
  username: string | null;
  /** The type of the ConnectionClosed exception the handler got, if any. */
  error: string | null;
}

/** A request the Python server answered without a handshake (reject or redirect). */
export interface PythonRejection {
  event: "rejected";
  path: string;
  status: number;
}

/** What the Python client reports: a connection, or why there was none. */
export type PythonClientReport =
  | (PythonHandshake &
      PythonClosing & {
        /** What each step returned, in order. */
        steps: unknown[];
        /** The type of the ConnectionClosed exception a step got, if any. */
        error: string | null;
      })
  | {
      error: "InvalidStatusCode";
      status_code: number;
      headers: Record<string, string>;
    }
  | { error: string; message: string };

/** A Python server started by {@link startPythonServer}. */
export interface PythonServer extends AsyncDisposable {
  /** `ws://127.0.0.1:<port>` or `wss://…` with `tls`; `ws://localhost` on a Unix socket. */
  readonly uri: string;
  /** The port of the second server that `redirect` starts, else `null`. */
  readonly redirectPort: number | null;
  /** The next report of a connection that ended. */
  nextConnection(): Promise<PythonConnection>;
  /** The next request answered without a handshake. */
  nextRejection(): Promise<PythonRejection>;
  /**
   * Shuts the server down as its application would (`server.close()`, which
   * closes open connections with 1001), then waits for it to exit.
   */
  stop(): Promise<void>;
}

/** The regular expression that matches once line `index` (from 0) of the output is complete. */
function line(index: number): RegExp {
  return new RegExp(`^(?:.*\\n){${index}}(.*)\\n`);
}

/**
 * Starts `test/interop/python/server.py` with `scenario` and resolves once it
 * listens. `await using` stops it, killing it if it doesn't exit by itself.
 */
export async function startPythonServer(scenario: object = {}): Promise<PythonServer> {
  const args = [...PYTHON_FLAGS, `${SCRIPTS}server.py`, JSON.stringify(scenario)];
  const running = await startProcess(PYTHON, args, {
    ready: line(0),
    holdStdin: true,
  });
  const listening = JSON.parse(running.ready[1]!) as {
    port?: number;
    path?: string;
    redirect_port: number | null;
  };
  // Lines read so far, and which of them a test took.
  const events: Record<string, unknown>[] = [listening];
  const taken = new Set<number>([0]);
  async function next<T>(kind: string): Promise<T> {
    for (let index = 0; ; index++) {
      if (index === events.length) {
        events.push(JSON.parse((await running.waitFor(line(index)))[1]!));
      }
      if (!taken.has(index) && events[index]!.event === kind) {
        taken.add(index);
        return events[index] as T;
      }
    }
  }
  const scheme = "tls" in scenario ? "wss" : "ws";
  return {
    uri:
      listening.path === undefined
        ? `${scheme}://127.0.0.1:${listening.port}`
        : `${scheme}://localhost`,
    redirectPort: listening.redirect_port ?? null,
    nextConnection: () => next("connection"),
    nextRejection: () => next("rejected"),
    stop: () => stop(running),
    [Symbol.asyncDispose]: () => stop(running),
  };
}

async function stop(running: RunningNode): Promise<void> {
  running.child.stdin?.end();
  const { code, stderr } = await Promise.race([
    running.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the Python server did not stop")), 10_000).unref(),
    ),
  ]).catch(async (error: unknown) => {
    await running[Symbol.asyncDispose]();
    throw error;
  });
  if (code !== 0) throw new Error(`the Python server exited with ${code}: ${stderr}`);
}

/** Runs `test/interop/python/client.py` with `scenario` and resolves with its report. */
export async function runPythonClient(scenario: object): Promise<PythonClientReport> {
  const { code, stdout, stderr } = await runProcess(PYTHON, [
    ...PYTHON_FLAGS,
    `${SCRIPTS}client.py`,
    JSON.stringify(scenario),
  ]);
  if (code !== 0) throw new Error(`the Python client exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as PythonClientReport;
}

/** Narrows a client report to a connection that opened, or fails with what the report says. */
export function opened(
  report: PythonClientReport,
): Extract<PythonClientReport, { steps: unknown[] }> {
  if (!("steps" in report))
    throw new Error(`the Python client did not connect: ${JSON.stringify(report)}`);
  return report;
}
