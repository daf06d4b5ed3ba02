/**
 * A raw TCP peer for fault tests: speaks bytes, not WebSocket, so a test can
 * send what no well-behaved library would and read exactly what came back.
 */

import { Buffer } from "node:buffer";
import { once } from "node:events";
import * as net from "node:net";
import { Frame } from "../../src/core/frame.js";
import { FrameParser } from "../../src/core/frame-parser.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat } from "./bytes.js";
import { MASK } from "./protocol.js";

/** A socket with buffered reads that can wait for bytes, lines and frames. */
export class RawPeer {
  readonly reader = new StreamReader();
  private waiters: (() => void)[] = [];
  private parser: FrameParser;
  ended = false;
  closed: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    readonly role: "client" | "server",
  ) {
    this.parser = new FrameParser({ mask: role === "server" });
    this.parser.maxMessageSize = Number.POSITIVE_INFINITY;
    socket.on("data", (chunk: Buffer) => {
      this.reader.feedData(new Uint8Array(chunk));
      this.wake();
    });
    socket.on("end", () => {
      // Like an ordinary TCP peer, close our side when the other side closes.
      socket.end();
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => {});
    // Not events.once(): it rejects on "error" (e.g. ECONNRESET), which would go unhandled.
    this.closed = new Promise<void>((resolve) => socket.once("close", () => resolve())).then(() => {
      this.ended = true;
      this.wake();
    });
  }

  /** Connects to a port on 127.0.0.1 as a client. */
  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    await once(socket, "connect");
    return new RawPeer(socket, "client");
  }

  /** Writes bytes or a string. */
  write(data: Uint8Array | string): void {
    this.socket.write(data);
  }

  /** Writes a frame, masked when this peer is a client. */
  writeFrame(opcode: Opcode, data: Uint8Array | string, fin = true): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.write(
      concat(serializeFrame(new Frame(opcode, bytes, fin), this.role === "client" ? MASK : null)),
    );
  }

  /** Sends an opening handshake request and waits for the response head. */
  async handshake(path = "/", extraHeaders = ""): Promise<string> {
    this.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
    );
    return this.readHead();
  }

  /** Reads up to and including the blank line that ends an HTTP head. */
  async readHead(): Promise<string> {
    let head = "";
    for (;;) {
      const line = this.reader.readLine(65536);
      if (line !== null) {
        const text = new TextDecoder().decode(line);
        head += text;
        if (text === "\r\n") return head;
        continue;
      }
      if (this.ended) return head;
      await this.wait();
    }
  }

  /** Reads everything until the peer closes. */
  async readToEnd(): Promise<string> {
    while (!this.ended) await this.wait();
    return new TextDecoder().decode(this.reader.readAll());
  }

  /** Reads the next frame, or `null` if the connection ends first. */
  async readFrame(): Promise<Frame | null> {
    for (;;) {
      const frame = this.parser.parse(this.reader);
      if (frame !== null) return frame;
      if (this.ended) return null;
      await this.wait();
    }
  }

  /** Reads frames until a close frame, answering nothing; returns the close frame or null. */
  async readUntilClose(): Promise<Frame | null> {
    for (;;) {
      const frame = await this.readFrame();
      if (frame === null || frame.opcode === Opcode.CLOSE) return frame;
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A TCP server on 127.0.0.1 whose connections are handed to the test as raw peers. */
export async function rawServer(
  onConnection: (peer: RawPeer) => void,
): Promise<{ port: number; close(): Promise<void> } & AsyncDisposable> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onConnection(new RawPeer(socket, "server"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as net.AddressInfo).port, close, [Symbol.asyncDispose]: close };
}

/**
 * Answers a raw peer's opening handshake with a valid 101 response, with
 * `extraHeaders` (CRLF-terminated lines) added, after `interim` (1xx
 * responses, if any); returns the request head.
 */
export async function acceptRaw(peer: RawPeer, extraHeaders = "", interim = ""): Promise<string> {
  const head = await peer.readHead();
  const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
  const { acceptKey } = await import("../../src/core/handshake.js");
  peer.write(
    `${interim}HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${extraHeaders}\r\n`,
  );
  return head;
}

/**
 * Writes `batch` over and over until the other side stops reading (no
 * 'drain' for `patience` ms), `cap` bytes are written, or the socket closes.
 * Returns how many bytes were handed to the socket, and whether it stalled.
 */
export async function writeUntilStalled(
  socket: net.Socket,
  batch: Uint8Array,
  cap: number,
  patience = 500,
): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  while (written < cap && !socket.destroyed) {
    written += batch.length;
    if (socket.write(batch)) continue;
    const progressed = await new Promise<boolean>((resolve) => {
      const settle = (value: boolean) => {
        clearTimeout(timer);
        socket.off("drain", onDrain);
        socket.off("close", onClose);
        resolve(value);
      };
      const onDrain = () => settle(true);
      // A reset ends the flood as well; not once(), which would reject on 'error'.
      const onClose = () => settle(false);
      const timer = setTimeout(settle, patience, false);
      socket.on("drain", onDrain);
      socket.on("close", onClose);
    });
    if (!progressed) return { written, stalled: !socket.destroyed };
  }
  return { written, stalled: false };
}

/** Payload of a close frame as [code, reason]. */
export function closePayload(frame: Frame | null): [number, string] | null {
  if (frame === null) return null;
  if (frame.data.length < 2) return [1005, ""];
  return [(frame.data[0]! << 8) | frame.data[1]!, new TextDecoder().decode(frame.data.subarray(2))];
}

/**
 * Collects what `socket` receives, until the peer closes its side ('end') or
 * the socket closes, whichever comes first; resolves with it then.
 */
export function receiveUntilEnd(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  return new Promise((resolve) => {
    const done = () => resolve(Buffer.concat(chunks));
    socket.once("end", done);
    socket.once("close", done);
  });
}
