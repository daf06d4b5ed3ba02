import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PayloadTooBig } from "../../src/core/errors.js";
import { StreamReader } from "../../src/core/streams.js";
import { hex, toHex, utf8 } from "../helpers/bytes.js";

describe("StreamReader", () => {
  it("reads exact lengths within and across chunks", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01 02 03"));
    reader.feedData(new Uint8Array(0));
    reader.feedData(hex("04 05"));
    assert.equal(reader.length, 5);
    assert.equal(reader.readExact(6), null);
    assert.equal(toHex(reader.readExact(0)!), "");
    assert.equal(toHex(reader.readExact(2)!), "0102");
    assert.equal(toHex(reader.readExact(2)!), "0304");
    assert.equal(reader.peekByte(0), 5);
    assert.throws(() => reader.peekByte(1), RangeError);
    assert.equal(toHex(reader.readAll()), "05");
  });

  it("returns views into a chunk instead of copies", () => {
    const chunk = hex("01 02 03 04");
    const reader = new StreamReader();
    reader.feedData(chunk);
    const view = reader.readExact(2)!;
    assert.equal(view.buffer, chunk.buffer);
  });

  it("peeks and discards across chunks", () => {
    const reader = new StreamReader();
    reader.feedData(hex("01"));
    reader.feedData(hex("02 03"));
    assert.equal(reader.peekByte(2), 3);
    reader.discard(2);
    assert.equal(toHex(reader.readAll()), "03");
  });

  it("reads lines split across chunks, CRLF included", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("GET / HT"));
    assert.equal(reader.readLine(100), null);
    reader.feedData(utf8("TP/1.1\r"));
    assert.equal(reader.readLine(100), null);
    reader.feedData(utf8("\nHost"));
    assert.equal(new TextDecoder().decode(reader.readLine(100)!), "GET / HTTP/1.1\r\n");
    assert.equal(reader.length, 4);
  });

  it("refuses lines over the limit, ended or not", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("abcdef\r\n"));
    assert.throws(() => reader.readLine(7), PayloadTooBig);
    assert.equal(reader.readLine(8)!.length, 8);
    reader.feedData(utf8("abc"));
    reader.feedData(utf8("def"));
    assert.throws(() => reader.readLine(5), PayloadTooBig);
  });

  it("reads to the end of the stream once it ended", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("body"));
    assert.equal(reader.readToEof(10), null);
    assert.equal(reader.atEof, false);
    reader.feedEof();
    assert.equal(reader.atEof, true);
    assert.equal(new TextDecoder().decode(reader.readToEof(10)!), "body");
    assert.throws(() => reader.feedData(utf8("more")), /stream ended/);
  });

  it("refuses bodies over the limit", () => {
    const reader = new StreamReader();
    reader.feedData(utf8("too long"));
    assert.throws(() => reader.readToEof(4), PayloadTooBig);
  });
});
