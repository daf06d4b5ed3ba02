/**
 * Interop of our WHATWG `WebSocket` (websockets-ts/web) with a server of
 * Python's `websockets` (./python-server.py): messages both ways as Blob and
 * ArrayBuffer, subprotocol and extension negotiation, and close codes and
 * reasons in each direction. Needs Debian's `python3-websockets` (installed
 * by .ci/run); skipped with a note without it.
 */

import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "../../src/web/index.js";
import { PYTHON, pythonWebsocketsVersion, skipWithoutPythonWebsockets } from "../helpers/python.js";
import { deferred, unhandledRejections } from "../helpers/server.js";
import { track } from "./track.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const SERVER = fileURLToPath(new URL("../../../test/web/python-server.py", import.meta.url));

const version = pythonWebsocketsVersion();
const skip = skipWithoutPythonWebsockets(version);

/** The close code and reason the Python server received from a connection. */
interface CloseReport {
  readonly path: string;
  readonly code: number | null;
  readonly reason: string | null;
}

/**
 * Starts python-server.py: its two servers (without and with subprotocols),
 * and the close reports it prints, by path.
 */
async function startPythonServer() {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(PYTHON, [SERVER], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, "exit");
  const reports = new Map<string, ReturnType<typeof deferred<CloseReport>>>();
  const reportFor = (path: string) => {
    let report = reports.get(path);
    if (report === undefined) {
      report = deferred<CloseReport>();
      reports.set(path, report);
    }
    return report;
  };
  const ports = deferred<[number, number]>();
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    if (!line.startsWith("{")) {
      const [plain, withSubprotocols] = line.split(" ").map(Number);
      ports.resolve([plain!, withSubprotocols!]);
      return;
    }
    const report = JSON.parse(line) as CloseReport;
    reportFor(report.path).resolve(report);
  });
  void exited.then(([code]) => {
    const error = new Error(`python exited with ${code}: ${stderr}`);
    ports.reject(error);
    for (const report of reports.values()) report.reject(error);
  });
  const [plain, withSubprotocols] = await ports.promise;
  return {
    plain: `ws://127.0.0.1:${plain}`,
    withSubprotocols: `ws://127.0.0.1:${withSubprotocols}`,
    /** What the server reports once the connection to `path` ended. */
    closeReport(path: string): Promise<CloseReport> {
      return reportFor(path).promise;
    },
    async [Symbol.asyncDispose]() {
      child.stdin.end();
      await exited;
    },
  };
}

type PythonServer = Awaited<ReturnType<typeof startPythonServer>>;

describe(`our WebSocket class against a Python websockets ${version ?? ""} server`, {
  skip,
}, () => {
  let python: PythonServer;

  before(async () => {
    python = await startPythonServer();
  });

  after(async () => {
    await python?.[Symbol.asyncDispose]();
  });

  it("echoes text, and binary as Blob then ArrayBuffer", async () => {
    const ws = new WebSocket(`${python.plain}/echo/messages`);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("Hello, Python! 🐍");
    ws.send(new Uint8Array([0, 1, 255]));
    ws.send(new Blob(["blob ", new Uint8Array([0xc3, 0xa9])]));
    assert.equal((await tracked.nextMessage()).data, "Hello, Python! 🐍");
    const blob = (await tracked.nextMessage()).data as Blob;
    assert.ok(blob instanceof Blob);
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [0, 1, 255]);
    const fromBlob = (await tracked.nextMessage()).data as Blob;
    assert.equal(await fromBlob.text(), "blob é");

    ws.binaryType = "arraybuffer";
    const big = new Uint8Array(300_000).map((_, index) => index % 251);
    ws.send(big);
    const echoed = (await tracked.nextMessage()).data as ArrayBuffer;
    assert.ok(echoed instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(echoed), big);

    ws.close(1000, "done");
    const event = await tracked.closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [1000, "done", true]);
    assert.deepEqual(tracked.log, ["open", "message", "message", "message", "message", "close"]);
    assert.deepEqual(await python.closeReport("/echo/messages"), {
      path: "/echo/messages",
      code: 1000,
      reason: "done",
    });
  });

  it("reports the extensions the Python server accepted", async () => {
    const ws = new WebSocket(`${python.plain}/echo/extensions`);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("extensions?");
    const serverSide = (await tracked.nextMessage()).data as string;
    assert.match(ws.extensions, /^permessage-deflate/);
    assert.equal(ws.extensions, serverSide);
    ws.close();
    await tracked.closed;
  });

  it("negotiates the subprotocol Python selects, and agrees on it", async () => {
    const ws = new WebSocket(`${python.withSubprotocols}/echo/subprotocol`, ["chat.v2", "other"]);
    const tracked = track(ws);
    assert.equal(ws.protocol, "");
    await tracked.opened;
    assert.equal(ws.protocol, "chat.v2");
    ws.send("subprotocol?");
    assert.equal((await tracked.nextMessage()).data, "chat.v2");
    ws.close();
    await tracked.closed;
    assert.equal(ws.protocol, "chat.v2");
  });

  it("reports the code and reason of the close Python started", async () => {
    const ws = new WebSocket(`${python.plain}/close/server`);
    const tracked = track(ws);
    let stateInClose = -1;
    ws.onclose = () => {
      stateInClose = ws.readyState;
    };
    const event = await tracked.closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4001, "from python", true]);
    assert.deepEqual(tracked.log, ["open", "close"]);
    assert.equal(stateInClose, WebSocket.CLOSED);
    // Python received our close frame echoing its code.
    assert.equal((await python.closeReport("/close/server")).code, 4001);
  });

  for (const [name, args, code, reason] of [
    ["a code and a reason", [4002, "bye from node é"], 4002, "bye from node é"],
    ["a code alone", [3000], 3000, ""],
    ["no code (an empty close frame)", [], 1005, ""],
    ["a reason alone (the code is 1000)", [undefined, "only a reason"], 1000, "only a reason"],
  ] as const) {
    it(`closes with ${name}, as Python reports`, async () => {
      const path = `/echo/close-${code}`;
      const ws = new WebSocket(`${python.plain}${path}`);
      const tracked = track(ws);
      await tracked.opened;
      (ws.close as (...closeArgs: unknown[]) => void)(...args);
      assert.equal(ws.readyState, WebSocket.CLOSING);
      const event = await tracked.closed;
      // Python echoes the close frame it received: the code, and the reason.
      assert.deepEqual([event.code, event.reason, event.wasClean], [code, reason, true]);
      assert.deepEqual(await python.closeReport(path), { path, code, reason });
    });
  }
});
