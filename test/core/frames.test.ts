import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import { CloseCode, closeCodeExplanation, isValidCloseCode } from "../../src/core/close-codes.js";
import { InvalidState, PayloadTooBig, ProtocolError } from "../../src/core/errors.js";
import { Frame } from "../../src/core/frame.js";
import { FrameParser } from "../../src/core/frame-parser.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { isControlOpcode, Opcode } from "../../src/core/opcodes.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, splits, toHex, utf8 } from "../helpers/bytes.js";

const MASK = hex("37 fa 21 3d");

function parseAll(chunks: Uint8Array[], mask: boolean, maxMessageSize?: number): Frame[] {
  const reader = new StreamReader();
  const parser = new FrameParser({ mask });
  if (maxMessageSize !== undefined) parser.maxMessageSize = maxMessageSize;
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    reader.feedData(chunk);
    for (let frame = parser.parse(reader); frame !== null; frame = parser.parse(reader)) {
      frames.push(frame);
    }
  }
  assert.equal(reader.length, 0, "every byte is consumed");
  return frames;
}

function parseOne(bytes: Uint8Array, mask: boolean, maxMessageSize?: number): Frame {
  const frames = parseAll([bytes.slice()], mask, maxMessageSize);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

function assertFrame(frame: Frame, opcode: Opcode, data: Uint8Array, fin = true): void {
  assert.equal(frame.opcode, opcode);
  assert.equal(frame.fin, fin);
  assert.equal(toHex(frame.data), toHex(data));
  assert.deepEqual([frame.rsv1, frame.rsv2, frame.rsv3], [false, false, false]);
}

// RFC 6455 §5.7 examples.
const HELLO_UNMASKED = hex("81 05 48 65 6c 6c 6f");
const HELLO_MASKED = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
const HEL = hex("01 03 48 65 6c");
const LO = hex("80 02 6c 6f");
const PING_HELLO = hex("89 05 48 65 6c 6c 6f");
const PONG_HELLO_MASKED = hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");

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

  it("serializes the same examples byte for byte", () => {
    const fixed = () => MASK;
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.TEXT, utf8("Hello")), null))),
      toHex(HELLO_UNMASKED),
    );
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.TEXT, utf8("Hello")), fixed()))),
      toHex(HELLO_MASKED),
    );
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.TEXT, utf8("Hel"), false), null))),
      toHex(HEL),
    );
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.CONT, utf8("lo")), null))),
      toHex(LO),
    );
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.PING, utf8("Hello")), null))),
      toHex(PING_HELLO),
    );
    assert.equal(
      toHex(concat(serializeFrame(new Frame(Opcode.PONG, utf8("Hello")), MASK))),
      toHex(PONG_HELLO_MASKED),
    );
  });

  it("serializes 7-, 16- and 64-bit lengths at their boundaries", () => {
    const cases: [number, string][] = [
      [0, "8200"],
      [125, "827d"],
      [126, "827e007e"],
      [65535, "827effff"],
      [65536, "827f0000000000010000"],
    ];
    for (const [length, header] of cases) {
      const chunks = serializeFrame(new Frame(Opcode.BINARY, new Uint8Array(length)), null);
      const bytes = concat(chunks);
      assert.equal(toHex(bytes.subarray(0, header.length / 2)), header, `length ${length}`);
      assert.equal(bytes.length, header.length / 2 + length);
      assert.equal(parseOne(bytes, false).data.length, length);
    }
  });

  it("sends large unmasked payloads without copying them", () => {
    const payload = new Uint8Array(4096);
    const chunks = serializeFrame(new Frame(Opcode.BINARY, payload), null);
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1], payload);
  });

  it("serializes RSV bits", () => {
    const frame = new Frame(Opcode.TEXT, utf8("x"), true, true, true, true);
    assert.equal(toHex(concat(serializeFrame(frame, null)).subarray(0, 1)), "f1");
    const parsed = parseOne(concat(serializeFrame(frame, null)), false);
    assert.deepEqual([parsed.rsv1, parsed.rsv2, parsed.rsv3], [true, true, true]);
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

describe("opcodes and close codes", () => {
  it("tells control opcodes from data opcodes", () => {
    assert.deepEqual(
      [Opcode.CONT, Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE, Opcode.PING, Opcode.PONG].map(
        isControlOpcode,
      ),
      [false, false, false, true, true, true],
    );
  });

  it("explains close codes", () => {
    assert.equal(closeCodeExplanation(CloseCode.NORMAL_CLOSURE), "OK");
    assert.equal(closeCodeExplanation(1009), "message too big");
    assert.equal(closeCodeExplanation(3001), "registered");
    assert.equal(closeCodeExplanation(4001), "private use");
    assert.equal(closeCodeExplanation(2000), "unknown");
  });

  it("allows on the wire exactly the codes RFC 6455 and IANA allow", () => {
    const valid = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
      4999,
    ];
    const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
    for (const code of valid) assert.equal(isValidCloseCode(code), true, `${code}`);
    for (const code of invalid) assert.equal(isValidCloseCode(code), false, `${code}`);
  });

  it("allows only integers: a close code is a 2-byte unsigned integer", () => {
    const invalid = [1000.5, 1001.000001, 3000.7, 4999.9, Number.NaN, Number.POSITIVE_INFINITY];
    for (const code of invalid) assert.equal(isValidCloseCode(code), false, `${code}`);
    assert.equal(isValidCloseCode("1000" as never), false);
    assert.equal(isValidCloseCode(3000.0), true);
  });

  it("describes frames", () => {
    assert.equal(new Frame(Opcode.TEXT, utf8("Hello")).toString(), "TEXT FIN [5 bytes]");
    assert.equal(new Frame(Opcode.CONT, utf8("x"), false, true).toString(), "CONT RSV1 [1 bytes]");
    assert.equal(
      new Frame(Opcode.PING, utf8(""), true, false, true, true).toString(),
      "PING FIN RSV2 RSV3 [0 bytes]",
    );
  });
});

describe("Close", () => {
  it("parses and serializes code and reason", () => {
    const close = Close.parse(hex("03 e8 62 79 65"));
    assert.equal(close.code, 1000);
    assert.equal(close.reason, "bye");
    assert.equal(toHex(close.serialize()), "03e8627965");
    assert.equal(String(close), "1000 (OK) bye");
    assert.equal(String(new Close(1009, "")), "1009 (message too big)");
  });

  it("keeps a reason's leading U+FEFF, as sent", () => {
    // A decoder that strips a byte order mark would report "bye".
    const close = Close.parse(hex("03 e8 ef bb bf 62 79 65"));
    assert.equal(close.reason, "\ufeffbye");
    assert.equal(toHex(close.serialize()), "03e8efbbbf627965");
  });

  it("reads an empty payload as 1005", () => {
    const close = Close.parse(new Uint8Array(0));
    assert.equal(close.code, CloseCode.NO_STATUS_RCVD);
    assert.equal(close.reason, "");
  });

  it("rejects a 1-byte payload, invalid codes and invalid UTF-8", () => {
    assert.throws(
      () => Close.parse(hex("03")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1002,
    );
    assert.throws(
      () => Close.parse(hex("03 ed")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1002,
    );
    assert.throws(
      () => Close.parse(hex("03 e8 ce ba e1 bd b9 ed a0 80")),
      (e: unknown) => e instanceof ProtocolError && e.closeCode === 1007,
    );
  });

  it("refuses to serialize codes that may not be sent and reasons over 123 bytes", () => {
    assert.throws(() => new Close(1005, "").serialize(), InvalidState);
    // Not truncated to 3000 (0b b8) on the wire.
    assert.throws(() => new Close(3000.7, "").serialize(), /invalid close code: 3000\.7/);
    assert.throws(() => new Close(1000, "x".repeat(124)).serialize(), /123 bytes/);
    assert.equal(new Close(1000, "x".repeat(123)).serialize().length, 125);
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
