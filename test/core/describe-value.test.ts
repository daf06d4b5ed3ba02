import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeValue, kindOf, numberOptionError } from "../../src/core/describe-value.js";

describe("kindOf", () => {
  it("names the kind of a value, with the article it is read with", () => {
    assert.equal(kindOf(null), "null");
    assert.equal(kindOf(undefined), "undefined");
    assert.equal(kindOf(42), "a number");
    assert.equal(kindOf(1n), "a bigint");
    assert.equal(kindOf(Symbol("s")), "a symbol");
    assert.equal(
      kindOf(() => {}),
      "a function",
    );
    assert.equal(kindOf({}), "an Object");
    assert.equal(kindOf([]), "an Array");
    assert.equal(kindOf(new Error("x")), "an Error");
    // U reads "you": not "an".
    assert.equal(kindOf(new Uint16Array(1)), "a Uint16Array");
    assert.equal(kindOf(new URL("ws://h/")), "a URL");
    assert.equal(kindOf(new Map()), "a Map");
    assert.equal(kindOf(Object.create(null)), "an object");
    assert.equal(kindOf({ constructor: { name: "" } }), "an object");
  });
});

describe("describeValue", () => {
  it("shows numbers as they are, strings quoted, and the kind of the rest", () => {
    assert.equal(describeValue(0), "0");
    assert.equal(describeValue(Number.NaN), "NaN");
    assert.equal(describeValue(-1.5), "-1.5");
    assert.equal(describeValue("100"), '"100"');
    assert.equal(describeValue('say "hi"'), '"say \\"hi\\""');
    assert.equal(describeValue(null), "null");
    assert.equal(describeValue([1]), "an Array");
  });
});

describe("numberOptionError", () => {
  it("is a RangeError for a number out of range, a TypeError for anything else", () => {
    for (const value of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = numberOptionError(value, "size must be from 0");
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "size must be from 0");
    }
    for (const value of ["100", true, null, undefined, 1n, {}]) {
      const error = numberOptionError(value, "size must be from 0");
      assert.ok(error instanceof TypeError && !(error instanceof RangeError));
      assert.equal(error.message, "size must be from 0");
    }
  });
});
