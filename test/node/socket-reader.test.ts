import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { describe, it } from "node:test";
import { PayloadTooBig } from "../../src/core/errors.js";
import { SocketReader } from "../../src/node/socket-reader.js";

/**
 * A loopback connection whose server side sends `pieces` one at a time, each
 * after the client has received the previous one, so that each arrives in a
 * read of its own. The client acknowledges every read with one byte. Once a
 * later read arrives, the buffer of the one before is overwritten: a reader
 * that kept it instead of copying its bytes would see the change.
 */
async function dribble(pieces: readonly string[]): Promise<{
  client: net.Socket;
  reads: () => number;
  stopWatching: () => void;
  close: () => Promise<void>;
}> {
  const server = net.createServer((socket) => {
    let sent = 0;
    const next = () => {
      if (sent < pieces.length) socket.write(pieces[sent++]!, "latin1");
    };
    socket.on("data", (acks: Buffer) => {
      for (let i = 0; i < acks.length; i++) next();
    });
    socket.on("error", () => {});
    next();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, "127.0.0.1");
  client.setNoDelay(true);
  client.on("error", () => {});
  await once(client, "connect");
  let reads = 0;
  let previous: Buffer | null = null;
  const onData = (chunk: Buffer) => {
    reads++;
    previous?.fill(0x7e);
    previous = chunk;
    client.write("+");
  };
  client.on("data", onData);
  return {
    client,
    reads: () => reads,
    stopWatching: () => client.off("data", onData),
    close: async () => {
      client.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

describe("SocketReader.readHead", () => {
  it("parses a long head received in many reads, lines split anywhere, and leaves what follows", async () => {
    const head = `HTTP/1.1 200 Connection established\r\nX-Long: ${"v".repeat(3000)}\r\nVia: 1.1 proxy\r\n\r\n`;
    // Pieces of 1 to 3 bytes: CRLFs fall inside pieces and across them.
    const pieces: string[] = [];
    for (let at = 0, n = 1; at < head.length; at += n, n = (n % 3) + 1) {
      pieces.push(head.slice(at, at + n));
    }
    pieces[pieces.length - 1] += "tunnel";
    const { client, reads, stopWatching, close } = await dribble(pieces);
    try {
      const reader = new SocketReader(client, new AbortController().signal, "proxy test");
      const lines = await reader.readHead(64 * 1024);
      assert.deepEqual(lines, [
        "HTTP/1.1 200 Connection established",
        `X-Long: ${"v".repeat(3000)}`,
        "Via: 1.1 proxy",
      ]);
      assert.equal(reads(), pieces.length);
      assert.equal(reader.hasPendingData, true);
      // The bytes after the head come back in the last read's buffer.
      stopWatching();
      const socket = reader.release();
      socket.resume();
      const [rest] = (await once(socket, "data")) as [Buffer];
      assert.equal(rest.toString("latin1"), "tunnel");
    } finally {
      await close();
    }
  });

  it("rejects a line received one byte per read as soon as it passes the limit", async () => {
    const line = `HTTP/1.1 200 ${"x".repeat(2000)}\r\n\r\n`;
    const { client, reads, close } = await dribble([...line]);
    try {
      const reader = new SocketReader(client, new AbortController().signal, "proxy test");
      await assert.rejects(reader.readHead(1000), PayloadTooBig);
      // The byte after the 1000th is the one that makes the line too long.
      assert.equal(reads(), 1001);
    } finally {
      await close();
    }
  });

  it("counts the lines before toward the limit of the head", async () => {
    const head = `HTTP/1.1 200 OK\r\nA: ${"a".repeat(500)}\r\nB: ${"b".repeat(500)}\r\n\r\n`;
    const { client, reads, close } = await dribble([...head]);
    try {
      const reader = new SocketReader(client, new AbortController().signal, "proxy test");
      await assert.rejects(reader.readHead(1000), PayloadTooBig);
      // 17 bytes of status line and 505 of the first field leave 478 for the second.
      assert.equal(reads(), 17 + 505 + 479);
    } finally {
      await close();
    }
  });
});
