/**
 * The worker thread's script, run in a real Worker with a port and shared
 * memory of the test's own instead of a Link: the reports it posts for the
 * connection it opens, the commands it carries out, and its flow control.
 * This thread stays free to run the servers, as it never blocks.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { allocateSharedMemory, SharedCounters, WORDS, Word } from "../../src/sync/counters.js";
import { type ConnectOptions, toWorkerOptions } from "../../src/sync/options.js";
import type { Command, Report } from "../../src/sync/wire.js";
import type { WorkerData } from "../../src/sync/worker.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const WORKER_SCRIPT = new URL("../../src/sync/worker.js", import.meta.url);

/** worker.js on a thread of its own, connecting to `uri`. */
class RunningWorker implements AsyncDisposable {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly memory = allocateSharedMemory();
  /** The caller's view of the shared memory. */
  readonly counters = new SharedCounters(this.memory);
  readonly words = new Int32Array(this.memory, 0, WORDS);
  readonly exitCode: Promise<number>;
  /** Resolves once the worker closed its end of the port. */
  readonly portClosed: Promise<void>;
  private readonly reports: Report[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(uri: string, options: ConnectOptions = {}) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: WorkerData = {
      script: WORKER_SCRIPT.href,
      heartbeat: 1_000,
      uri,
      options: toWorkerOptions(options),
      port: port2,
      memory: this.memory,
    };
    this.worker = new Worker(WORKER_SCRIPT, { workerData, transferList: [port2] });
    this.exitCode = once(this.worker, "exit").then(([code]) => code as number);
    port1.on("message", (report: Report) => {
      this.reports.push(report);
      this.notify();
    });
    this.portClosed = new Promise<void>((resolve) => {
      port1.once("close", () => {
        this.closed = true;
        this.notify();
        resolve();
      });
    });
  }

  post(command: Command, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(command, transfer);
  }

  /** The next report, in the order the worker posted them; `null` once the port closed. */
  async next(): Promise<Report | null> {
    for (;;) {
      const report = this.reports.shift();
      if (report !== undefined) return report;
      if (this.closed) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The next report, which must be of type `type`. */
  async expect<T extends Report["type"]>(type: T): Promise<Extract<Report, { type: T }>> {
    const report = await this.next();
    assert.equal(report?.type, type, JSON.stringify(report));
    return report as Extract<Report, { type: T }>;
  }

  /** Every report until the worker closes its port. */
  async rest(): Promise<Report[]> {
    const reports: Report[] = [];
    for (let report = await this.next(); report !== null; report = await this.next()) {
      reports.push(report);
    }
    return reports;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }
}

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the sync client's worker thread", () => {
  it("reports the handshake and the messages received, and carries out send, ping and close", async () => {
    const closedWith = deferred<[number | null, string | null]>();
    const { server, port } = await startServer(async (ws) => {
      try {
        for await (const message of ws) await ws.send(message);
      } catch {
        // 3001 isn't a normal closure: the loop throws.
      }
      closedWith.resolve([ws.closeCode, ws.closeReason]);
    });
    await using _server = server;
    await using running = new RunningWorker(`ws://127.0.0.1:${port}/worker?x=1`, {
      userAgent: "worker-test/1",
    });

    const open = await running.expect("open");
    assert.equal(open.subprotocol, null);
    assert.equal(open.remoteAddress?.port, port);
    assert.equal(open.localAddress?.address, "127.0.0.1");
    assert.equal(open.request.path, "/worker?x=1");
    assert.equal(open.request.method, "GET");
    assert.ok(
      open.request.headers.some(
        ([name, value]) => name === "User-Agent" && value === "worker-test/1",
      ),
    );
    assert.equal(open.response.status, 101);
    assert.ok(
      open.response.headers.some(([name]) => name.toLowerCase() === "sec-websocket-accept"),
    );

    running.post({ type: "send", message: "héllo", size: 6, compress: true });
    assert.deepEqual(await running.expect("message"), { type: "message", data: "héllo" });

    const binary = new Uint8Array([1, 2, 3]).buffer;
    running.post({ type: "send", message: binary, size: 3, compress: false }, [binary]);
    const echoed = await running.expect("message");
    assert.ok(echoed.data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(echoed.data)], [1, 2, 3]);

    running.post({ type: "send", message: ["frag", "ments"], size: 9, compress: true });
    assert.deepEqual(await running.expect("message"), { type: "message", data: "fragments" });

    running.post({ type: "ping", id: 1, data: null });
    const pong = await running.expect("reply");
    assert.equal(pong.id, 1);
    assert.ok(typeof pong.value === "number" && pong.value >= 0);

    running.post({ type: "ping", id: 2, data: "x".repeat(126) });
    const refused = await running.expect("replyError");
    assert.equal(refused.id, 2);
    assert.equal(refused.error.name, "InvalidState");

    running.post({ type: "close", id: 3, code: 3001, reason: "bye" });
    const rest = await running.rest();
    assert.deepEqual(
      rest.map((report) => report.type).sort(),
      ["closed", "closing", "reply"],
      JSON.stringify(rest),
    );
    assert.deepEqual(
      rest.find((report) => report.type === "reply"),
      {
        type: "reply",
        id: 3,
        value: null,
      },
    );
    const closed = rest.find((report) => report.type === "closed")!;
    assert.equal(closed.code, 3001);
    assert.equal(closed.reason, "bye");
    assert.equal(closed.error.name, "ConnectionClosedError");
    assert.deepEqual(await closedWith.promise, [3001, "bye"]);
    // Every message sent was acknowledged, in the bytes the caller posted.
    assert.equal(running.counters.bytesWritten, 6 + 3 + 9);
    assert.equal(await running.exitCode, 0);
  });

  it("reports a server's close after the messages sent before it, then ends", async () => {
    const { server, port } = await startServer(async (ws) => {
      await ws.send("last words");
      await ws.close(1000, "done");
    });
    await using _server = server;
    await using running = new RunningWorker(`ws://127.0.0.1:${port}/`);
    await running.expect("open");
    const rest = await running.rest();
    // The closing handshake starts as the close frame is read, which may be
    // before the message read with it is delivered: both precede the end.
    assert.deepEqual(
      rest.slice(0, 2).sort((a, b) => a.type.localeCompare(b.type)),
      [{ type: "closing" }, { type: "message", data: "last words" }],
    );
    assert.equal(rest.length, 3, JSON.stringify(rest));
    const closed = rest[2]!;
    assert.ok(closed.type === "closed");
    assert.deepEqual(
      [closed.code, closed.reason, closed.error.name],
      [1000, "done", "ConnectionClosedOK"],
    );
    assert.equal(await running.exitCode, 0);
  });

  it("stops after maxQueue messages until a credit, then delivers the rest in order", async () => {
    const closedWith = deferred<number | null>();
    const { server, port } = await startServer(async (ws) => {
      for (let i = 0; i < 20; i++) await ws.send(`message ${i}`);
      await ws.closed;
      closedWith.resolve(ws.closeCode);
    });
    await using _server = server;
    await using running = new RunningWorker(`ws://127.0.0.1:${port}/`, { maxQueue: 2 });
    await running.expect("open");
    assert.equal((await running.expect("message")).data, "message 0");
    assert.equal((await running.expect("message")).data, "message 1");
    // The window is full: the worker declares that it waits for a credit. It
    // posts nothing for it and notifies nobody, so this can only look.
    while (Atomics.load(running.words, Word.STALLED) !== 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Answered at once, stalled or not (a ping too long to send), and after
    // every report posted before it: no third message came before the stall.
    running.post({ type: "ping", id: 1, data: "x".repeat(126) });
    await running.expect("replyError");
    running.counters.consume();
    assert.equal(running.counters.claimStall(), true);
    running.post({ type: "credit" });
    for (let i = 2; i < 20; i++) {
      const message = await running.expect("message");
      assert.equal(message.data, `message ${i}`);
      // As Link.take() does.
      running.counters.consume();
      if (running.counters.claimStall()) running.post({ type: "credit" });
    }
    // A caller that goes away closes its port: the worker closes with 1001.
    running.port.close();
    assert.equal(await closedWith.promise, 1001);
    assert.equal(await running.exitCode, 0);
  });

  it("reports a failed connection, forwarding logs only when asked, and ends", async () => {
    const proxyPort = await closedPort();
    const options = { proxy: `http://user:secret@127.0.0.1:${proxyPort}` };
    await using logging = new RunningWorker("ws://example.com/", options);
    const log = await logging.expect("log");
    assert.deepEqual(log, {
      type: "log",
      level: "debug",
      message: `connecting to ws://example.com/ through http://127.0.0.1:${proxyPort}`,
      details: [],
    });
    const failed = await logging.expect("failed");
    assert.equal(failed.error.fields.code, "ECONNREFUSED");
    assert.equal(await logging.next(), null);
    assert.equal(await logging.exitCode, 0);

    await using quiet = new RunningWorker("ws://example.com/", { ...options, logger: null });
    assert.deepEqual(
      (await quiet.rest()).map((report) => report.type),
      ["failed"],
    );
    assert.equal(await quiet.exitCode, 0);
  });
});
