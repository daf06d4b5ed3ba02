import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import { concat, hex, toHex, utf8 } from "../helpers/bytes.js";
import {
  HEL,
  HELLO_MASKED,
  HELLO_UNMASKED,
  LO,
  PING_HELLO,
  PONG_HELLO_MASKED,
  parseOne,
} from "../helpers/frames.js";

const MASK = hex("37 fa 21 3d");

describe("RFC 6455 §5.7 examples", () => {
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
