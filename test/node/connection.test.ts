import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  ConcurrencyError,
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidState,
} from "../../src/core/errors.js";
import { State } from "../../src/core/protocol.js";
import { connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe("Connection", () => {
  it("echoes text and binary messages", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send("Hello!");
    assert.equal(await ws.recv(), "Hello!");
    await ws.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [1, 2, 3]);
    await ws.send(new Uint8Array([4, 5]).buffer);
    assert.deepEqual([...(await ws.recvBinary())], [4, 5]);
    await ws.sendText("café");
    assert.equal(await ws.recvText(), "café");
    await ws.sendBinary(Buffer.from("bytes"));
    assert.equal(await ws.recvText(), "bytes");
    await ws.send("as bytes");
    assert.equal(Buffer.from(await ws.recvBinary()).toString(), "as bytes");
    assert.equal(ws.state, State.OPEN);
    assert.equal(ws.remoteAddress?.address, "127.0.0.1");
    assert.equal(typeof ws.localAddress?.port, "number");
  });

  it("reports the close code and reason on both sides when the client closes", async () => {
    const closedOnServer = deferred<[number | null, string | null, unknown]>();
    const { server, uri } = await startServer(async (ws) => {
      const error = await ws.recv().catch((e: unknown) => e);
      await ws.closed;
      closedOnServer.resolve([ws.closeCode, ws.closeReason, error]);
    });
    await using _server = server;
    const ws = await connect(uri);
    await ws.close(1000, "done");
    assert.equal(ws.state, State.CLOSED);
    assert.equal(ws.closeCode, 1000);
    assert.equal(ws.closeReason, "done");
    const [code, reason, error] = await closedOnServer.promise;
    assert.equal(code, 1000);
    assert.equal(reason, "done");
    assert.ok(error instanceof ConnectionClosedOK);
    assert.equal(error.message, "received 1000 (OK) done; then sent 1000 (OK) done");
  });

  it("reports the close code and reason on both sides when the server closes", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.close(4000, "custom");
      assert.equal(ws.closeCode, 4000);
    });
    await using _server = server;
    await using ws = await connect(uri);
    const error = await ws.recv().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(
      error.message,
      "received 4000 (private use) custom; then sent 4000 (private use) custom",
    );
    assert.equal(ws.closeCode, 4000);
    assert.equal(ws.closeReason, "custom");
  });

  it("ends iteration quietly on a normal close and throws on an abnormal one", async () => {
    const { server, uri } = await startServer(async (ws) => {
      const mode: unknown = await ws.recv();
      await ws.send("one");
      await ws.close(mode === "ok" ? 1000 : 1011, "");
      void mode;
    });
    await using _server = server;
    const received: unknown[] = [];
    {
      await using ws = await connect(uri);
      await ws.send("ok");
      for await (const message of ws) received.push(message);
    }
    assert.deepEqual([...received], ["one"]);
    await using ws = await connect(uri);
    await ws.send("error");
    await assert.rejects(async () => {
      for await (const message of ws) received.push(message);
    }, ConnectionClosedError);
    assert.deepEqual(received, ["one", "one"]);
  });

  it("raises ConnectionClosed from send() and recv() once closed", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await ws.close();
    await assert.rejects(ws.send("late"), ConnectionClosedOK);
    await assert.rejects(ws.recv(), ConnectionClosedOK);
    await assert.rejects(ws.ping(), ConnectionClosedOK);
    await assert.rejects(ws.pong(), ConnectionClosedOK);
    await ws.close();
  });

  it("sends an iterable or an async iterable as one fragmented message", async () => {
    const frames = deferred<unknown[]>();
    const { server, uri } = await startServer(async (ws) => {
      const messages = [await ws.recv(), await ws.recv(), await ws.recv()];
      // An empty iterable sends nothing: the third message is the string after it.
      frames.resolve(messages);
    });
    await using _server = server;
    await using ws = await connect(uri);
    await ws.send(["Hel", "lo"]);
    async function* chunks() {
      yield Buffer.from([1]);
      yield Buffer.from([2, 3]);
    }
    await ws.send(chunks());
    await ws.send([]);
    await ws.send("last");
    const [text, binary, last] = await frames.promise;
    assert.equal(text, "Hello");
    assert.deepEqual([...(binary as Uint8Array)], [1, 2, 3]);
    assert.equal(last, "last");
  });

  it("refuses a fragmented message that mixes text and bytes, and fails the connection", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    await assert.rejects(ws.send(["text", Buffer.from("bytes")]), TypeError);
    await ws.closed;
    assert.equal(ws.protocol.closeSent?.code, 1011);
  });

  it("refuses what it cannot send", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    await assert.rejects(ws.send(42 as never), TypeError);
    await assert.rejects(ws.send([42] as never), /fragments must be strings or bytes/);
    await assert.rejects(ws.close(1005), InvalidState);
  });

  it("queues sends behind a fragmented message in progress", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const gate = deferred();
    async function* slow() {
      yield "a";
      await gate.promise;
      yield "b";
    }
    const fragmented = ws.send(slow());
    const plain = ws.send("after");
    gate.resolve();
    await Promise.all([fragmented, plain]);
    assert.equal(await ws.recv(), "ab");
    assert.equal(await ws.recv(), "after");
  });

  it("measures latency with ping()", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const latency = await ws.ping();
    assert.ok(latency >= 0);
    assert.equal(ws.latency, latency);
    const [a, b] = await Promise.all([ws.ping("a"), ws.ping(Buffer.from("b"))]);
    assert.ok(a >= 0 && b >= 0);
    const pending = ws.ping("same");
    await assert.rejects(ws.ping("same"), ConcurrencyError);
    await pending;
    await ws.pong("unsolicited");
  });

  it("rejects pending pings when the connection closes", async () => {
    const { server, uri } = await startServer(async (ws) => {
      ws.protocol.sendClose(1000);
      await ws.closed;
    });
    await using _server = server;
    await using ws = await connect(uri);
    const results = await Promise.allSettled([ws.ping()]);
    assert.equal(results[0].status, "rejected");
  });

  it("lets recv() be aborted without losing the next message", async () => {
    const release = deferred();
    const { server, uri } = await startServer(async (ws) => {
      await release.promise;
      await ws.send("kept");
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    await using ws = await connect(uri);
    const controller = new AbortController();
    const aborted = ws.recv({ signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await assert.rejects(aborted, /stop waiting/);
    await assert.rejects(ws.recv({ signal: AbortSignal.abort(new Error("already")) }), /already/);
    release.resolve();
    const withSignal = new AbortController();
    assert.equal(await ws.recv({ signal: withSignal.signal }), "kept");
  });

  it("refuses two concurrent recv() calls", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const first = ws.recv();
    await assert.rejects(ws.recv(), ConcurrencyError);
    await ws.send("x");
    assert.equal(await first, "x");
  });

  it("closes idempotently and through await using", async () => {
    let serverSide: ServerConnection | null = null;
    const { server, uri } = await startServer(async (ws) => {
      serverSide = ws;
      await ws.recv().catch(() => {});
    });
    await using _server = server;
    {
      await using ws = await connect(uri);
      await ws.send("x");
    }
    const ws = await connect(uri);
    await Promise.all([ws.close(), ws.close(1001)]);
    assert.equal(ws.closeCode, 1000);
    assert.notEqual(serverSide, null);
  });

  it("makes send() wait when the peer does not read, instead of buffering without bound", async () => {
    const release = deferred();
    const { server, uri } = await startServer(
      async (ws) => {
        await release.promise;
        for await (const _ of ws);
      },
      { maxQueue: 1, maxMessageSize: null },
    );
    await using _server = server;
    // Without compression: zeros would deflate to almost nothing and never fill the socket.
    await using ws = await connect(uri, { writeHighWaterMark: 256 * 1024, compression: null });
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    let stalled = false;
    // Send until one send() does not complete while the peer holds back.
    while (!stalled && sent < 256) {
      const sending = ws.send(chunk);
      const outcome = await Promise.race([
        sending.then(() => "sent"),
        new Promise((resolve) => setTimeout(resolve, 500, "waiting")),
      ]);
      if (outcome === "waiting") {
        stalled = true;
        release.resolve();
        await sending;
      }
      sent++;
    }
    assert.ok(stalled, "send() waited for the peer");
    assert.ok(sent < 256, `sent ${sent} MiB before waiting`);
  });
});
