/** The suite's own wire format, on RFC 6455's examples. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  FrameReader,
  payloadBytes,
  WireError,
  WireOpcode,
} from "../../compliance/wire.js";
import { hex, toHex } from "../helpers/bytes.js";

function readAll(bytes: Uint8Array, chunkSize: number, maxPayload = 1 << 20) {
  const reader = new FrameReader(maxPayload);
  const frames = [];
  for (let i = 0; i < bytes.length; i += chunkSize) {
    reader.push(Buffer.from(bytes.subarray(i, i + chunkSize)));
    for (let frame = reader.next(); frame !== null; frame = reader.next()) frames.push(frame);
  }
  return frames;
}

describe("encodeFrame", () => {
  it("writes RFC 6455 §5.7's unmasked and masked Hello", () => {
    const hello = { opcode: WireOpcode.TEXT, payload: "Hello" };
    assert.equal(toHex(encodeFrame(hello, null)), "810548656c6c6f");
    assert.equal(toHex(encodeFrame(hello, hex("37fa213d"))), "818537fa213d7f9f4d5158");
  });

  it("uses 16-bit and 64-bit lengths from 126 and 65536 bytes", () => {
    const frame256 = encodeFrame({ opcode: WireOpcode.BINARY, payloadLength: 256 }, null);
    assert.equal(toHex(frame256.subarray(0, 4)), "827e0100");
    const frame64k = encodeFrame({ opcode: WireOpcode.BINARY, payloadLength: 65536 }, null);
    assert.equal(toHex(frame64k.subarray(0, 10)), "827f0000000000010000");
    assert.equal(frame64k.length, 10 + 65536);
  });

  it("sets any opcode, FIN and RSV bits, valid or not", () => {
    const frame = encodeFrame({ opcode: 0xb, fin: false, rsv: 5, payload: "" }, null);
    assert.equal(toHex(frame), "5b00");
  });
});

describe("FrameReader", () => {
  it("parses frames however the bytes are chunked, and unmasks", () => {
    const bytes = Buffer.concat([
      hex("818537fa213d7f9f4d5158"),
      encodeFrame({ opcode: WireOpcode.PING, payload: "p" }, null),
      encodeFrame({ opcode: WireOpcode.BINARY, payloadLength: 70000, payload: "ab" }, null),
    ]);
    for (const chunkSize of [1, 3, 7, bytes.length]) {
      const frames = readAll(bytes, chunkSize);
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.fin, f.rsv, f.masked, f.payload.length]),
        [
          [1, true, 0, true, 5],
          [9, true, 0, false, 1],
          [2, true, 0, false, 70000],
        ],
      );
      assert.equal(frames[0]!.payload.toString(), "Hello");
      assert.equal(frames[2]!.payload.subarray(0, 4).toString(), "abab");
    }
  });

  it("refuses frames over its limit before reading them", () => {
    const reader = new FrameReader(100);
    reader.push(Buffer.from(hex("827f00000000ffffffff")));
    assert.throws(() => reader.next(), WireError);
  });
});

describe("helpers", () => {
  it("repeats or cuts a payload to a length", () => {
    assert.equal(payloadBytes("abc", 7).toString(), "abcabca");
    assert.equal(payloadBytes("abc", 2).toString(), "ab");
    assert.equal(payloadBytes("", 3).length, 3);
  });

  it("computes RFC 6455 §1.3's Sec-WebSocket-Accept", () => {
    assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("builds close payloads, including invalid codes", () => {
    assert.equal(toHex(closePayload()), "");
    assert.equal(toHex(closePayload(1000, "ok")), "03e86f6b");
    assert.equal(toHex(closePayload(65535)), "ffff");
  });
});
