import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as net from "node:net";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, describe, it } from "node:test";
import {
  ConcurrencyError,
  ConnectionClosedError,
  ConnectionClosedOK,
} from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import { createWebSocketStream } from "../../src/node/stream.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Everything a readable stream gives until it ends, as one buffer. */
async function readAll(readable: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("createWebSocketStream()", () => {
  it("reads each message as a chunk and sends each chunk written as a message", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    const stream = createWebSocketStream(ws);
    stream.write(Buffer.from("binary "));
    stream.write("text as bytes");
    const first = await once(stream, "data");
    assert.deepEqual(first, [Buffer.from("binary ")]);
    const second = await once(stream, "data");
    assert.deepEqual(second, [Buffer.from("text as bytes")]);
    // end() closes the connection normally; the readable side then ends.
    stream.end();
    stream.resume();
    await once(stream, "close");
    assert.equal(ws.closeCode, 1000);
  });

  it("pipes bytes through a server that pipes its stream into itself", async () => {
    const piped = deferred();
    const { server, uri } = await startServer(async (ws) => {
      const stream = createWebSocketStream(ws);
      await pipeline(stream, stream);
      piped.resolve();
    });
    await using _server = server;
    const ws = await connect(uri, { maxMessageSize: null });
    const stream = createWebSocketStream(ws);
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 256;
    const chunks = function* () {
      for (let at = 0; at < payload.length; at += 100_000) yield payload.subarray(at, at + 100_000);
    };
    const [, echoed] = await Promise.all([
      pipeline(Readable.from(chunks()), stream),
      readAll(stream),
    ]);
    assert.ok(echoed.equals(payload), "every byte, in order");
    await within(piped.promise, 10_000, "the server's pipeline to end");
    assert.equal(ws.closeCode, 1000);
  });

  it("keeps text and binary apart in object mode, and writes strings as text without decodeStrings", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const objects = createWebSocketStream(ws, { objectMode: true });
    objects.write("text");
    objects.write(new Uint8Array([1, 2]));
    // Anything send() takes, in object mode: the fragments of one message, a Blob.
    objects.write(["frag", "ments"]);
    objects.write(new Blob(["blob"]));
    const read = [];
    for await (const message of objects) {
      read.push(typeof message === "string" ? message : [...message]);
      if (read.length === 4) break;
    }
    assert.deepEqual(read, ["text", [1, 2], "fragments", [98, 108, 111, 98]]);

    await using ws2 = await connect(uri);
    const strings = createWebSocketStream(ws2, { decodeStrings: false });
    strings.write("sent as text");
    assert.equal(await ws2.recv(), "sent as text", "the echo, read from the connection itself");
    strings.destroy();
  });

  it("reads only as fast as it is read: the peer's sends wait, memory stays bounded", async () => {
    const opened = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      opened.resolve(ws);
      await ws.closed;
    });
    await using _server = server;
    const ws = await connect(uri, { maxQueue: 4 });
    const stream = createWebSocketStream(ws, { highWaterMark: 1024 });
    const serverSide = await opened.promise;
    // Start reading once, then stop: the stream fills its buffer and stops pulling.
    stream.pause();
    stream.read(0);
    // Random: compressed, a run of one byte would take a few hundred bytes of the socket's buffers.
    const message = randomBytes(64 * 1024);
    // The server sends until a send() waits 500 ms: the client stopped reading.
    let sent = 0;
    let waiting: Promise<void> | null = null;
    while (waiting === null) {
      const sending = serverSide.send(message);
      const patience = deferred<boolean>();
      const timer = setTimeout(() => patience.resolve(false), 500);
      sending.then(() => patience.resolve(true));
      if (await patience.promise) sent++;
      else waiting = sending;
      clearTimeout(timer);
      assert.ok(sent < 1000, "the server's sends never wait");
    }
    assert.ok(
      stream.readableLength <= 1024 + message.length,
      `${stream.readableLength} B buffered in the stream`,
    );
    // Reading again lets everything through, the waiting send included.
    const all = (sent + 1) * message.length;
    const receivedAll = deferred();
    let received = 0;
    stream.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received === all) receivedAll.resolve();
    });
    stream.resume();
    await within(waiting, 10_000, "the waiting send");
    await within(receivedAll.promise, 10_000, "every message");
    stream.destroy();
    await once(stream, "close");
    await ws.closed;
    assert.equal(ws.closeCode, 1000);
  });

  it("ends when the peer closes normally, and errors with how it closed otherwise", async () => {
    const opened = deferred<ServerConnection>();
    const { server, uri } = await startServer(async (ws) => {
      opened.resolve(ws);
      await ws.send("last words");
      await ws.close(1000);
    });
    await using _server = server;
    const ws = await connect(uri);
    const stream = createWebSocketStream(ws);
    // A for await loop that reads to the end must leave no error behind.
    const errors: unknown[] = [];
    stream.on("error", (error) => errors.push(error));
    assert.equal((await readAll(stream)).toString(), "last words");
    // Node 20 destroys the stream as the loop ends (with an AbortError, as
    // the writable side hasn't finished); Node 22 on leaves it open, and end() closes it.
    if (!stream.destroyed) stream.end();
    if (!stream.closed) await once(stream, "close");
    assert.deepEqual(errors, []);
    assert.equal(ws.closeCode, 1000);

    const lost = deferred<ServerConnection>();
    const { server: server2, uri: uri2 } = await startServer(async (ws) => {
      lost.resolve(ws);
      await ws.closed;
    });
    await using _server2 = server2;
    const ws2 = await connect(uri2);
    const stream2 = createWebSocketStream(ws2);
    stream2.resume();
    (await lost.promise).terminate();
    const [error] = await once(stream2, "error");
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(ws2.closeCode, 1006);
  });

  it("leaves the writable side open when the readable side ends: writes fail, end() completes", async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.close(1000, "bye");
    });
    await using _server = server;
    const ws = await connect(uri);
    const stream = createWebSocketStream(ws);
    stream.resume();
    await once(stream, "end");
    assert.equal(stream.writable, true, "half-open, as a Duplex is by default");
    const failed = once(stream, "error");
    stream.write("too late");
    const [error] = await failed;
    assert.ok(error instanceof ConnectionClosedOK);

    const ws2 = await connect(uri);
    const stream2 = createWebSocketStream(ws2);
    stream2.resume();
    await once(stream2, "end");
    stream2.end();
    await once(stream2, "finish");
    await once(stream2, "close");
    assert.equal(ws2.closeReason, "bye");
  });

  it("closes the connection when destroyed: 1000, or 1011 with an error", async () => {
    const codes: number[] = [];
    const { server, uri } = await startServer(async (ws) => {
      await ws.closed;
      codes.push(ws.closeCode!);
    });
    await using _server = server;
    const ws = await connect(uri);
    const stream = createWebSocketStream(ws);
    stream.destroy();
    await once(stream, "close");
    assert.equal(ws.closeCode, 1000);

    const ws2 = await connect(uri);
    const stream2 = createWebSocketStream(ws2);
    const failure = new Error("the other end of the pipe failed");
    stream2.destroy(failure);
    const [error] = await once(stream2, "error");
    assert.equal(error, failure);
    await ws2.closed;
    assert.equal(ws2.closeCode, 1011);
    while (codes.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(codes.sort(), [1000, 1011]);

    // A loop that breaks destroys the stream with an AbortError: it stopped, it didn't fail.
    const echoing = await startServer(echo);
    await using _echoing = echoing.server;
    const ws3 = await connect(echoing.uri);
    const stream3 = createWebSocketStream(ws3);
    stream3.write("echo this");
    for await (const chunk of stream3) {
      assert.equal(String(chunk), "echo this");
      break;
    }
    await ws3.closed;
    assert.equal(ws3.closeCode, 1000);
  });

  it("fails with ConcurrencyError, closing with 1011, when another reader already waits", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = await connect(uri);
    const elsewhere = assert.rejects(ws.recv(), ConnectionClosedError);
    const stream = createWebSocketStream(ws);
    stream.resume();
    const [error] = await once(stream, "error");
    assert.ok(error instanceof ConcurrencyError);
    await ws.closed;
    assert.equal(ws.closeCode, 1011);
    await elsewhere;
  });

  it("tunnels a TCP connection through a WebSocket", async () => {
    // A TCP echo server behind a WebSocket gateway, as a device gateway would.
    const tcp = net.createServer((socket) => socket.pipe(socket));
    tcp.listen(0, "127.0.0.1");
    await once(tcp, "listening");
    const tcpPort = (tcp.address() as net.AddressInfo).port;
    try {
      const tunnelled = deferred();
      const { server, uri } = await startServer(async (ws) => {
        const socket = net.connect({ port: tcpPort, host: "127.0.0.1", allowHalfOpen: true });
        const stream = createWebSocketStream(ws);
        await pipeline(stream, socket, stream);
        tunnelled.resolve();
      });
      await using _server = server;
      const ws = await connect(uri);
      const stream = createWebSocketStream(ws);
      const received: Buffer[] = [];
      const receivedAll = deferred();
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          received.push(chunk);
          if (Buffer.concat(received).length >= 20) receivedAll.resolve();
          callback();
        },
      });
      const reading = pipeline(stream, sink);
      stream.write("through TCP ");
      stream.write("and back");
      await within(receivedAll.promise, 10_000, "the echo through the tunnel");
      assert.equal(Buffer.concat(received).toString(), "through TCP and back");
      stream.end();
      await within(reading, 10_000, "the tunnel to close");
      assert.equal(ws.closeCode, 1000);
      await within(tunnelled.promise, 10_000, "the gateway's pipeline to end without an error");
    } finally {
      tcp.close();
    }
  });
});
