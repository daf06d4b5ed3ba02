import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PayloadTooBig, ProtocolError } from "../../src/core/errors.js";
import type { Frame } from "../../src/core/frame.js";
import { FrameParser, startsIncompleteLargeFrame } from "../../src/core/frame-parser.js";
import { Opcode } from "../../src/core/opcodes.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, splits, toHex, utf8 } from "../helpers/bytes.js";
import {
  HEL,
  HELLO_MASKED,
  HELLO_UNMASKED,
  LO,
  PING_HELLO,
  PONG_HELLO_MASKED,
  parseAll,
  parseOne,
} from "../helpers/frames.js";

function assertFrame(frame: Frame, opcode: Opcode, data: Uint8Array, fin = true): void {
  assert.equal(frame.opcode, opcode);
  assert.equal(frame.fin, fin);
  assert.equal(toHex(frame.data), toHex(data));
  assert.deepEqual([frame.rsv1, frame.rsv2, frame.rsv3], [false, false, false]);
}

describe("RFC 6455 §5.7 examples", () => {
  it("parses a single-frame unmasked text message, at every split", () => {
    for (const chunks of splits(HELLO_UNMASKED)) {
      const frames = parseAll(chunks, false);
      assert.equal(frames.length, 1);
      assertFrame(frames[0]!, Opcode.TEXT, utf8("Hello"));
    }
  });

  it("parses a single-frame masked text message, at every split", () => {
    for (const chunks of splits(HELLO_MASKED)) {
      const frames = parseAll(chunks, true);
      assertFrame(frames[0]!, Opcode.TEXT, utf8("Hello"));
    }
  });

  it("parses a fragmented unmasked text message", () => {
    for (const chunks of splits(concat([HEL, LO]))) {
      const frames = parseAll(chunks, false);
      assert.equal(frames.length, 2);
      assertFrame(frames[0]!, Opcode.TEXT, utf8("Hel"), false);
      assertFrame(frames[1]!, Opcode.CONT, utf8("lo"), true);
    }
  });

  it("parses an unmasked ping and a masked pong", () => {
    assertFrame(parseOne(PING_HELLO, false), Opcode.PING, utf8("Hello"));
    assertFrame(parseOne(PONG_HELLO_MASKED, true), Opcode.PONG, utf8("Hello"));
  });

  it("parses 256 bytes with a 16-bit length and 64 KiB with a 64-bit length", () => {
    const small = new Uint8Array(256).fill(0xab);
    const frame256 = concat([hex("82 7e 01 00"), small]);
    assertFrame(parseOne(frame256, false), Opcode.BINARY, small);
    const large = new Uint8Array(65536).fill(0xcd);
    const frame64k = concat([hex("82 7f 00 00 00 00 00 01 00 00"), large]);
    assertFrame(parseOne(frame64k, false), Opcode.BINARY, large);
  });
});

describe("FrameParser.peekPayload", () => {
  it("returns nothing while no frame header is pending", () => {
    const parser = new FrameParser({ mask: false });
    const reader = new StreamReader();
    reader.feedData(hex("81"));
    assert.deepEqual(parser.peekPayload(reader), []);
    assert.equal(parser.pendingHeader, -1);
  });

  it("unmasks the payload as it arrives and parse() returns it whole", () => {
    const parser = new FrameParser({ mask: true });
    const reader = new StreamReader();
    // RFC 6455 §5.7: a masked "Hello", fed in three parts.
    const bytes = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    reader.feedData(bytes.slice(0, 7));
    assert.equal(parser.parse(reader), null);
    assert.equal(parser.pendingHeader, 0x81);
    assert.deepEqual(parser.peekPayload(reader).map(toHex), ["48"]);
    assert.deepEqual(parser.peekPayload(reader), []);
    reader.feedData(bytes.slice(7, 9));
    reader.feedData(bytes.slice(9, 10));
    assert.equal(parser.parse(reader), null);
    // The two small reads that arrived behind buffered bytes were copied into one block.
    assert.deepEqual(parser.peekPayload(reader).map(toHex), ["656c6c"]);
    reader.feedData(bytes.slice(10));
    const frame = parser.parse(reader)!;
    assert.equal(toHex(frame.data), toHex(utf8("Hello")));
    assert.equal(parser.peekedLength, 4);
  });
});

describe("frame validation", () => {
  it("rejects reserved opcodes", () => {
    for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      const bytes = Uint8Array.of(0x80 | opcode, 0);
      assert.throws(() => parseOne(bytes, false), ProtocolError, `opcode ${opcode}`);
    }
  });

  it("rejects unmasked frames on the server and masked frames on the client", () => {
    assert.throws(() => parseOne(HELLO_UNMASKED, true), /incorrect masking/);
    assert.throws(() => parseOne(HELLO_MASKED, false), /unexpected masked frame/);
  });

  it("rejects control frames over 125 bytes, checked from the header", () => {
    assert.throws(() => parseAll([hex("89 7e 00 7e")], false), /control frame too long/);
    const at125 = concat([hex("89 7d"), new Uint8Array(125)]);
    assert.equal(parseOne(at125, false).data.length, 125);
  });

  it("rejects fragmented control frames", () => {
    for (const opcode of [0x8, 0x9, 0xa]) {
      assert.throws(() => parseOne(Uint8Array.of(opcode, 0), false), /fragmented control frame/);
    }
  });

  it("rejects a 64-bit length with the most significant bit set", () => {
    assert.throws(
      () => parseAll([hex("82 7f 80 00 00 00 00 00 00 00")], false),
      /invalid payload length/,
    );
  });

  it("checks the size limit from the header, before the payload arrives", () => {
    const error = assert.throws(
      () => parseAll([hex("82 7e 01 00")], false, 255),
      (thrown: unknown) => thrown instanceof PayloadTooBig && thrown.closeCode === 1009,
    );
    void error;
    assert.throws(
      () => parseAll([hex("82 7f 00 20 00 00 00 00 00 00")], false, 1 << 20),
      PayloadTooBig,
    );
    assert.equal(
      parseOne(concat([hex("82 7e 01 00"), new Uint8Array(256)]), false, 256).data.length,
      256,
    );
  });

  it("has no size limit until one is set, and takes Infinity back", () => {
    const parser = new FrameParser({ mask: false });
    assert.equal(parser.maxMessageSize, Number.POSITIVE_INFINITY);
    const huge = hex("82 7f 00 00 00 01 00 00 00 00");
    const reader = new StreamReader();
    reader.feedData(huge);
    assert.equal(parser.parse(reader), null, "a 4 GiB frame waits for its payload");
    parser.maxMessageSize = 1024;
    assert.equal(parser.maxMessageSize, 1024);
    assert.throws(() => parseAll([huge], false, 1024), /exceeds limit of 1024 bytes/);
    parser.maxMessageSize = Number.POSITIVE_INFINITY;
    assert.equal(parser.maxMessageSize, Number.POSITIVE_INFINITY);
  });

  it("counts the payload received of a fragmented message against the limit", () => {
    const parser = new FrameParser({ mask: false });
    parser.maxMessageSize = 10;
    const reader = new StreamReader();
    // BINARY, not final, 4 bytes; a ping between fragments; CONT, not final, 4 bytes.
    reader.feedData(hex("02 04 01 02 03 04 89 01 aa 00 04 05 06 07 08"));
    assert.equal(parser.parse(reader)?.opcode, Opcode.BINARY);
    assert.equal(parser.messageSize, 4);
    assert.equal(parser.parse(reader)?.opcode, Opcode.PING);
    assert.equal(parser.messageSize, 4, "control frames are not part of the message");
    assert.equal(parser.parse(reader)?.opcode, Opcode.CONT);
    assert.equal(parser.messageSize, 8);
    // The last fragment ends the message: the next one starts from 0.
    reader.feedData(hex("80 02 09 0a 82 0a"));
    assert.equal(parser.parse(reader)?.fin, true);
    assert.equal(parser.messageSize, 0);
    assert.equal(parser.parse(reader), null, "a whole message of the limit waits for its payload");
    // 8 bytes received, then a fragment announcing 3: refused from its header.
    const next = new FrameParser({ mask: false });
    next.maxMessageSize = 10;
    const more = new StreamReader();
    more.feedData(hex("02 04 01 02 03 04 00 04 05 06 07 08 00 03"));
    next.parse(more);
    next.parse(more);
    assert.throws(() => next.parse(more), /fragmented message exceeds limit of 10 bytes/);
  });

  it("exempts control frames from the data size limit", () => {
    assert.equal(parseOne(PING_HELLO, false, 0).data.length, 5);
  });

  it("returns nothing until the header is complete", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: false });
    reader.feedData(hex("82"));
    assert.equal(parser.parse(reader), null);
    reader.feedData(hex("7e 01"));
    assert.equal(parser.parse(reader), null);
    assert.equal(reader.length, 3, "an incomplete header stays buffered");
  });
});

describe("startsIncompleteLargeFrame", () => {
  const withPayload = (header: string, payloadBytes: number): Uint8Array =>
    concat([hex(header), new Uint8Array(payloadBytes)]);

  it("is true for a whole header of 64 KiB or more with part of its payload", () => {
    // RFC 6455 §5.2: 127, then 8 bytes of length; unmasked (10 bytes) and masked (14).
    assert.equal(startsIncompleteLargeFrame(withPayload("82 7f 00 00 00 00 00 01 00 00", 0)), true);
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 7f 00 00 00 00 00 01 00 00", 65535)),
      true,
    );
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 ff 00 00 00 00 00 01 00 00 01 02 03 04", 100)),
      true,
    );
    // Over 4 GiB: the high word.
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 7f 00 00 00 01 00 00 00 00", 10)),
      true,
    );
  });

  it("is false for a payload that all follows, a small one, or a partial header", () => {
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 7f 00 00 00 00 00 01 00 00", 65536)),
      false,
    );
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 ff 00 00 00 00 00 01 00 00 01 02 03 04", 65536)),
      false,
    );
    assert.equal(
      startsIncompleteLargeFrame(withPayload("82 7f 00 00 00 00 00 00 ff ff", 10)),
      false,
    );
    assert.equal(startsIncompleteLargeFrame(withPayload("82 7e ff ff", 100)), false);
    assert.equal(startsIncompleteLargeFrame(hex("82 7f 00 00 00 00 00 01 00")), false);
    // Masked, the key not all here.
    assert.equal(startsIncompleteLargeFrame(hex("82 ff 00 00 00 00 00 01 00 00 01 02")), false);
    assert.equal(startsIncompleteLargeFrame(new Uint8Array(0)), false);
  });
});

describe("FrameParser.nextFrameIsLarge", () => {
  const reader = (bytes: Uint8Array): StreamReader => {
    const r = new StreamReader();
    r.feedData(bytes);
    return r;
  };
  it("reads the 64-bit length of the next header without consuming it", () => {
    const parser = new FrameParser({ mask: false });
    // RFC 6455 §5.2: 127, then 8 bytes of length; 65536 is the smallest large one.
    const large = hex("82 7f 00 00 00 00 00 01 00 00");
    const r = reader(large);
    assert.equal(parser.nextFrameIsLarge(r), true);
    assert.equal(r.length, 10);
    // A length over 4 GiB sets the high word.
    assert.equal(parser.nextFrameIsLarge(reader(hex("82 7f 00 00 00 01 00 00 00 00"))), true);
  });

  it("is false below 64 KiB, for 16- and 7-bit lengths, and before the length arrived", () => {
    const parser = new FrameParser({ mask: false });
    // A 64-bit length that is not minimal, 65535: not large.
    assert.equal(parser.nextFrameIsLarge(reader(hex("82 7f 00 00 00 00 00 00 ff ff"))), false);
    assert.equal(parser.nextFrameIsLarge(reader(hex("82 7e ff ff"))), false);
    assert.equal(parser.nextFrameIsLarge(reader(hex("82 05"))), false);
    assert.equal(parser.nextFrameIsLarge(reader(hex("82 7f 00 00 00 00 00 01 00"))), false);
    assert.equal(parser.nextFrameIsLarge(reader(new Uint8Array(0))), false);
  });

  it("is false while the payload of a parsed header is awaited", () => {
    const parser = new FrameParser({ mask: false });
    const r = reader(hex("82 7f 00 00 00 00 00 01 00 00"));
    assert.equal(parser.parse(r), null);
    r.feedData(hex("82 7f 00 00 00 00 00 01 00 00"));
    assert.equal(parser.nextFrameIsLarge(r), false);
  });
});
