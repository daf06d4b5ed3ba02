import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { EMPTY_WINDOW, slideWindow } from "../../../src/core/extensions/sliding-window.js";
import { concat, toHex, utf8 } from "../../helpers/bytes.js";

/** The window after each of `chunks` went through, with a capacity of `capacity`. */
function after(chunks: readonly Uint8Array[], capacity: number): Uint8Array {
  return chunks.reduce((window, chunk) => slideWindow(window, chunk, capacity), EMPTY_WINDOW);
}

describe("slideWindow", () => {
  it("starts from an empty window that holds no memory, and leaves it so", () => {
    assert.equal(EMPTY_WINDOW.buffer.byteLength, 0);
    assert.equal(slideWindow(EMPTY_WINDOW, new Uint8Array(0), 8), EMPTY_WINDOW);
    assert.equal(after([utf8("abc")], 8).length, 3);
    assert.equal(EMPTY_WINDOW.length, 0);
  });

  it("keeps the last bytes up to its capacity", () => {
    let window = slideWindow(EMPTY_WINDOW, utf8("abc"), 8);
    assert.equal(toHex(window), toHex(utf8("abc")));
    window = slideWindow(window, utf8("defgh"), 8);
    assert.equal(toHex(window), toHex(utf8("abcdefgh")));
    window = slideWindow(window, utf8("ij"), 8);
    assert.equal(toHex(window), toHex(utf8("cdefghij")));
    window = slideWindow(window, utf8("0123456789"), 8);
    assert.equal(toHex(window), toHex(utf8("23456789")));
  });

  it("holds only the bytes seen, and reuses its memory once full", () => {
    let window = slideWindow(EMPTY_WINDOW, utf8("abc"), 8);
    assert.equal(window.buffer.byteLength, 3);
    window = slideWindow(window, utf8("de"), 8);
    assert.equal(window.buffer.byteLength, 5);
    window = slideWindow(window, utf8("fghij"), 8);
    assert.equal(toHex(window), toHex(utf8("cdefghij")));
    assert.equal(window.buffer.byteLength, 8);
    const full = window;
    window = slideWindow(window, utf8("k"), 8);
    assert.equal(window, full);
    assert.equal(toHex(window), toHex(utf8("defghijk")));
    window = slideWindow(window, utf8("0123456789"), 8);
    assert.equal(window, full);
    assert.equal(toHex(window), toHex(utf8("23456789")));
    assert.equal(toHex(slideWindow(utf8("ab"), utf8("0123456789"), 8)), toHex(utf8("23456789")));
  });

  it("copies what it is given", () => {
    const bytes = utf8("abc");
    const window = slideWindow(EMPTY_WINDOW, bytes, 8);
    bytes.fill(0);
    assert.equal(toHex(window), toHex(utf8("abc")));
  });

  it("always holds the tail of everything that went through", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }),
        (capacity, chunks) => {
          const all = concat(chunks);
          assert.equal(
            toHex(after(chunks, capacity)),
            toHex(all.subarray(Math.max(0, all.length - capacity))),
          );
        },
      ),
    );
  });
});
