/** Test helpers for HTTP heads: their bytes, the handshake of RFC 6455 §1.3, parsing, errors. */

import assert from "node:assert/strict";
import { InvalidMessage } from "../../src/core/errors.js";
import type { HttpLimits } from "../../src/core/http-limits.js";
import type { Request } from "../../src/core/request.js";
import { RequestParser } from "../../src/core/request-parser.js";
import type { Response } from "../../src/core/response.js";
import { ResponseParser } from "../../src/core/response-parser.js";
import { StreamReader } from "../../src/core/streams.js";

/** One octet per character, like the wire format of an HTTP head. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function text(data: Uint8Array): string {
  return String.fromCharCode(...data);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// RFC 6455 §1.3
export const RFC_REQUEST =
  "GET /chat HTTP/1.1\r\n" +
  "Host: server.example.com\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Origin: http://example.com\r\n" +
  "Sec-WebSocket-Protocol: chat, superchat\r\n" +
  "Sec-WebSocket-Version: 13\r\n" +
  "\r\n";

export const RFC_RESPONSE =
  "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
  "Sec-WebSocket-Protocol: chat\r\n" +
  "\r\n";

// An unmasked text frame "Hello" (RFC 6455 §5.7), as it may follow a head.
export const FRAME = new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

export function parseRequest(data: string | Uint8Array, limits?: HttpLimits): Request | null {
  const reader = new StreamReader();
  reader.feedData(typeof data === "string" ? bytes(data) : data);
  return new RequestParser(limits).parse(reader);
}

export function parseResponse(
  data: string | Uint8Array,
  limits?: HttpLimits,
  eof = false,
): Response | null {
  const reader = new StreamReader();
  reader.feedData(typeof data === "string" ? bytes(data) : data);
  if (eof) reader.feedEof();
  return new ResponseParser(limits).parse(reader);
}

/** Asserts that `fn` throws InvalidMessage with this status and a message containing `text`. */
export function assertInvalid(fn: () => unknown, status: number, text: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidMessage, String(e));
    assert.equal(e.status, status);
    assert.ok(
      e.message.includes(text),
      `${JSON.stringify(e.message)} lacks ${JSON.stringify(text)}`,
    );
    return true;
  });
}

/**
 * Feeds `data` to `parse` one byte per read, each in an array of its own as
 * Node delivers separate socket reads, and returns the results of the calls.
 * Once the reader no longer holds a read's byte, the byte is overwritten:
 * a parser that kept a view of it instead of a copy would see the change.
 */
export function feedBytewise<T>(
  reader: StreamReader,
  parse: (reader: StreamReader) => T,
  data: Uint8Array,
): T[] {
  const results: T[] = [];
  const held: Uint8Array[] = [];
  for (const byte of data) {
    const read = new Uint8Array([byte]);
    reader.feedData(read);
    held.push(read);
    results.push(parse(reader));
    // What the reader still holds are the last reads, one byte each.
    while (held.length > reader.length) held.shift()!.fill(0x7e);
  }
  return results;
}
