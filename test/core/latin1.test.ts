import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";

import { latin1Decode, latin1Encode } from "../../src/core/latin1.js";
import { hex, toHex } from "../helpers/bytes.js";

/** Every octet, 00 to ff. */
const ALL_OCTETS = Uint8Array.from({ length: 256 }, (_, i) => i);
/** U+0000 to U+00FF. */
const ALL_CHARACTERS = String.fromCharCode(...ALL_OCTETS);

describe("latin1Decode", () => {
  it("decodes each octet to the character of the same code", () => {
    assert.equal(latin1Decode(ALL_OCTETS), ALL_CHARACTERS);
  });

  it("decodes an HTTP line", () => {
    assert.equal(latin1Decode(hex("48 6f 73 74 3a 20 68")), "Host: h");
  });

  it("decodes nothing to the empty string", () => {
    assert.equal(latin1Decode(new Uint8Array(0)), "");
    assert.equal(latin1Decode(hex("61 62").subarray(1, 1)), "");
  });

  it("doesn't decode UTF-8: each octet of a sequence is a character", () => {
    assert.equal(latin1Decode(hex("63 61 66 c3 a9")), "caf\u00c3\u00a9");
    assert.equal(latin1Decode(hex("e2 82 ac")), "\u00e2\u0082\u00ac");
  });

  it("decodes only the bytes of a view, not the rest of its buffer", () => {
    const whole = hex("41 42 43 44 45");
    assert.equal(latin1Decode(whole.subarray(1, 3)), "BC");
    assert.equal(latin1Decode(whole.subarray(4)), "E");
    assert.equal(latin1Decode(new Uint8Array(whole.buffer, 2, 2)), "CD");
  });

  it("decodes a Buffer from Node's shared pool", () => {
    const pooled = Buffer.from("xyz", "latin1");
    assert.equal(latin1Decode(pooled), "xyz");
  });
});

describe("latin1Encode", () => {
  it("encodes each character up to U+00FF to one octet of the same value", () => {
    assert.equal(toHex(latin1Encode(ALL_CHARACTERS)), toHex(ALL_OCTETS));
  });

  it("encodes obs-text as one octet, not UTF-8", () => {
    assert.equal(toHex(latin1Encode("caf\u00e9")), "636166e9");
    assert.equal(toHex(latin1Encode("\u00ff\u0080")), "ff80");
  });

  it("encodes the empty string to no bytes", () => {
    assert.equal(latin1Encode("").length, 0);
  });

  it("returns a plain Uint8Array, not a Buffer, with exactly the string's octets", () => {
    const encoded = latin1Encode("GET / HTTP/1.1\r\n");
    assert.equal(Object.getPrototypeOf(encoded), Uint8Array.prototype);
    assert.equal(encoded.length, 16);
    assert.equal(toHex(encoded.slice(-2)), "0d0a");
  });

  it("round-trips with latin1Decode", () => {
    assert.equal(latin1Decode(latin1Encode(ALL_CHARACTERS)), ALL_CHARACTERS);
    assert.equal(toHex(latin1Encode(latin1Decode(ALL_OCTETS))), toHex(ALL_OCTETS));
  });
});
