import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SlidingWindow } from "../../../src/core/extensions/sliding-window.js";
import { concat, toHex, utf8 } from "../../helpers/bytes.js";

describe("SlidingWindow", () => {
  it("holds nothing, and no memory, until something is appended", () => {
    const window = new SlidingWindow(8);
    assert.equal(window.data.length, 0);
    window.append(new Uint8Array(0));
    assert.equal(window.data.buffer.byteLength, 0);
  });

  it("keeps the last bytes up to its capacity", () => {
    const window = new SlidingWindow(8);
    window.append(utf8("abc"));
    assert.equal(toHex(window.data), toHex(utf8("abc")));
    window.append(utf8("defgh"));
    assert.equal(toHex(window.data), toHex(utf8("abcdefgh")));
    window.append(utf8("ij"));
    assert.equal(toHex(window.data), toHex(utf8("cdefghij")));
    window.append(utf8("0123456789"));
    assert.equal(toHex(window.data), toHex(utf8("23456789")));
  });

  it("copies what it is given", () => {
    const window = new SlidingWindow(8);
    const bytes = utf8("abc");
    window.append(bytes);
    bytes.fill(0);
    assert.equal(toHex(window.data), toHex(utf8("abc")));
  });

  it("releases its memory when cleared", () => {
    const window = new SlidingWindow(8);
    window.append(utf8("abc"));
    window.clear();
    assert.equal(window.data.length, 0);
    assert.equal(window.data.buffer.byteLength, 0);
    window.append(utf8("d"));
    assert.equal(toHex(window.data), toHex(utf8("d")));
  });

  it("always holds the tail of everything appended", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }),
        (capacity, chunks) => {
          const window = new SlidingWindow(capacity);
          for (const chunk of chunks) window.append(chunk);
          const all = concat(chunks);
          assert.equal(toHex(window.data), toHex(all.subarray(Math.max(0, all.length - capacity))));
        },
      ),
    );
  });
});
