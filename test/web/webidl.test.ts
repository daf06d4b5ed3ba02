/**
 * The WebIDL conversions (https://webidl.spec.whatwg.org/#es-type-mapping)
 * of the WebSocket interface's arguments and of its events' fields.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  toClampedUnsignedShort,
  toDOMString,
  toUnsignedLong,
  toUnsignedShort,
} from "../../src/web/webidl.js";

describe("toDOMString()", () => {
  it("converts as String() does", () => {
    assert.equal(toDOMString("text"), "text");
    assert.equal(toDOMString(42), "42");
    assert.equal(toDOMString(-0), "0");
    assert.equal(toDOMString(null), "null");
    assert.equal(toDOMString(undefined), "undefined");
    assert.equal(toDOMString(10n), "10");
    assert.equal(toDOMString(["a", "b"]), "a,b");
    assert.equal(toDOMString({ toString: () => "custom" }), "custom");
    assert.equal(toDOMString(new URL("ws://example.com/a")), "ws://example.com/a");
  });

  it("throws TypeError for a symbol, and what an object's conversion throws", () => {
    assert.throws(() => toDOMString(Symbol("s")), {
      name: "TypeError",
      message: "cannot convert a Symbol to a string",
    });
    const failure = new Error("no string for you");
    assert.throws(
      () =>
        toDOMString({
          toString() {
            throw failure;
          },
        }),
      (error) => error === failure,
    );
  });
});

describe("toUnsignedShort()", () => {
  it("wraps modulo 2^16", () => {
    assert.equal(toUnsignedShort(65537), 1);
    assert.equal(toUnsignedShort(-1), 65535);
    assert.equal(toUnsignedShort(65536 + 1001), 1001);
    assert.equal(toUnsignedShort(2 ** 53), 0);
  });

  it("truncates fractions toward zero", () => {
    assert.equal(toUnsignedShort(1.9), 1);
    assert.equal(toUnsignedShort(-1.9), 65535);
    assert.equal(Object.is(toUnsignedShort(-0.5), 0), true);
  });

  it("gives 0 for NaN and infinities, and converts other values with Number()", () => {
    assert.equal(toUnsignedShort(Number.NaN), 0);
    assert.equal(toUnsignedShort(Number.POSITIVE_INFINITY), 0);
    assert.equal(toUnsignedShort(Number.NEGATIVE_INFINITY), 0);
    assert.equal(toUnsignedShort(undefined), 0);
    assert.equal(toUnsignedShort("1000"), 1000);
    assert.equal(toUnsignedShort(" 0x10 "), 16);
    assert.equal(toUnsignedShort("many"), 0);
    assert.equal(toUnsignedShort(null), 0);
    assert.equal(toUnsignedShort(true), 1);
    assert.throws(() => toUnsignedShort(Symbol("s")), TypeError);
  });
});

describe("toUnsignedLong()", () => {
  it("wraps modulo 2^32 and truncates fractions toward zero", () => {
    assert.equal(toUnsignedLong(2 ** 32 + 5), 5);
    assert.equal(toUnsignedLong(-1), 2 ** 32 - 1);
    assert.equal(toUnsignedLong(2 ** 32 - 1), 2 ** 32 - 1);
    assert.equal(toUnsignedLong(3.99), 3);
    assert.equal(toUnsignedLong(-2.5), 2 ** 32 - 2);
  });

  it("gives 0 for NaN and infinities, and converts other values with Number()", () => {
    assert.equal(toUnsignedLong(Number.NaN), 0);
    assert.equal(toUnsignedLong(Number.POSITIVE_INFINITY), 0);
    assert.equal(toUnsignedLong(Number.NEGATIVE_INFINITY), 0);
    assert.equal(toUnsignedLong("4294967297"), 1);
    assert.equal(toUnsignedLong({ valueOf: () => 7 }), 7);
  });
});

describe("toClampedUnsignedShort()", () => {
  it("clamps to 0–65535", () => {
    assert.equal(toClampedUnsignedShort(-5), 0);
    assert.equal(toClampedUnsignedShort(70000), 65535);
    assert.equal(toClampedUnsignedShort(Number.POSITIVE_INFINITY), 65535);
    assert.equal(toClampedUnsignedShort(Number.NEGATIVE_INFINITY), 0);
    assert.equal(toClampedUnsignedShort(65535.5), 65535);
    assert.equal(toClampedUnsignedShort(1000), 1000);
  });

  it("rounds to the nearest integer, halves to the even one, never to -0", () => {
    assert.equal(toClampedUnsignedShort(2.5), 2);
    assert.equal(toClampedUnsignedShort(3.5), 4);
    assert.equal(toClampedUnsignedShort(0.5), 0);
    assert.equal(toClampedUnsignedShort(1.5), 2);
    assert.equal(toClampedUnsignedShort(3.4), 3);
    assert.equal(toClampedUnsignedShort(3.6), 4);
    assert.equal(toClampedUnsignedShort(999.5), 1000);
    assert.equal(toClampedUnsignedShort(1000.5), 1000);
    assert.equal(Object.is(toClampedUnsignedShort(-0.4), 0), true);
    assert.equal(Object.is(toClampedUnsignedShort(-0), 0), true);
  });

  it("gives 0 for NaN, and converts other values with Number()", () => {
    assert.equal(toClampedUnsignedShort(Number.NaN), 0);
    assert.equal(toClampedUnsignedShort(undefined), 0);
    assert.equal(toClampedUnsignedShort("nope"), 0);
    assert.equal(toClampedUnsignedShort("3000.5"), 3000);
    assert.equal(toClampedUnsignedShort(null), 0);
    assert.throws(() => toClampedUnsignedShort(Symbol("s")), TypeError);
  });
});
