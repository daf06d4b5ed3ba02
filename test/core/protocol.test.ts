import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ClientProtocol } from "../../src/core/client.js";
import { Close } from "../../src/core/close.js";
import { InvalidState, ProtocolError } from "../../src/core/errors.js";
import type { Extension } from "../../src/core/extensions/base.js";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { recyclerOf } from "../../src/core/outgoing.js";
import type { Protocol } from "../../src/core/protocol.js";
import type { Request } from "../../src/core/request.js";
import { ServerProtocol } from "../../src/core/server.js";
import { State, stateName } from "../../src/core/state.js";
import { concat, hex, toHex, utf8 } from "../helpers/bytes.js";
import { fromPeer, fromSelf, MASK, openProtocol, type Role } from "../helpers/protocol.js";

const EOF = "";

/**
 * What the protocol wrote, as hex frames; "" stands for the half-close. Frames
 * written in a row may share a chunk: they are split apart here.
 */
function written(protocol: Protocol): string[] {
  const out: string[] = [];
  let run: Uint8Array[] = [];
  const flush = (): void => {
    if (run.length > 0) out.push(...splitFrames(concat(run)));
    run = [];
  };
  for (const chunk of protocol.dataToSend()) {
    if (chunk.length > 0) {
      run.push(chunk);
    } else {
      flush();
      out.push(EOF);
    }
  }
  flush();
  return out;
}

/** Splits serialized frames apart (RFC 6455 §5.2 header lengths), as hex. */
function splitFrames(bytes: Uint8Array): string[] {
  const frames: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const second = bytes[offset + 1]!;
    let length = second & 0x7f;
    let header = 2;
    if (length === 126) {
      length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
      header += 2;
    } else if (length === 127) {
      length = Number(new DataView(bytes.buffer, bytes.byteOffset + offset + 2, 8).getBigUint64(0));
      header += 8;
    }
    if (second & 0x80) header += 4;
    frames.push(toHex(bytes.subarray(offset, offset + header + length)));
    offset += header + length;
  }
  return frames;
}

function frames(protocol: Protocol): Frame[] {
  return protocol.eventsReceived() as Frame[];
}

function decode(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** The close frame sent so far, read afresh (assertions on it must not narrow its type). */
function closeSent(protocol: Protocol): Close | null {
  return protocol.closeSent;
}

function closeFrame(code: number, reason = ""): Uint8Array {
  return new Close(code, reason).serialize();
}

for (const role of ["client", "server"] as const satisfies readonly Role[]) {
  describe(`Protocol as a ${role}`, () => {
    describe("receiving data", () => {
      it("emits text and binary frames", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "café"));
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01 02")));
        const [text, binary] = frames(protocol);
        assert.equal(text!.opcode, Opcode.TEXT);
        assert.equal(new TextDecoder().decode(text!.data), "café");
        assert.equal(toHex(binary!.data), "0102");
        assert.deepEqual(written(protocol), []);
      });

      it("emits the frames of a fragmented message, with control frames between them", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "Hel", false),
            fromPeer(role, Opcode.PING, ""),
            fromPeer(role, Opcode.CONT, "l", false),
            fromPeer(role, Opcode.CONT, "o", true),
          ]),
        );
        assert.deepEqual(
          frames(protocol).map((frame) => [frame.opcode, frame.fin]),
          [
            [Opcode.TEXT, false],
            [Opcode.PING, true],
            [Opcode.CONT, false],
            [Opcode.CONT, true],
          ],
        );
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.PONG, ""))]);
      });

      it("answers a ping with a pong carrying the same data", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.PING, "Hello"));
        assert.equal(frames(protocol)[0]!.opcode, Opcode.PING);
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.PONG, "Hello"))]);
      });

      it("does not answer a pong", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.PONG, "Hello"));
        assert.equal(frames(protocol)[0]!.opcode, Opcode.PONG);
        assert.deepEqual(written(protocol), []);
      });

      it("parses the same frames whatever the chunking", () => {
        const stream = concat([
          fromPeer(role, Opcode.TEXT, "Hello"),
          fromPeer(role, Opcode.BINARY, new Uint8Array(300).fill(7), false),
          fromPeer(role, Opcode.CONT, new Uint8Array(70000).fill(9)),
        ]);
        for (const size of [1, 2, 3, 7, 126, 1000, 65536]) {
          const protocol = openProtocol(role);
          for (let i = 0; i < stream.length; i += size)
            protocol.receiveData(stream.slice(i, i + size));
          assert.deepEqual(
            frames(protocol).map((frame) => frame.data.length),
            [5, 300, 70000],
            `chunks of ${size}`,
          );
        }
      });
    });

    describe("sending data", () => {
      it("hands out chunks that stay valid, and few of them", () => {
        const protocol = openProtocol(role);
        protocol.sendText("Hello");
        protocol.sendBinary(new Uint8Array(100).fill(1));
        const first = protocol.dataToSend();
        const firstHex = first.map(toHex);
        for (let i = 0; i < 100; i++) protocol.sendBinary(new Uint8Array(500).fill(i));
        const second = protocol.dataToSend();
        assert.deepEqual(first.map(toHex), firstHex);
        assert.equal(
          toHex(concat(second)),
          toHex(
            concat(
              Array.from({ length: 100 }, (_, i) =>
                fromSelf(role, Opcode.BINARY, new Uint8Array(500).fill(i)),
              ),
            ),
          ),
        );
        // A server's frames share chunks; a client's are masked with a key each.
        if (role === "server") assert.ok(second.length < 10, `${second.length} chunks`);
      });

      it("writes text, binary and continuation frames", () => {
        const protocol = openProtocol(role);
        protocol.sendText("Hello");
        protocol.sendText(utf8("Hel"), false);
        protocol.sendContinuation("lo", true);
        protocol.sendBinary(hex("01 02"), false);
        protocol.sendContinuation(hex("03"), true);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.TEXT, "Hello")),
          toHex(fromSelf(role, Opcode.TEXT, "Hel", false)),
          toHex(fromSelf(role, Opcode.CONT, "lo")),
          toHex(fromSelf(role, Opcode.BINARY, hex("01 02"), false)),
          toHex(fromSelf(role, Opcode.CONT, hex("03"))),
        ]);
      });

      it("writes pings and pongs, with or without data", () => {
        const protocol = openProtocol(role);
        protocol.sendPing();
        protocol.sendPing("abc");
        protocol.sendPong(hex("ff"));
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.PING, "")),
          toHex(fromSelf(role, Opcode.PING, "abc")),
          toHex(fromSelf(role, Opcode.PONG, hex("ff"))),
        ]);
      });

      it("refuses control frames over 125 bytes", () => {
        const protocol = openProtocol(role);
        assert.throws(() => protocol.sendPing(new Uint8Array(126)), InvalidState);
        protocol.sendPing(new Uint8Array(125));
      });

      it("refuses to interleave or continue messages out of order", () => {
        const protocol = openProtocol(role);
        assert.throws(() => protocol.sendContinuation("x", true), /no fragmented message/);
        protocol.sendText("a", false);
        assert.throws(() => protocol.sendBinary(hex("00")), /expected a continuation frame/);
        assert.throws(() => protocol.sendText("b"), /expected a continuation frame/);
        protocol.sendContinuation("c", true);
        protocol.sendText("d");
      });

      it("refuses data frames unless open, and control frames once closed", () => {
        const protocol = openProtocol(role, { state: State.CONNECTING });
        assert.throws(() => protocol.sendText("x"), /connection is connecting/);
        assert.throws(() => protocol.sendPing(), /connection is connecting/);
        assert.throws(() => protocol.sendClose(1000), InvalidState);
        const closing = openProtocol(role);
        closing.sendText("a", false);
        closing.sendClose(1000);
        assert.throws(() => closing.sendText("x"), /expected a continuation frame/);
        assert.throws(() => closing.sendContinuation("x", true), /connection is closing/);
        closing.sendPing("still allowed");
      });
    });

    describe("closing handshake started by this side", () => {
      it("sends a close frame, then completes when the peer answers", () => {
        const protocol = openProtocol(role);
        protocol.sendClose(1000, "bye");
        assert.equal(protocol.state, State.CLOSING);
        assert.equal(protocol.closeExpected(), true);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1000, "bye"))),
        ]);
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000, "bye")));
        assert.equal(frames(protocol)[0]!.opcode, Opcode.CLOSE);
        assert.equal(protocol.closeRcvdThenSent, false);
        // RFC 6455 §7.1.1: the server closes TCP first; the client waits for it.
        assert.deepEqual(written(protocol), role === "server" ? [EOF] : []);
        assert.equal(protocol.state, State.CLOSING);
        protocol.receiveEof();
        assert.deepEqual(written(protocol), role === "client" ? [EOF] : []);
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeCode, 1000);
        assert.equal(protocol.closeReason, "bye");
        assert.equal(String(protocol.closeSent), "1000 (OK) bye");
      });

      it("sends an empty close frame without a code", () => {
        const protocol = openProtocol(role);
        protocol.sendClose();
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.CLOSE, ""))]);
        assert.equal(protocol.closeSent?.code, 1005);
        assert.throws(() => openProtocol(role).sendClose(undefined, "reason"), /without a code/);
      });

      it("keeps receiving data frames until the peer's close frame", () => {
        const protocol = openProtocol(role);
        protocol.sendClose(1001);
        protocol.dataToSend();
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "late"));
        protocol.receiveData(fromPeer(role, Opcode.PING, ""));
        assert.deepEqual(
          frames(protocol).map((frame) => frame.opcode),
          [Opcode.TEXT, Opcode.PING],
        );
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.PONG, ""))]);
      });

      it("refuses close codes that may not be sent", () => {
        assert.throws(() => openProtocol(role).sendClose(1005), /invalid close code/);
        assert.throws(() => openProtocol(role).sendClose(1000, "x".repeat(124)), /123 bytes/);
      });

      it("refuses a close code that isn't an integer, writes nothing and stays open", () => {
        const protocol = openProtocol(role);
        assert.throws(() => protocol.sendClose(1000.5), /invalid close code: 1000\.5/);
        assert.deepEqual(written(protocol), []);
        assert.equal(protocol.state, State.OPEN);
        assert.equal(protocol.closeSent, null);
        // Still open: 1000 goes out as 03 e8, where 1000.5 went out as 03 e8 too.
        protocol.sendClose(1000);
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.CLOSE, hex("03 e8")))]);
      });
    });

    describe("closing handshake started by the peer", () => {
      it("echoes the close frame", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(4000, "done")));
        assert.equal(frames(protocol)[0]!.opcode, Opcode.CLOSE);
        const echo = toHex(fromSelf(role, Opcode.CLOSE, closeFrame(4000, "done")));
        assert.deepEqual(written(protocol), role === "server" ? [echo, EOF] : [echo]);
        assert.equal(protocol.state, State.CLOSING);
        assert.equal(protocol.closeRcvdThenSent, true);
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeCode, 4000);
        assert.equal(protocol.closeReason, "done");
      });

      it("echoes an empty close frame as an empty one and reports 1005", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, ""));
        assert.equal(written(protocol)[0], toHex(fromSelf(role, Opcode.CLOSE, "")));
        protocol.receiveEof();
        assert.equal(protocol.closeCode, 1005);
      });

      it("answers a close frame that arrives in the middle of a fragmented message", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "frag", false));
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000)));
        assert.equal(written(protocol)[0], toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1000))));
        assert.equal(protocol.closeRcvd?.code, 1000);
      });

      it("ignores whatever arrives after the close frame", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.CLOSE, closeFrame(1000)),
            fromPeer(role, Opcode.TEXT, "ignored"),
            hex("ff ff ff"),
          ]),
        );
        assert.deepEqual(
          frames(protocol).map((frame) => frame.opcode),
          [Opcode.CLOSE],
        );
        protocol.receiveData(fromPeer(role, Opcode.PING, ""));
        assert.deepEqual(frames(protocol), []);
        protocol.dataToSend();
        protocol.receiveData(fromPeer(role, Opcode.PING, ""));
        assert.deepEqual(written(protocol), []);
      });
    });

    describe("failing the connection", () => {
      function assertFailed(protocol: Protocol, code: number, pattern: RegExp): void {
        const out = written(protocol);
        assert.equal(out[0]!.slice(role === "client" ? 4 : 2).length > 0, true);
        const close = protocol.closeSent!;
        assert.equal(close.code, code, `close code for ${protocol.parserExc?.message}`);
        assert.match(protocol.parserExc!.message, pattern);
        assert.equal(protocol.state, State.CLOSING);
        assert.deepEqual(out.slice(1), role === "server" ? [EOF] : []);
        assert.equal(protocol.closeExpected(), true);
      }

      it("fails with 1007 on invalid UTF-8 in a text frame", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, hex("ce ba e1 bd b9 ed a0 80")));
        assertFailed(protocol, 1007, /invalid UTF-8/);
      });

      it("fails with 1007 at the fragment with invalid UTF-8, before the message ends", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, utf8("κόσμε"), false));
        assert.deepEqual(written(protocol), []);
        protocol.receiveData(fromPeer(role, Opcode.CONT, hex("f4 90 80 80"), false));
        assertFailed(protocol, 1007, /invalid UTF-8/);
      });

      it("checks each byte of a partial text frame once, whatever the reads", () => {
        const protocol = openProtocol(role);
        const bytes = fromPeer(role, Opcode.TEXT, utf8("κόσμε"));
        const cut = bytes.length - 3;
        protocol.receiveData(bytes.slice(0, cut));
        // An empty read brings nothing new to check; the frame is still awaited.
        protocol.receiveData(new Uint8Array(0));
        assert.deepEqual(frames(protocol), []);
        protocol.receiveData(bytes.slice(cut));
        assert.equal(new TextDecoder().decode(frames(protocol)[0]!.data), "κόσμε");
        assert.deepEqual(written(protocol), []);
      });

      it("accepts a code point split between fragments", () => {
        const protocol = openProtocol(role);
        const euro = hex("e2 82 ac");
        protocol.receiveData(fromPeer(role, Opcode.TEXT, euro.subarray(0, 1), false));
        protocol.receiveData(fromPeer(role, Opcode.CONT, euro.subarray(1, 2), false));
        protocol.receiveData(fromPeer(role, Opcode.CONT, euro.subarray(2), true));
        assert.equal(frames(protocol).length, 3);
        assert.deepEqual(written(protocol), []);
      });

      it("fails with 1007 on a text message that ends inside a code point", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, hex("e2 82"), false));
        protocol.receiveData(fromPeer(role, Opcode.CONT, "", true));
        assertFailed(protocol, 1007, /invalid UTF-8/);
      });

      it("does not validate binary messages", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("ff"), false));
        protocol.receiveData(fromPeer(role, Opcode.CONT, hex("fe")));
        assert.equal(frames(protocol).length, 2);
      });

      it("fails with 1009 on a frame over the limit, from its header alone", () => {
        const protocol = openProtocol(role, { maxMessageSize: 1000 });
        const bytes = fromPeer(role, Opcode.BINARY, new Uint8Array(1001));
        // Header only: 2 bytes, a 16-bit length and, from a client, the mask.
        protocol.receiveData(bytes.subarray(0, role === "server" ? 8 : 4));
        assertFailed(protocol, 1009, /^message exceeds limit of 1000 bytes/);
      });

      it("fails with 1009 when the fragments of a message add up over the limit", () => {
        const protocol = openProtocol(role, { maxMessageSize: 1000 });
        protocol.receiveData(fromPeer(role, Opcode.BINARY, new Uint8Array(600), false));
        protocol.receiveData(fromPeer(role, Opcode.CONT, new Uint8Array(400), false));
        assert.deepEqual(written(protocol), []);
        protocol.receiveData(
          fromPeer(role, Opcode.CONT, new Uint8Array(1), true).subarray(
            0,
            role === "server" ? 6 : 2,
          ),
        );
        assertFailed(protocol, 1009, /fragmented message exceeds limit of 1000 bytes/);
      });

      it("bounds a flood of empty fragments by counting their bytes, not the fragments", () => {
        const protocol = openProtocol(role, { maxMessageSize: 10 });
        const empty = fromPeer(role, Opcode.CONT, "", false);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, new Uint8Array(10), false));
        for (let i = 0; i < 1000; i++) protocol.receiveData(empty.slice());
        assert.equal(frames(protocol).length, 1001);
        protocol.receiveData(fromPeer(role, Opcode.CONT, "x"));
        assertFailed(protocol, 1009, /exceeds limit/);
      });

      it("accepts any size without a limit", () => {
        const protocol = openProtocol(role, { maxMessageSize: null });
        assert.equal(protocol.maxMessageSize, Number.POSITIVE_INFINITY);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, new Uint8Array(2 * 1024 * 1024)));
        assert.equal(frames(protocol)[0]!.data.length, 2 * 1024 * 1024);
      });

      it("refuses a maxMessageSize that isn't a whole number from 1", () => {
        for (const size of [0, -1, 0.5, Number.NaN]) {
          assert.throws(
            () => openProtocol(role, { maxMessageSize: size }),
            (error: unknown) =>
              error instanceof RangeError &&
              error.message ===
                `maxMessageSize must be a whole number of bytes from 1, or null or Infinity for no limit; got ${size}`,
          );
        }
        const unlimited = openProtocol(role, { maxMessageSize: Number.POSITIVE_INFINITY });
        assert.equal(unlimited.maxMessageSize, Number.POSITIVE_INFINITY);
        assert.equal(openProtocol(role, { maxMessageSize: 1 }).maxMessageSize, 1);
      });

      it("fails with 1002 on an unexpected continuation frame", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.CONT, "x"));
        assertFailed(protocol, 1002, /unexpected continuation frame/);
      });

      it("fails with 1002 on a new message before the previous one ended", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "a", false));
        protocol.receiveData(fromPeer(role, Opcode.BINARY, "b"));
        assertFailed(protocol, 1002, /expected a continuation frame/);
      });

      it("fails with 1002 on RSV bits no extension claims", () => {
        for (const rsv of [
          [true, false, false],
          [false, true, false],
          [false, false, true],
        ] as const) {
          const protocol = openProtocol(role);
          protocol.receiveData(fromPeer(role, Opcode.TEXT, "x", true, [...rsv]));
          assertFailed(protocol, 1002, /reserved bits must be 0/);
        }
      });

      it("fails with 1002 on RSV bits from the frame's header, before its payload", () => {
        for (const rsv of [0x40, 0x20, 0x10]) {
          const protocol = openProtocol(role);
          const frame = fromPeer(role, Opcode.BINARY, new Uint8Array(98));
          frame[0]! |= rsv;
          // The header (and the masking key) and two bytes of the payload.
          protocol.receiveData(frame.subarray(0, role === "server" ? 8 : 4));
          assertFailed(protocol, 1002, /reserved bits must be 0/);
        }
      });

      it("fails with 1002 on masking from the wrong side", () => {
        const protocol = openProtocol(role);
        const wrong = role === "server" ? hex("81 01 78") : hex("81 81 00 00 00 00 78");
        protocol.receiveData(wrong);
        assertFailed(protocol, 1002, /mask/);
      });

      it("fails with 1002 on an invalid close code and 1007 on an invalid close reason", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, hex("03 ed")));
        assertFailed(protocol, 1002, /invalid close code: 1005/);
        const other = openProtocol(role);
        other.receiveData(fromPeer(role, Opcode.CLOSE, hex("03 e8 ff")));
        assertFailed(other, 1007, /invalid UTF-8 in close reason/);
      });

      it("fails with 1011 and no detail when an extension throws unexpectedly", () => {
        const protocol = openProtocol(role);
        const broken: Extension = {
          name: "x-broken",
          decode: () => {
            throw new TypeError("secret internal detail");
          },
          encode: (frame) => frame,
        };
        protocol.extensions = [broken];
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "x"));
        const out = written(protocol);
        assert.equal(protocol.closeSent?.code, 1011);
        assert.equal(protocol.closeSent?.reason, "");
        assert.ok(protocol.parserExc instanceof TypeError);
        assert.deepEqual(out.slice(1), role === "server" ? [EOF] : []);
      });

      it("truncates long reasons on a code point boundary", () => {
        const protocol = openProtocol(role);
        protocol.fail(1008, "é".repeat(100));
        assert.equal(protocol.closeSent?.reason, "é".repeat(61));
      });

      it("keeps a leading U+FEFF when it truncates a reason", () => {
        const protocol = openProtocol(role);
        // 3 + 2 × 100 bytes: cut to 3 + 2 × 60 = 123.
        protocol.fail(1008, `\ufeff${"é".repeat(100)}`);
        assert.equal(protocol.closeSent?.reason, `\ufeff${"é".repeat(60)}`);
      });

      it("fails with 1006 and no close frame when the stream ends mid-frame", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "Hello").subarray(0, 3));
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeCode, 1006);
        assert.equal(protocol.closeReason, "");
        assert.equal(protocol.closeSent, null);
        assert.match(protocol.parserExc!.message, /unexpected end of stream/);
        assert.deepEqual(written(protocol), [EOF]);
        protocol.receiveEof();
        assert.throws(() => protocol.receiveData(hex("00")), /after end of stream/);
      });

      it("fail() sends the close frame once and ignores later input", () => {
        const protocol = openProtocol(role);
        protocol.fail(1011, "boom");
        protocol.fail(1002, "again");
        assert.equal(protocol.closeSent?.code, 1011);
        protocol.receiveData(fromPeer(role, Opcode.PING, ""));
        assert.deepEqual(frames(protocol), []);
        assert.equal(written(protocol).length, role === "server" ? 2 : 1);
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
      });

      it("fail(1006) while open sends nothing, then refuses to send and expects the close", () => {
        const protocol = openProtocol(role);
        protocol.fail(1006);
        assert.equal(protocol.state, State.OPEN);
        assert.equal(protocol.closeSent, null);
        assert.equal(protocol.closeExpected(), true);
        // A server half-closed: a frame now would follow its end of stream.
        assert.deepEqual(written(protocol), role === "server" ? [EOF] : []);
        assert.throws(() => protocol.sendText("late"), /^InvalidState: connection failed$/);
        assert.throws(() => protocol.sendBinary(new Uint8Array(1)), InvalidState);
        assert.throws(() => protocol.sendClose(1000), InvalidState);
        assert.throws(() => protocol.sendPing(""), InvalidState);
        assert.deepEqual(written(protocol), []);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "ignored"));
        assert.deepEqual(frames(protocol), []);
        // Failing again sends nothing either: no close frame after the end of stream.
        protocol.fail(1011, "late");
        assert.equal(protocol.closeSent, null);
        assert.deepEqual(written(protocol), []);
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeExpected(), false);
      });

      it("doesn't expect a close once an abrupt end of stream closed the connection", () => {
        const protocol = openProtocol(role);
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeExpected(), false);
      });

      it("fail(1006) after a close frame was sent only stops processing", () => {
        const protocol = openProtocol(role);
        protocol.sendClose(1000);
        protocol.dataToSend();
        protocol.fail(1006);
        assert.deepEqual(written(protocol), role === "server" ? [EOF] : []);
      });
    });

    describe("a close frame after complete messages in the same chunk", () => {
      function messageThenClose(options = { deferCloseReplyAfterMessages: true }): Protocol {
        const protocol = openProtocol(role, options);
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "bye"),
            fromPeer(role, Opcode.CLOSE, closeFrame(1001, "going")),
            fromPeer(role, Opcode.TEXT, "after the close"),
          ]),
        );
        return protocol;
      }

      it("is answered at once by default", () => {
        const protocol = messageThenClose({ deferCloseReplyAfterMessages: false });
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.state, State.CLOSING);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1001, "going"))),
          ...(role === "server" ? [EOF] : []),
        ]);
      });

      it("waits with deferCloseReplyAfterMessages, open for the answers to the messages", () => {
        const protocol = messageThenClose();
        assert.equal(protocol.closeReplyPending, true);
        assert.equal(protocol.state, State.OPEN);
        // The message, then the close frame; what followed it is discarded (RFC 6455 §1.4).
        assert.deepEqual(
          frames(protocol).map((frame) => frame.opcode),
          [Opcode.TEXT, Opcode.CLOSE],
        );
        assert.equal(protocol.closeRcvd?.code, 1001);
        assert.deepEqual(written(protocol), []);
        protocol.sendText("echo: bye");
        protocol.replyToClose();
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.state, State.CLOSING);
        assert.equal(protocol.closeRcvdThenSent, true);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.TEXT, "echo: bye")),
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1001, "going"))),
          ...(role === "server" ? [EOF] : []),
        ]);
        // Once only.
        protocol.replyToClose();
        assert.deepEqual(written(protocol), []);
        protocol.receiveEof();
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeCode, 1001);
      });

      it("echoes an empty close frame as an empty one", () => {
        const protocol = openProtocol(role, { deferCloseReplyAfterMessages: true });
        protocol.receiveData(
          concat([fromPeer(role, Opcode.BINARY, "x"), fromPeer(role, Opcode.CLOSE, "")]),
        );
        assert.equal(protocol.closeReplyPending, true);
        protocol.replyToClose();
        assert.equal(written(protocol)[0], toHex(fromSelf(role, Opcode.CLOSE, "")));
        assert.equal(protocol.closeSent?.code, 1005);
      });

      it("answers before the end of the stream when it comes first", () => {
        const protocol = messageThenClose();
        frames(protocol);
        protocol.receiveEof();
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.state, State.CLOSED);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1001, "going"))),
          EOF,
        ]);
      });

      it("takes a close sent meanwhile as the answer", () => {
        const protocol = messageThenClose();
        frames(protocol);
        protocol.sendClose(1000, "done");
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.closeRcvdThenSent, true);
        assert.equal(protocol.closeSent?.code, 1000);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1000, "done"))),
          ...(role === "server" ? [EOF] : []),
        ]);
        protocol.replyToClose();
        assert.deepEqual(written(protocol), []);
      });

      it("takes a failure meanwhile as the answer", () => {
        const protocol = messageThenClose();
        frames(protocol);
        protocol.fail(1011, "oops");
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.closeRcvdThenSent, true);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1011, "oops"))),
          ...(role === "server" ? [EOF] : []),
        ]);
        protocol.replyToClose();
        assert.deepEqual(written(protocol), []);
      });

      it("echoes the payload as received, byte for byte", () => {
        // A reason that starts with a byte order mark, which decoding drops.
        const payload = concat([closeFrame(1000), new Uint8Array([0xef, 0xbb, 0xbf, 0x78])]);
        for (const defer of [false, true]) {
          const protocol = openProtocol(role, { deferCloseReplyAfterMessages: defer });
          protocol.receiveData(
            concat([fromPeer(role, Opcode.TEXT, "m"), fromPeer(role, Opcode.CLOSE, payload)]),
          );
          protocol.replyToClose();
          assert.equal(written(protocol)[0], toHex(fromSelf(role, Opcode.CLOSE, payload)));
        }
      });

      it("fails with 1002 for an invalid close frame, with nothing left waiting", () => {
        const protocol = openProtocol(role, { deferCloseReplyAfterMessages: true });
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "m"),
            // RFC 6455 §7.4.1: 1005 must not be sent in a close frame.
            fromPeer(role, Opcode.CLOSE, new Uint8Array([0x03, 0xed])),
          ]),
        );
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.closeRcvd, null);
        assert.equal(protocol.closeSent?.code, 1002);
        protocol.replyToClose();
        assert.equal(protocol.closeSent?.code, 1002);
      });

      it("is answered at once when no message came before it in the same chunk", () => {
        const protocol = openProtocol(role, { deferCloseReplyAfterMessages: true });
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "earlier"));
        frames(protocol);
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000)));
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.state, State.CLOSING);
      });
    });

    describe("a protocol error after complete messages in the same chunk, by default", () => {
      it("fails at once, and still delivers the messages before it", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "Hello, world!"),
            fromPeer(role, Opcode.TEXT, "Hello, world!", true, [false, true, false]),
            fromPeer(role, Opcode.PING, ""),
          ]),
        );
        assert.equal(protocol.failurePending, false);
        assert.equal(protocol.state, State.CLOSING);
        assert.deepEqual(
          frames(protocol).map((frame) => decode(frame.data)),
          ["Hello, world!"],
        );
        // The peer is answered without waiting for anything more from it.
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1002, "reserved bits must be 0"))),
          ...(role === "server" ? [EOF] : []),
        ]);
        assert.match(protocol.parserExc!.message, /reserved bits/);
      });
    });

    describe("a protocol error after complete messages in the same chunk, deferred", () => {
      // Autobahn 3.2: a valid message, then one with RSV2 set, then a ping, in one write.
      function messageThenError(): Protocol {
        const protocol = openProtocol(role, { deferFailureAfterMessages: true });
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "Hello, world!"),
            fromPeer(role, Opcode.TEXT, "Hello, world!", true, [false, true, false]),
            fromPeer(role, Opcode.PING, ""),
          ]),
        );
        return protocol;
      }

      it("delivers the messages first and keeps the connection open", () => {
        const protocol = messageThenError();
        assert.equal(protocol.failurePending, true);
        assert.equal(protocol.state, State.OPEN);
        assert.deepEqual(
          frames(protocol).map((frame) => decode(frame.data)),
          ["Hello, world!"],
        );
        assert.deepEqual(written(protocol), []);
      });

      it("lets the application answer, then fails with failPending()", () => {
        const protocol = messageThenError();
        frames(protocol);
        protocol.sendText("Hello, world!");
        protocol.failPending();
        assert.equal(protocol.failurePending, false);
        assert.deepEqual(written(protocol), [
          toHex(fromSelf(role, Opcode.TEXT, "Hello, world!")),
          toHex(fromSelf(role, Opcode.CLOSE, closeFrame(1002, "reserved bits must be 0"))),
          ...(role === "server" ? [EOF] : []),
        ]);
        assert.equal(protocol.state, State.CLOSING);
        assert.match(protocol.parserExc!.message, /reserved bits/);
        // The ping after the bad frame is never answered.
        protocol.failPending();
        assert.deepEqual(written(protocol), []);
      });

      it("fails when more data arrives before failPending()", () => {
        const protocol = messageThenError();
        frames(protocol);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "more"));
        assert.equal(protocol.closeSent?.code, 1002);
        assert.deepEqual(frames(protocol), []);
      });

      it("fails when the stream ends before failPending()", () => {
        const protocol = messageThenError();
        frames(protocol);
        protocol.receiveEof();
        assert.equal(protocol.closeSent?.code, 1002);
      });

      it("fails at once when only a message's first fragment preceded the error", () => {
        const protocol = openProtocol(role, { deferFailureAfterMessages: true });
        protocol.receiveData(
          concat([fromPeer(role, Opcode.TEXT, "Hel", false), fromPeer(role, Opcode.TEXT, "x")]),
        );
        assert.equal(protocol.failurePending, false);
        assert.equal(protocol.closeSent?.code, 1002);
      });

      it("does nothing on failPending() without a pending failure", () => {
        const protocol = openProtocol(role);
        protocol.failPending();
        assert.equal(protocol.state, State.OPEN);
        assert.deepEqual(written(protocol), []);
      });
    });

    describe("a budget of decoded messages to parse", () => {
      /** Claims RSV1 and leaves payloads as they are: its messages count as decoded. */
      const identity: Extension = {
        name: "x-identity",
        decode: (frame) => new Frame(frame.opcode, frame.data, frame.fin),
        encode: (frame) => frame,
      };
      const RSV1: [boolean, boolean, boolean] = [true, false, false];
      const decoding = () => {
        const protocol = openProtocol(role);
        protocol.extensions = [identity];
        return protocol;
      };

      it("holds back what follows the last decoded message it allows, until resumeParsing()", () => {
        const protocol = decoding();
        protocol.decodedMessageBudget = 2;
        protocol.receiveData(
          concat([
            fromPeer(role, Opcode.TEXT, "one", true, RSV1),
            // Fragments, control frames and messages without RSV1 don't count.
            fromPeer(role, Opcode.BINARY, "plain"),
            fromPeer(role, Opcode.BINARY, "tw", false, RSV1),
            fromPeer(role, Opcode.PING, "ping"),
            fromPeer(role, Opcode.CONT, "o"),
            fromPeer(role, Opcode.PING, "held"),
            fromPeer(role, Opcode.TEXT, "three", true, RSV1),
          ]),
        );
        assert.deepEqual(
          frames(protocol).map((frame) => [frame.opcode, decode(frame.data)]),
          [
            [Opcode.TEXT, "one"],
            [Opcode.BINARY, "plain"],
            [Opcode.BINARY, "tw"],
            [Opcode.PING, "ping"],
            [Opcode.CONT, "o"],
          ],
        );
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.PONG, "ping"))]);
        assert.equal(protocol.decodedMessageBudget, 0);
        // More data and the end of the stream wait behind the held bytes.
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "four"));
        protocol.receiveEof();
        assert.deepEqual(frames(protocol), []);
        assert.equal(protocol.state, State.OPEN);

        protocol.decodedMessageBudget = 1;
        protocol.resumeParsing();
        assert.deepEqual(
          frames(protocol).map((frame) => decode(frame.data)),
          ["held", "three"],
        );
        protocol.decodedMessageBudget = -1;
        protocol.resumeParsing();
        assert.deepEqual(
          frames(protocol).map((frame) => decode(frame.data)),
          ["four"],
        );
        // Then the end of the stream: without a close frame, 1006.
        assert.equal(protocol.state, State.CLOSED);
        assert.equal(protocol.closeCode, 1006);
      });

      it("counts parsing resumed after the budget ran out as after messages", () => {
        // The messages before the held bytes may be queued still, unanswered.
        for (const [options, deferred] of [
          [{ deferCloseReplyAfterMessages: true }, "closeReplyPending"],
          [{ deferFailureAfterMessages: true }, "failurePending"],
        ] as const) {
          const protocol = openProtocol(role, options);
          protocol.extensions = [identity];
          protocol.decodedMessageBudget = 1;
          protocol.receiveData(
            concat([
              fromPeer(role, Opcode.TEXT, "one", true, RSV1),
              deferred === "closeReplyPending"
                ? fromPeer(role, Opcode.CLOSE, closeFrame(1000))
                : fromPeer(role, Opcode.CLOSE, new Uint8Array([0x03])),
            ]),
          );
          assert.deepEqual(
            frames(protocol).map((frame) => decode(frame.data)),
            ["one"],
          );
          protocol.decodedMessageBudget = 1;
          protocol.resumeParsing();
          assert.equal(protocol[deferred], true, deferred);
          assert.equal(protocol.state, State.OPEN);
          assert.deepEqual(written(protocol), []);
        }
      });

      it("holds nothing when the budget runs out with no bytes left", () => {
        const protocol = openProtocol(role, { deferCloseReplyAfterMessages: true });
        protocol.extensions = [identity];
        protocol.decodedMessageBudget = 1;
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "one", true, RSV1));
        frames(protocol);
        // A later read with a close frame alone: answered at once.
        protocol.decodedMessageBudget = 1;
        protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000)));
        assert.equal(protocol.closeReplyPending, false);
        assert.equal(protocol.state, State.CLOSING);
      });

      it("parses nothing with a budget of 0, and everything by default", () => {
        const protocol = decoding();
        assert.equal(protocol.decodedMessageBudget, -1);
        protocol.decodedMessageBudget = 0;
        protocol.receiveData(fromPeer(role, Opcode.PING, "ping"));
        assert.deepEqual(frames(protocol), []);
        assert.deepEqual(written(protocol), []);
        protocol.decodedMessageBudget = -1;
        protocol.resumeParsing();
        assert.deepEqual(written(protocol), [toHex(fromSelf(role, Opcode.PONG, "ping"))]);
      });

      it("never holds back messages that no extension decoded", () => {
        const protocol = decoding();
        protocol.decodedMessageBudget = 1;
        protocol.receiveData(
          concat(["a", "b", "c"].map((word) => fromPeer(role, Opcode.TEXT, word))),
        );
        assert.deepEqual(
          frames(protocol).map((frame) => decode(frame.data)),
          ["a", "b", "c"],
        );
        assert.equal(protocol.decodedMessageBudget, 1);
      });
    });

    describe("UTF-8 validated as a text frame's payload arrives", () => {
      // Autobahn 6.4.3: the invalid sequence arrives while the frame is incomplete.
      const valid = hex("ce ba e1 bd b9 ce bc ce b5");
      const invalid = hex("f4 90 80 80");

      function sentInParts(opcode: Opcode, payload: Uint8Array, parts: number[]): Protocol {
        const protocol = openProtocol(role);
        const bytes = fromPeer(role, opcode, payload);
        const header = bytes.length - payload.length;
        let offset = 0;
        for (const size of [header, ...parts]) {
          protocol.receiveData(bytes.slice(offset, offset + size));
          offset += size;
        }
        return protocol;
      }

      it("fails with 1007 when invalid bytes arrive, before the frame is complete", () => {
        const payload = concat([valid, invalid, utf8("edited")]);
        const protocol = sentInParts(Opcode.TEXT, payload, [valid.length]);
        assert.equal(closeSent(protocol), null);
        protocol.receiveData(
          fromPeer(role, Opcode.TEXT, payload).slice(-payload.length + valid.length, -6),
        );
        assert.equal(closeSent(protocol)?.code, 1007);
        assert.equal(closeSent(protocol)?.reason, "invalid UTF-8 in text message");
      });

      it("checks a continuation frame of a text message as it arrives", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, valid, false));
        const continuation = fromPeer(role, Opcode.CONT, concat([invalid, utf8("tail")]));
        protocol.receiveData(continuation.slice(0, continuation.length - 4));
        assert.equal(closeSent(protocol)?.code, 1007);
      });

      it("unmasks and validates a frame fed one byte at a time", () => {
        const text = "κόσμε — Hello, world! 𝄞 ";
        const bytes = concat([
          fromPeer(role, Opcode.TEXT, text.repeat(3), false),
          fromPeer(role, Opcode.CONT, text, true),
        ]);
        const protocol = openProtocol(role);
        for (let i = 0; i < bytes.length; i++) protocol.receiveData(bytes.slice(i, i + 1));
        assert.equal(
          frames(protocol)
            .map((frame) => decode(frame.data))
            .join(""),
          text.repeat(4),
        );
        assert.equal(closeSent(protocol), null);
      });

      it("leaves binary frames to be checked once complete; fails RSV bits from the header", () => {
        const protocol = openProtocol(role);
        const binary = fromPeer(role, Opcode.BINARY, invalid);
        protocol.receiveData(binary.slice(0, -1));
        const rsv = fromPeer(role, Opcode.TEXT, invalid, true, [false, false, true]);
        assert.equal(closeSent(protocol), null);
        protocol.receiveData(concat([binary.slice(-1), rsv.slice(0, -1)]));
        // No extension claims RSV3: 1002 from the header, not 1007 for the text.
        assert.equal(protocol.closeSent?.code, 1002);
        assert.match(protocol.parserExc!.message, /reserved bits must be 0/);
      });
    });

    describe("an idle connection keeps no reader or frame parser", () => {
      /** Which of the two objects the protocol holds at the moment. */
      function held(protocol: Protocol): { reader: boolean; parser: boolean } {
        const fields = protocol as unknown as {
          readerOrNull: object | null;
          frameParserOrNull: object | null;
        };
        return { reader: fields.readerOrNull !== null, parser: fields.frameParserOrNull !== null };
      }
      const NONE = { reader: false, parser: false };
      const BOTH = { reader: true, parser: true };

      it("holds neither before any byte, nor after a read of complete messages", () => {
        const protocol = openProtocol(role);
        assert.deepEqual(held(protocol), NONE);
        protocol.receiveData(
          concat([fromPeer(role, Opcode.TEXT, "one"), fromPeer(role, Opcode.BINARY, hex("02"))]),
        );
        assert.deepEqual(held(protocol), NONE);
        const [text, binary] = frames(protocol);
        assert.equal(decode(text!.data), "one");
        assert.equal(toHex(binary!.data), "02");
      });

      it("holds both while a frame's header or payload is incomplete, then neither", () => {
        const protocol = openProtocol(role);
        const bytes = fromPeer(role, Opcode.BINARY, hex("01 02 03 04"));
        const header = role === "server" ? 6 : 2;
        protocol.receiveData(bytes.slice(0, 1));
        assert.deepEqual(held(protocol), BOTH);
        protocol.receiveData(bytes.slice(1, header + 2));
        assert.deepEqual(held(protocol), BOTH);
        assert.deepEqual(frames(protocol), []);
        protocol.receiveData(bytes.slice(header + 2));
        assert.deepEqual(held(protocol), NONE);
        assert.equal(toHex(frames(protocol)[0]!.data), "01020304");
      });

      it("holds both between the fragments of a message, then neither", () => {
        const protocol = openProtocol(role);
        // The euro sign's three bytes split across the fragments: the UTF-8
        // check carries on across reads.
        protocol.receiveData(fromPeer(role, Opcode.TEXT, hex("e2 82"), false));
        assert.deepEqual(held(protocol), BOTH);
        protocol.receiveData(fromPeer(role, Opcode.CONT, hex("ac"), true));
        assert.deepEqual(held(protocol), NONE);
        assert.deepEqual(
          frames(protocol).map((frame) => toHex(frame.data)),
          ["e282", "ac"],
        );
        assert.equal(protocol.state, State.OPEN);
      });

      it("checks a continuation of text after the parser was made again", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.TEXT, "ok"));
        assert.deepEqual(held(protocol), NONE);
        // Invalid UTF-8 in the payload's first bytes, its end not arrived yet:
        // caught as it arrives, by a parser made for this read.
        protocol.receiveData(fromPeer(role, Opcode.TEXT, hex("ff 00 00")).slice(0, -2));
        assert.equal(protocol.closeSent?.code, 1007);
      });

      it("applies the size limit with a parser made again", () => {
        const protocol = openProtocol(role, { maxMessageSize: 4 });
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01 02 03 04")));
        assert.deepEqual(held(protocol), NONE);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01 02 03 04 05")));
        assert.equal(protocol.closeSent?.code, 1009);
        assert.match(protocol.parserExc!.message, /^message exceeds limit of 4 bytes/);
      });

      it("checks masking with a parser made again (RFC 6455 §5.1)", () => {
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01")));
        assert.deepEqual(held(protocol), NONE);
        // What this side would send itself is masked the wrong way for its peer.
        protocol.receiveData(fromSelf(role, Opcode.BINARY, hex("01")));
        assert.equal(protocol.closeSent?.code, 1002);
        assert.match(
          protocol.parserExc!.message,
          role === "server" ? /incorrect masking/ : /unexpected masked frame/,
        );
      });

      it("keeps the reader after the end of the stream, which no data may follow", () => {
        const protocol = openProtocol(role);
        protocol.receiveEof();
        assert.equal(held(protocol).reader, true);
        assert.throws(() => protocol.receiveData(hex("00")), InvalidState);
      });

      it("holds neither after a budget of decoded messages stopped parsing with no bytes left", () => {
        const protocol = openProtocol(role);
        protocol.decodedMessageBudget = 0;
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01")));
        assert.deepEqual(held(protocol), BOTH);
        assert.deepEqual(frames(protocol), []);
        protocol.decodedMessageBudget = -1;
        protocol.resumeParsing();
        assert.deepEqual(held(protocol), NONE);
        assert.equal(frames(protocol).length, 1);
      });

      it("gives no receive buffer while it holds no parser", () => {
        const protocol = openProtocol(role);
        assert.equal(protocol.receiveBuffer(), null);
        assert.deepEqual(held(protocol), NONE);
      });
    });

    describe("state", () => {
      it("reports closeCode and closeReason only once closed", () => {
        const protocol = openProtocol(role);
        assert.equal(protocol.closeCode, null);
        assert.equal(protocol.closeReason, null);
        protocol.state = State.CLOSED;
        assert.equal(protocol.closeCode, 1006);
        assert.equal(protocol.closeReason, "");
      });

      it("discards its input once a close frame was received, once failed, and after the end", () => {
        const closing = openProtocol(role);
        assert.equal(closing.discardingInput, false);
        // Closing from this side: the peer's close frame is still to be read.
        closing.sendClose(1000);
        assert.equal(closing.discardingInput, false);
        closing.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000)));
        assert.equal(closing.discardingInput, true);
        closing.receiveEof();
        assert.equal(closing.discardingInput, true);
        const failed = openProtocol(role);
        failed.fail(1011);
        assert.equal(failed.discardingInput, true);
        const ended = openProtocol(role);
        ended.receiveEof();
        assert.equal(ended.discardingInput, true);
        // An error found behind a complete message waits for it to be delivered.
        const paused = openProtocol(role, { deferFailureAfterMessages: true });
        paused.receiveData(
          concat([fromPeer(role, Opcode.TEXT, "before"), fromPeer(role, Opcode.CONT, "bad")]),
        );
        assert.equal(paused.failurePending, true);
        assert.equal(paused.discardingInput, false);
      });

      it("answers only the latest ping while pongs are deferred, once they no longer are", () => {
        const protocol = openProtocol(role);
        protocol.pongsDeferred = true;
        assert.equal(protocol.pongsDeferred, true);
        const read = new Uint8Array(
          concat([
            fromPeer(role, Opcode.PING, "first"),
            fromPeer(role, Opcode.PING, "second"),
            fromPeer(role, Opcode.TEXT, "hello"),
            fromPeer(role, Opcode.PING, "latest"),
          ]),
        );
        protocol.receiveData(read);
        // RFC 6455 §5.5.3: one pong may answer the pings not yet answered.
        assert.deepEqual(protocol.dataToSend(), []);
        assert.deepEqual(
          protocol.eventsReceived().map((event) => (event as Frame).opcode),
          [Opcode.PING, Opcode.PING, Opcode.TEXT, Opcode.PING],
        );
        // The pong's payload is a copy, not a view of the read (which it would keep alive).
        read.fill(0);
        protocol.pongsDeferred = false;
        assert.equal(protocol.pongsDeferred, false);
        assert.equal(
          toHex(concat(protocol.dataToSend())),
          toHex(fromSelf(role, Opcode.PONG, "latest")),
        );
        // Nothing more to answer; pings are answered at once again.
        protocol.pongsDeferred = true;
        protocol.pongsDeferred = false;
        assert.deepEqual(protocol.dataToSend(), []);
        protocol.receiveData(fromPeer(role, Opcode.PING, "now"));
        assert.equal(
          toHex(concat(protocol.dataToSend())),
          toHex(fromSelf(role, Opcode.PONG, "now")),
        );
      });

      it("answers a deferred ping while closing, and none after the close frame or a failure", () => {
        const closing = openProtocol(role);
        closing.sendClose(1000);
        closing.dataToSend();
        closing.pongsDeferred = true;
        closing.receiveData(fromPeer(role, Opcode.PING, "p"));
        closing.pongsDeferred = false;
        // RFC 6455 §5.5: control frames may follow this side's close frame.
        assert.equal(toHex(concat(closing.dataToSend())), toHex(fromSelf(role, Opcode.PONG, "p")));
        for (const end of ["close frame", "failure"] as const) {
          const protocol = openProtocol(role);
          protocol.pongsDeferred = true;
          protocol.receiveData(fromPeer(role, Opcode.PING, "p"));
          if (end === "close frame")
            protocol.receiveData(fromPeer(role, Opcode.CLOSE, closeFrame(1000)));
          else protocol.fail(1011);
          const before = toHex(concat(protocol.dataToSend()));
          // §5.5.2: no pong once a close frame was received; §7.1.7: none after a failure.
          protocol.pongsDeferred = false;
          assert.deepEqual(protocol.dataToSend(), [], `${end}, after ${before}`);
        }
      });

      it("names states", () => {
        assert.deepEqual(
          [State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED].map(stateName),
          ["connecting", "open", "closing", "closed"],
        );
      });

      it("never goes backwards and only throws documented errors on random input", () => {
        fc.assert(
          fc.property(
            fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
            fc.boolean(),
            (chunks, eof) => {
              const protocol = openProtocol(role, { maxMessageSize: 100 });
              let previous: number = protocol.state;
              for (const chunk of chunks) {
                protocol.receiveData(chunk);
                assert.ok(protocol.state >= previous);
                previous = protocol.state;
              }
              if (eof) protocol.receiveEof();
              assert.ok(protocol.state >= previous);
              protocol.eventsReceived();
              protocol.dataToSend();
              if (protocol.parserExc) assert.ok(protocol.parserExc instanceof ProtocolError);
            },
          ),
          { numRuns: 2000 },
        );
      });

      it("turns any frame sequence into the same events whatever the chunking", () => {
        const frameArbitrary = fc.oneof(
          fc.record({
            opcode: fc.constant(Opcode.BINARY),
            data: fc.uint8Array({ maxLength: 300 }),
          }),
          fc.record({
            opcode: fc.constant(Opcode.TEXT),
            data: fc.string({ maxLength: 100 }).map(utf8),
          }),
          fc.record({ opcode: fc.constant(Opcode.PING), data: fc.uint8Array({ maxLength: 125 }) }),
          fc.record({ opcode: fc.constant(Opcode.PONG), data: fc.uint8Array({ maxLength: 125 }) }),
        );
        fc.assert(
          fc.property(
            fc.array(frameArbitrary, { maxLength: 10 }),
            fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1 }),
            (list, sizes) => {
              const stream = concat(list.map(({ opcode, data }) => fromPeer(role, opcode, data)));
              const protocol = openProtocol(role);
              for (let i = 0, s = 0; i < stream.length; s++) {
                const size = sizes[s % sizes.length]!;
                protocol.receiveData(stream.slice(i, i + size));
                i += size;
              }
              const events = frames(protocol);
              assert.deepEqual(
                events.map((frame) => [frame.opcode, toHex(frame.data)]),
                list.map(({ opcode, data }) => [opcode, toHex(data)]),
              );
            },
          ),
          { numRuns: 500 },
        );
      });
    });
  });
}

describe("Protocol state kept aside until needed", () => {
  it("reads the close and failure fields as null and eofSent as false before any is set", () => {
    const protocol = openProtocol("server");
    assert.equal(protocol.closeRcvd, null);
    assert.equal(protocol.closeSent, null);
    assert.equal(protocol.closeRcvdThenSent, null);
    assert.equal(protocol.handshakeExc, null);
    assert.equal(protocol.parserExc, null);
    assert.equal(protocol.eofSent, false);
    assert.equal(protocol.failurePending, false);
  });

  it("reads back what is assigned to them", () => {
    const protocol = openProtocol("client");
    const close = new Close(1000, "bye");
    const error = new Error("failed");
    protocol.closeRcvd = close;
    protocol.closeSent = close;
    protocol.closeRcvdThenSent = true;
    protocol.handshakeExc = error;
    protocol.parserExc = error;
    protocol.eofSent = true;
    assert.equal(protocol.closeRcvd, close);
    assert.equal(protocol.closeSent, close);
    assert.equal(protocol.closeRcvdThenSent, true);
    assert.equal(protocol.handshakeExc, error);
    assert.equal(protocol.parserExc, error);
    assert.equal(protocol.eofSent, true);
    protocol.eofSent = false;
    assert.equal(protocol.eofSent, false);
  });

  it("keeps a frame split across reads when the reader is drained between them", () => {
    const protocol = openProtocol("server");
    const frame = fromPeer("server", Opcode.BINARY, hex("01 02 03 04"));
    protocol.receiveData(frame.subarray(0, 2));
    protocol.receiveData(frame.subarray(2, 7));
    assert.deepEqual(frames(protocol), []);
    protocol.receiveData(frame.subarray(7));
    const [binary] = frames(protocol);
    assert.equal(toHex(binary!.data), "01020304");
  });
});

describe("extensions in the protocol", () => {
  it("lets a negotiated extension claim RSV2 on frames it encodes and decodes", () => {
    /** Marks every data frame with RSV2 and reverses its payload: a trivial, testable transform. */
    const reverser: Extension = {
      name: "x-reverse",
      encode: (frame) =>
        frame.opcode === Opcode.CLOSE ||
        frame.opcode === Opcode.PING ||
        frame.opcode === Opcode.PONG
          ? frame
          : new Frame(
              frame.opcode,
              frame.data.slice().reverse(),
              frame.fin,
              frame.rsv1,
              true,
              frame.rsv3,
            ),
      decode: (frame) => {
        if (!frame.rsv2) return frame;
        return new Frame(
          frame.opcode,
          frame.data.slice().reverse(),
          frame.fin,
          frame.rsv1,
          false,
          frame.rsv3,
        );
      },
    };
    const server = openProtocol("server");
    server.extensions = [reverser];
    server.receiveData(fromPeer("server", Opcode.TEXT, "olleh", true, [false, true, false]));
    assert.equal(new TextDecoder().decode(frames(server)[0]!.data), "hello");
    server.sendText("abc");
    assert.equal(written(server)[0], "a103636261");
    server.receiveData(fromPeer("server", Opcode.TEXT, "x", true, [true, false, false]));
    assert.equal(server.closeSent?.code, 1002);
  });

  describe("RSV bits no extension uses, from the frame's header", () => {
    /** A 98-byte binary frame from the client with `bits` set, cut after its header and 2 payload bytes. */
    function headerOnly(bits: number): Uint8Array {
      const frame = fromPeer("server", Opcode.BINARY, new Uint8Array(98));
      frame[0]! |= bits;
      return frame.subarray(0, 8);
    }
    const rsv1Only: Extension = {
      name: "x-rsv1",
      reservedBits: 0x40,
      encode: (frame) => frame,
      decode: (frame) =>
        new Frame(frame.opcode, frame.data, frame.fin, false, frame.rsv2, frame.rsv3),
    };
    function assertRefused(server: Protocol): void {
      assert.equal(server.closeSent?.code, 1002);
      assert.equal(server.closeSent?.reason, "reserved bits must be 0");
    }
    const unspecified: Extension = {
      name: "x-any",
      encode: (frame) => frame,
      decode: (frame) => frame,
    };

    for (const bits of [0x20, 0x10, 0x60, 0x50]) {
      it(`fails with 1002 on 0x${bits.toString(16)} when the extensions use RSV1 only`, () => {
        const server = openProtocol("server");
        server.extensions = [rsv1Only];
        server.receiveData(headerOnly(bits));
        assertRefused(server);
      });
    }

    it("waits for the payload of a frame with the bit an extension uses", () => {
      const server = openProtocol("server");
      server.extensions = [rsv1Only];
      server.receiveData(headerOnly(0x40));
      assert.equal(server.closeSent, null);
      assert.equal(server.state, State.OPEN);
    });

    it("adds up the bits of every extension", () => {
      const rsv2Only: Extension = { ...rsv1Only, name: "x-rsv2", reservedBits: 0x20 };
      const server = openProtocol("server");
      server.extensions = [rsv1Only, rsv2Only];
      server.receiveData(headerOnly(0x60));
      assert.equal(server.closeSent, null);
      const other = openProtocol("server");
      other.extensions = [rsv1Only, rsv2Only];
      other.receiveData(headerOnly(0x10));
      assertRefused(other);
    });

    it("waits for the whole frame when an extension doesn't say which bits it uses", () => {
      const server = openProtocol("server");
      server.extensions = [rsv1Only, unspecified];
      server.receiveData(headerOnly(0x10));
      assert.equal(server.closeSent, null);
    });

    it("fails with 1002 on RSV2 from the header under permessage-deflate", () => {
      const server = openProtocol("server");
      server.extensions = [
        new PerMessageDeflate({
          localNoContextTakeover: false,
          remoteNoContextTakeover: false,
          localMaxWindowBits: 15,
          remoteMaxWindowBits: 15,
        }),
      ];
      server.receiveData(headerOnly(0x20));
      assertRefused(server);
    });
  });

  const sharedMemory = [
    ["a Uint8Array", (length: number) => new Uint8Array(new SharedArrayBuffer(length))],
    // Whose slice() is a view of the same memory.
    ["a Buffer", (length: number) => Buffer.from(new SharedArrayBuffer(length))],
  ] as const;
  for (const [kind, share] of sharedMemory) {
    it(`copies a payload an extension decodes into shared memory (${kind}) into an ArrayBuffer`, () => {
      const sharing: Extension = {
        name: "x-shared",
        encode: (frame) => frame,
        decode: (frame) => {
          const shared = share(frame.data.length);
          shared.set(frame.data);
          return new Frame(frame.opcode, shared, frame.fin);
        },
      };
      const server = openProtocol("server");
      server.extensions = [sharing];
      server.receiveData(fromPeer("server", Opcode.BINARY, hex("01 02 03"), false));
      server.receiveData(fromPeer("server", Opcode.CONT, hex("04")));
      const received = frames(server);
      assert.equal(received.length, 2);
      for (const frame of received) assert.ok(frame.data.buffer instanceof ArrayBuffer);
      assert.equal(toHex(received[0]!.data), "010203");
      assert.equal(received[0]!.fin, false);
      assert.equal(toHex(received[1]!.data), "04");
      assert.equal(received[1]!.opcode, Opcode.CONT);
    });
  }

  it("checks the UTF-8 of an encoded message once decoded, not as its frames arrive", () => {
    // Bytes that are invalid UTF-8 on the wire and valid once the extension decodes them.
    const xor: Extension = {
      name: "x-xor",
      encode: (frame) => frame,
      decode: (frame) =>
        new Frame(
          frame.opcode,
          frame.data.map((byte) => byte ^ 0x80),
          frame.fin,
        ),
    };
    const server = openProtocol("server");
    server.extensions = [xor];
    const encoded = (text: string) => utf8(text).map((byte) => byte ^ 0x80);
    server.receiveData(
      fromPeer("server", Opcode.TEXT, encoded("Hel"), false, [true, false, false]),
    );
    const continuation = fromPeer("server", Opcode.CONT, encoded("lo"));
    server.receiveData(continuation.slice(0, -1));
    assert.equal(server.closeSent, null);
    server.receiveData(continuation.slice(-1));
    assert.deepEqual(
      frames(server).map((frame) => decode(frame.data)),
      ["Hel", "lo"],
    );
  });
});

describe("Protocol.trace", () => {
  for (const role of ["client", "server"] as Role[]) {
    it(`traces what a ${role} receives and sends, the replies it makes included`, () => {
      const protocol = openProtocol(role);
      const lines: string[] = [];
      protocol.trace = (line) => lines.push(line);
      protocol.receiveData(fromPeer(role, Opcode.TEXT, "hi"));
      protocol.receiveData(fromPeer(role, Opcode.PING, "p"));
      protocol.sendBinary(hex("01 02"));
      protocol.receiveData(fromPeer(role, Opcode.CLOSE, new Close(1000, "bye").serialize()));
      protocol.receiveEof();
      assert.deepEqual(lines, [
        '< TEXT "hi" [2 bytes]',
        '< PING "p" [1 byte]',
        '> PONG "p" [1 byte]',
        "> BINARY 01 02 [2 bytes]",
        "< CLOSE 1000 (OK) bye [5 bytes]",
        "> CLOSE 1000 (OK) bye [5 bytes]",
        // RFC 6455 §7.1.1: the server closes the TCP connection first, the client after it.
        ...(role === "server" ? ["> EOF", "< EOF"] : ["< EOF", "> EOF"]),
      ]);
      // Off again: nothing more.
      const quiet = openProtocol(role);
      quiet.trace = (line) => lines.push(line);
      quiet.trace = null;
      assert.equal(quiet.trace, null);
      quiet.receiveData(fromPeer(role, Opcode.TEXT, "unseen"));
      quiet.sendText("unseen");
      assert.equal(lines.length, 8);
    });
  }

  for (const role of ["client", "server"] as Role[]) {
    it(`writes a ${role}'s data frames byte for byte the same, traced or not`, () => {
      // Untraced, a data frame goes out without a Frame object; traced, through
      // sendFrame(): RFC 6455 §5.2 bytes must not depend on which.
      const send = (protocol: Protocol): string[] => {
        protocol.sendText("héllo");
        protocol.sendBinary(new Uint8Array(200).fill(7), false);
        protocol.sendContinuation(hex("01 02"), true);
        protocol.sendText(new Uint8Array(70000).fill(0x61), true);
        return written(protocol);
      };
      const traced = openProtocol(role);
      traced.trace = () => {};
      const plain = send(openProtocol(role));
      assert.deepEqual(plain, send(traced));
      // FIN and opcode: text with FIN, binary without, its continuation with FIN, text with FIN.
      assert.deepEqual(
        plain.map((frame) => frame.slice(0, 2)),
        ["81", "02", "80", "81"],
      );
    });
  }

  it("traces both sides of a handshake, and a request refused", () => {
    const client = new ClientProtocol("ws://example.com/chat", { maskKeyGenerator: () => MASK });
    const server = new ServerProtocol();
    const lines: string[] = [];
    client.trace = (line) => lines.push(`client ${line}`);
    server.trace = (line) => lines.push(`server ${line}`);
    const request = client.connect();
    request.headers.set("Authorization", "Bearer secret");
    client.sendRequest(request);
    for (const chunk of client.dataToSend()) server.receiveData(chunk);
    server.sendResponse(server.accept(server.eventsReceived()[0] as Request));
    for (const chunk of server.dataToSend()) client.receiveData(chunk);
    assert.equal(client.state, State.OPEN);
    assert.equal(lines[0], "client > GET /chat HTTP/1.1");
    assert.ok(lines.includes("client > Authorization: [redacted]"));
    assert.ok(lines.includes("server < GET /chat HTTP/1.1"));
    assert.ok(lines.includes("server < Authorization: [redacted]"));
    assert.ok(lines.includes("server > HTTP/1.1 101 Switching Protocols"));
    assert.ok(lines.includes("client < HTTP/1.1 101 Switching Protocols"));
    assert.ok(!lines.some((line) => line.includes("secret")));

    const refusing = new ServerProtocol();
    const refused: string[] = [];
    refusing.trace = (line) => refused.push(line);
    refusing.receiveData(utf8("NOT HTTP\r\n\r\n"));
    assert.equal(refused[0], "> HTTP/1.1 400 Bad Request");
    assert.equal(refused.at(-1), "> EOF");
  });
});

describe("Protocol, yielding before large frames", () => {
  const LARGE = 65536;
  for (const role of ["client", "server"] as Role[]) {
    it(`stops a ${role} after a message that a large frame follows, until resumeParsing()`, () => {
      const protocol = openProtocol(role, { yieldBeforeLargeFrames: true });
      const large = new Uint8Array(LARGE).fill(0x2a);
      const largeFrame = fromPeer(role, Opcode.BINARY, large);
      const half = largeFrame.length >> 1;
      protocol.receiveData(
        concat([fromPeer(role, Opcode.TEXT, "first"), largeFrame.subarray(0, half)]),
      );
      assert.deepEqual(
        frames(protocol).map((frame) => decode(frame.data)),
        ["first"],
      );
      assert.equal(protocol.parsingYielded, true);
      // Resumed, the large frame's first half is parsed: no event until the rest.
      protocol.resumeParsing();
      assert.equal(protocol.parsingYielded, false);
      assert.deepEqual(frames(protocol), []);
      protocol.receiveData(
        concat([largeFrame.subarray(half), fromPeer(role, Opcode.TEXT, "last")]),
      );
      const received = frames(protocol);
      assert.deepEqual(received[0]!.data, large);
      assert.equal(decode(received[1]!.data), "last");
      assert.equal(protocol.parsingYielded, false);
    });
  }

  it("yields after a whole message only: not after a control frame or a first fragment", () => {
    const role: Role = "server";
    const largeFrame = fromPeer(role, Opcode.BINARY, new Uint8Array(LARGE));
    for (const before of [
      fromPeer(role, Opcode.PING, "p"),
      fromPeer(role, Opcode.TEXT, "a", false),
    ]) {
      const protocol = openProtocol(role, { yieldBeforeLargeFrames: true });
      protocol.receiveData(concat([before, largeFrame.subarray(0, 100)]));
      assert.equal(protocol.parsingYielded, false);
    }
    // The last fragment completes the message: then it yields.
    const protocol = openProtocol(role, { yieldBeforeLargeFrames: true });
    protocol.receiveData(
      concat([
        fromPeer(role, Opcode.TEXT, "a", false),
        fromPeer(role, Opcode.CONT, "b"),
        largeFrame.subarray(0, 100),
      ]),
    );
    assert.equal(protocol.parsingYielded, true);
    assert.deepEqual(
      frames(protocol).map((frame) => decode(frame.data)),
      ["a", "b"],
    );
  });

  it("lets the message before a yield be answered when the large frame breaks the protocol", () => {
    const role: Role = "server";
    const protocol = openProtocol(role, {
      yieldBeforeLargeFrames: true,
      deferFailureAfterMessages: true,
      maxMessageSize: LARGE,
    });
    // RFC 6455 §5.2: a 64-bit length of 2 MiB, over maxMessageSize.
    const tooBig = hex("82 ff 00 00 00 00 00 20 00 00 37 fa 21 3d");
    protocol.receiveData(concat([fromPeer(role, Opcode.TEXT, "first"), tooBig]));
    assert.equal(protocol.parsingYielded, true);
    assert.equal(decode(frames(protocol)[0]!.data), "first");
    // Resumed: the error waits, as it would have in the parse of "first", until
    // the application answered; the connection is still open for that.
    protocol.resumeParsing();
    assert.equal(protocol.failurePending, true);
    assert.equal(protocol.state, State.OPEN);
    protocol.sendText("echo:first");
    protocol.failPending();
    const out = written(protocol);
    assert.equal(out[0]!.slice(0, 4), "810a");
    // A close frame with 1009, message too big (RFC 6455 §7.4.1), after the answer.
    assert.equal(out[1]!.slice(0, 2), "88");
    assert.equal(out[1]!.slice(4, 8), "03f1");
  });

  it("fails on resuming when the large frame breaks the protocol and failures are not deferred", () => {
    const role: Role = "server";
    const protocol = openProtocol(role, { yieldBeforeLargeFrames: true, maxMessageSize: LARGE });
    // RFC 6455 §5.2: a 64-bit length of 2 MiB, over maxMessageSize.
    const tooBig = hex("82 ff 00 00 00 00 00 20 00 00 37 fa 21 3d");
    protocol.receiveData(concat([fromPeer(role, Opcode.TEXT, "first"), tooBig]));
    assert.equal(decode(frames(protocol)[0]!.data), "first");
    protocol.resumeParsing();
    assert.equal(protocol.failurePending, false);
    assert.equal(protocol.state, State.CLOSING);
    // RFC 6455 §7.4.1: 1009, message too big.
    assert.equal(written(protocol)[0]!.slice(4, 8), "03f1");
  });

  it("no longer reports a yield once the connection failed", () => {
    const role: Role = "server";
    const protocol = openProtocol(role, { yieldBeforeLargeFrames: true });
    const largeFrame = fromPeer(role, Opcode.BINARY, new Uint8Array(LARGE));
    protocol.receiveData(concat([fromPeer(role, Opcode.TEXT, "a"), largeFrame.subarray(0, 100)]));
    assert.equal(protocol.parsingYielded, true);
    protocol.fail(1011);
    assert.equal(protocol.parsingYielded, false);
    protocol.resumeParsing();
    assert.equal(protocol.parsingYielded, false);
  });

  it("parses everything at once by default, and before frames under 64 KiB", () => {
    const role: Role = "server";
    const small = fromPeer(role, Opcode.BINARY, new Uint8Array(LARGE - 1));
    const yielding = openProtocol(role, { yieldBeforeLargeFrames: true });
    yielding.receiveData(concat([fromPeer(role, Opcode.TEXT, "a"), small, small]));
    assert.equal(yielding.parsingYielded, false);
    assert.equal(frames(yielding).length, 3);
    const plain = openProtocol(role);
    const large = fromPeer(role, Opcode.BINARY, new Uint8Array(LARGE));
    plain.receiveData(concat([fromPeer(role, Opcode.TEXT, "a"), large]));
    assert.equal(plain.parsingYielded, false);
    assert.equal(frames(plain).length, 2);
  });
});

describe("Protocol.writesRecycled", () => {
  /** The one chunk a client's binary message of `size` bytes is written as. */
  function sent(protocol: Protocol, size: number): Uint8Array {
    protocol.sendBinary(new Uint8Array(size).fill(0x61));
    const chunks = protocol.dataToSend();
    assert.equal(chunks.length, 1);
    return chunks[0]!;
  }

  it("is off by default: a client's large frames are buffers of their own", () => {
    const protocol = openProtocol("client");
    assert.equal(protocol.writesRecycled, false);
    const first = sent(protocol, 100_000);
    const second = sent(protocol, 100_000);
    assert.notEqual(first.buffer, second.buffer);
  });

  it("lets a client's large frames sit in frame slots, which its writes give back", () => {
    const protocol = openProtocol("client");
    protocol.writesRecycled = true;
    assert.equal(protocol.writesRecycled, true);
    const first = sent(protocol, 100_000);
    const second = sent(protocol, 100_000);
    // Both in the same WebAssembly memory, one slot each.
    assert.equal(first.buffer, second.buffer);
    assert.notEqual(first.byteOffset, second.byteOffset);
    for (const chunk of [first, second]) recyclerOf(chunk)!();
    protocol.writesRecycled = false;
    assert.equal(protocol.writesRecycled, false);
    assert.notEqual(sent(protocol, 100_000).buffer, first.buffer);
  });
});
