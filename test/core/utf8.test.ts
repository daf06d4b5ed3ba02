import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isValidUtf8, Utf8Validator } from "../../src/core/utf8.js";
import { hex, utf8 } from "../helpers/bytes.js";

/** The reference: WHATWG's streaming decoder reports errors at the first byte that makes them certain. */
function referenceResults(fragments: Uint8Array[]): boolean[] {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const results: boolean[] = [];
  let failed = false;
  fragments.forEach((fragment, index) => {
    if (!failed) {
      try {
        decoder.decode(fragment, { stream: index < fragments.length - 1 });
      } catch {
        failed = true;
      }
    }
    results.push(!failed);
  });
  return results;
}

function validatorResults(fragments: Uint8Array[]): boolean[] {
  const validator = new Utf8Validator();
  const results: boolean[] = [];
  let failed = false;
  fragments.forEach((fragment, index) => {
    if (!failed && !validator.feed(fragment, index === fragments.length - 1)) failed = true;
    results.push(!failed);
  });
  return results;
}

function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const fragments: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    fragments.push(data.subarray(start, point));
    start = point;
  }
  fragments.push(data.subarray(start));
  return fragments;
}

describe("Utf8Validator", () => {
  it("accepts a code point split across fragments at every position", () => {
    const text = utf8("κόσμε 𝄞 €");
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const fragments = [text.subarray(0, i), text.subarray(i, j), text.subarray(j)];
        assert.deepEqual(validatorResults(fragments), [true, true, true], `${i} ${j}`);
      }
    }
  });

  it("keeps a copy of a split code point's start, not a view of a Buffer's memory", () => {
    // Buffer's slice() is a view: the memory of a read may be reused after feed() returns.
    const memory = Buffer.from(utf8("ab€"));
    const validator = new Utf8Validator();
    assert.equal(validator.feed(memory.subarray(0, 3), false), true);
    memory.fill(0x41);
    assert.equal(validator.feed(hex("82 ac"), true), true);
  });

  it("fails at the fragment where the sequence becomes invalid, not at the end", () => {
    // Autobahn 6.4.1: "κόσμε" then F4 90 80 80 (above U+10FFFF) then more text.
    const fragments = [utf8("κόσμε"), hex("f4 90 80 80"), utf8("edited")];
    assert.deepEqual(validatorResults(fragments), [true, false, false]);
    // The invalid prefix F4 90 is enough to fail, before its last bytes arrive.
    assert.deepEqual(validatorResults([hex("f4"), hex("90"), hex("80 80")]), [true, false, false]);
  });

  it("rejects surrogates and overlong forms from their second byte", () => {
    assert.deepEqual(validatorResults([hex("ed"), hex("a0"), hex("80")]), [true, false, false]);
    assert.deepEqual(validatorResults([hex("e0"), hex("80"), hex("80")]), [true, false, false]);
    assert.deepEqual(validatorResults([hex("f0"), hex("80"), hex("80 80")]), [true, false, false]);
    assert.deepEqual(validatorResults([hex("c0 80")]), [false]);
  });

  it("rejects a message that ends inside a code point", () => {
    assert.deepEqual(validatorResults([utf8("a"), hex("e2 82")]), [true, false]);
    assert.deepEqual(validatorResults([hex("e2"), hex("82")]), [true, false]);
  });

  it("carries a partial code point through empty and short fragments", () => {
    assert.deepEqual(validatorResults([hex("f0"), hex(""), hex("9d"), hex("84"), hex("9e")]), [
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it("starts over after reset()", () => {
    const validator = new Utf8Validator();
    assert.equal(validator.feed(hex("e2 82"), false), true);
    validator.reset();
    assert.equal(validator.feed(utf8("ok"), true), true);
  });

  it("agrees with the WHATWG decoder on random bytes and random fragmentations", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.string({ unit: "binary", maxLength: 20 }).map((s) => utf8(s)),
          fc
            .tuple(
              fc.string({ unit: "binary", maxLength: 10 }),
              fc.uint8Array({ maxLength: 4 }),
              fc.string({ unit: "binary", maxLength: 10 }),
            )
            .map(([a, b, c]) => new Uint8Array([...utf8(a), ...b, ...utf8(c)])),
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        (data, cuts) => {
          const fragments = splitAt(data, cuts);
          assert.deepEqual(validatorResults(fragments), referenceResults(fragments));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("isValidUtf8", () => {
  it("validates whole messages", () => {
    assert.equal(isValidUtf8(utf8("Hello-µ@ßöäüàá-UTF-8!!")), true);
    assert.equal(isValidUtf8(hex("ce ba e1 bd b9 ed a0 80 65 64 69 74 65 64")), false);
  });
});
