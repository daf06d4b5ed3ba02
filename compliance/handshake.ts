/**
 * The opening handshake done by hand (RFC 6455 §4), for the fuzzing client
 * and the fuzzing server: they must speak to the implementation under test
 * without relying on it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { acceptKey } from "./wire.js";

/** A parsed HTTP head: the start line and lowercased header names. */
export interface HttpHead {
  readonly startLine: string;
  readonly headers: ReadonlyMap<string, string>;
}

/** A socket past the opening handshake, paused, with the bytes that followed the head. */
export interface OpenedSocket {
  readonly socket: net.Socket;
  readonly leftover: Buffer;
  readonly head: HttpHead;
}

const HEAD_END = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;

function parseHead(text: string): HttpHead {
  const lines = text.split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // RFC 9110 §5.3: repeated fields combine into a comma-separated list.
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { startLine: lines[0] ?? "", headers };
}

/**
 * Reads an HTTP head from `socket`, then pauses the socket so that no byte
 * after the head is lost before the caller attaches its own reader.
 */
export function readHead(
  socket: net.Socket,
  timeoutMs: number,
): Promise<{ head: HttpHead; leftover: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf(HEAD_END);
      if (end === -1) {
        if (buffer.length > MAX_HEAD) fail(new Error("HTTP head too long"));
        return;
      }
      cleanup();
      socket.pause();
      resolve({
        head: parseHead(buffer.subarray(0, end).toString("latin1")),
        leftover: buffer.subarray(end + HEAD_END.length),
      });
    };
    const onClose = () => fail(new Error("connection closed during the opening handshake"));
    const onError = (error: Error) => fail(error);
    const timer = setTimeout(() => fail(new Error("opening handshake timed out")), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onError);
  });
}

/**
 * Connects to `url` and performs the client side of the opening handshake.
 * `extraHeaders` are added verbatim (e.g. `Sec-WebSocket-Extensions: …`).
 *
 * @throws when the server does not answer 101 with the right accept key.
 */
export async function openClientSocket(
  url: URL,
  extraHeaders: readonly string[] = [],
  timeoutMs = 5_000,
): Promise<OpenedSocket> {
  const port = Number(url.port || 80);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const socket = net.connect({ host, port, allowHalfOpen: true });
  socket.setNoDelay(true);
  const key = randomBytes(16).toString("base64");
  const request = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...extraHeaders,
    "",
    "",
  ].join("\r\n");
  socket.write(request, "latin1");
  try {
    const { head, leftover } = await readHead(socket, timeoutMs);
    if (!/^HTTP\/1\.1 101\b/.test(head.startLine)) {
      throw new Error(`handshake refused: ${head.startLine}`);
    }
    if (head.headers.get("sec-websocket-accept") !== acceptKey(key)) {
      throw new Error("wrong Sec-WebSocket-Accept");
    }
    return { socket, leftover, head };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/**
 * Performs the server side of the opening handshake on an accepted socket.
 * `respond` may add response headers (extension negotiation); it sees the
 * request head.
 *
 * @throws when the request is not a WebSocket upgrade.
 */
export async function acceptServerSocket(
  socket: net.Socket,
  respond: (request: HttpHead) => readonly string[] = () => [],
  timeoutMs = 5_000,
): Promise<OpenedSocket> {
  socket.setNoDelay(true);
  const { head, leftover } = await readHead(socket, timeoutMs);
  const key = head.headers.get("sec-websocket-key");
  if (!head.startLine.startsWith("GET ") || key === undefined) {
    socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    throw new Error(`not a WebSocket handshake: ${head.startLine}`);
  }
  const response = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ...respond(head),
    "",
    "",
  ].join("\r\n");
  socket.write(response, "latin1");
  return { socket, leftover, head };
}

/** The request-target of a request head: `/runCase?case=1.1.1`. */
export function requestTarget(head: HttpHead): string {
  return head.startLine.split(" ")[1] ?? "/";
}
