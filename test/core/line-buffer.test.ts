import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { InvalidMessage } from "../../src/core/errors.js";
import { LineBuffer } from "../../src/core/line-buffer.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, splits, toHex } from "../helpers/bytes.js";

/** The error a caller builds for a line over its limit. */
const tooLong = () => new InvalidMessage("test line too long", 431);

/** A reader holding `chunks`. */
function readerOf(...chunks: Uint8Array[]): StreamReader {
  const reader = new StreamReader();
  for (const chunk of chunks) reader.feedData(chunk);
  return reader;
}

/** Reads every complete line of `chunks`, fed one at a time, as hex. */
function readLines(chunks: readonly Uint8Array[], maxLength = 64): string[] {
  const reader = new StreamReader();
  const lines = new LineBuffer();
  const out: string[] = [];
  for (const chunk of chunks) {
    reader.feedData(chunk);
    let line = lines.read(reader, maxLength, tooLong);
    while (line !== null) {
      out.push(toHex(line));
      line = lines.read(reader, maxLength, tooLong);
    }
  }
  return out;
}

describe("LineBuffer", () => {
  it("reads a CRLF-terminated line without its CRLF", () => {
    const reader = readerOf(hex("61 62 0d 0a"));
    const lines = new LineBuffer();
    assert.equal(toHex(lines.read(reader, 64, tooLong)!), "6162");
    assert.equal(reader.length, 0);
    assert.ok(lines.isEmpty);
  });

  it("reads the empty line as an empty array", () => {
    const line = new LineBuffer().read(readerOf(hex("0d 0a")), 64, tooLong);
    assert.ok(line !== null);
    assert.equal(line.length, 0);
  });

  it("leaves the bytes after the line in the reader", () => {
    const reader = readerOf(hex("61 0d 0a 81 05"));
    assert.equal(toHex(new LineBuffer().read(reader, 64, tooLong)!), "61");
    assert.equal(toHex(reader.readAll()), "8105");
  });

  it("returns null for an incomplete line and holds its bytes until the rest arrives", () => {
    const reader = readerOf(hex("47 45"));
    const lines = new LineBuffer();
    assert.ok(lines.isEmpty);
    assert.equal(lines.read(reader, 64, tooLong), null);
    assert.equal(reader.length, 0, "the incomplete line moved out of the reader");
    assert.equal(lines.isEmpty, false);
    reader.feedData(hex("54 0d"));
    assert.equal(lines.read(reader, 64, tooLong), null);
    reader.feedData(hex("0a 58"));
    assert.equal(toHex(lines.read(reader, 64, tooLong)!), "474554");
    assert.ok(lines.isEmpty);
    assert.equal(toHex(reader.readAll()), "58");
  });

  it("returns null on an empty reader, holding nothing", () => {
    const lines = new LineBuffer();
    assert.equal(lines.read(new StreamReader(), 64, tooLong), null);
    assert.ok(lines.isEmpty);
  });

  it("joins a CR and its LF that arrive apart", () => {
    const reader = readerOf(hex("0d"));
    const lines = new LineBuffer();
    assert.equal(lines.read(reader, 64, tooLong), null);
    reader.feedData(hex("0a"));
    assert.equal(lines.read(reader, 64, tooLong)?.length, 0);
  });

  it("reads the same lines however the bytes are split", () => {
    const head = hex("47 45 54 20 2f 0d 0a 48 3a 20 e9 0d 0a 0d 0a");
    for (const chunks of splits(head)) {
      assert.deepEqual(readLines(chunks), ["474554202f", "483a20e9", ""]);
    }
  });

  it("keeps every octet of a line, obs-text and NUL included", () => {
    assert.deepEqual(readLines([hex("00 7f 80 ff 0d 0a")]), ["007f80ff"]);
  });

  it("refuses a line that ends with a bare LF", () => {
    for (const data of [hex("61 0a"), hex("0a"), hex("61 0d 62 0a")]) {
      assert.throws(() => new LineBuffer().read(readerOf(data), 64, tooLong), {
        name: "InvalidMessage",
        message: "line ends with a bare LF",
        status: 400,
      });
    }
  });

  it("refuses a bare LF after the held start of a line", () => {
    const reader = readerOf(hex("61 62"));
    const lines = new LineBuffer();
    assert.equal(lines.read(reader, 64, tooLong), null);
    reader.feedData(hex("0a"));
    assert.throws(() => lines.read(reader, 64, tooLong), {
      name: "InvalidMessage",
      message: "line ends with a bare LF",
    });
  });

  it("counts the CRLF in maxLength", () => {
    assert.equal(toHex(new LineBuffer().read(readerOf(hex("61 62 0d 0a")), 4, tooLong)!), "6162");
    assert.throws(() => new LineBuffer().read(readerOf(hex("61 62 63 0d 0a")), 4, tooLong), {
      name: "InvalidMessage",
      message: "test line too long",
      status: 431,
    });
  });

  it("throws the error the caller builds, and builds it only for a line too long", () => {
    let built = 0;
    const error = new InvalidMessage("mine", 414);
    const build = () => {
      built++;
      return error;
    };
    const lines = new LineBuffer();
    assert.equal(toHex(lines.read(readerOf(hex("61 0d 0a")), 3, build)!), "61");
    assert.equal(built, 0);
    assert.throws(
      () => lines.read(readerOf(hex("61 62 0d 0a")), 3, build),
      (thrown) => thrown === error,
    );
    assert.equal(built, 1);
  });

  it("counts the held bytes against maxLength", () => {
    // At the limit: 2 held, then CRLF.
    const reader = readerOf(hex("61 62"));
    const lines = new LineBuffer();
    assert.equal(lines.read(reader, 4, tooLong), null);
    reader.feedData(hex("0d 0a"));
    assert.equal(toHex(lines.read(reader, 4, tooLong)!), "6162");
    // One over: 3 held, then CRLF.
    const over = readerOf(hex("61 62 63"));
    const more = new LineBuffer();
    assert.equal(more.read(over, 4, tooLong), null);
    over.feedData(hex("0d 0a"));
    assert.throws(() => more.read(over, 4, tooLong), { message: "test line too long" });
  });

  it("refuses an incomplete line as soon as it exceeds maxLength, before its end arrives", () => {
    const lines = new LineBuffer();
    const reader = readerOf(hex("61 62 63 64"));
    // 4 bytes without an LF are not over a limit of 4 yet: the error comes with the next byte.
    assert.equal(lines.read(reader, 4, tooLong), null);
    reader.feedData(hex("65"));
    assert.throws(() => lines.read(reader, 4, tooLong), { message: "test line too long" });
    // In one read, too.
    assert.throws(() => new LineBuffer().read(readerOf(hex("61 62 63 64 65")), 4, tooLong), {
      message: "test line too long",
    });
  });

  it("reads a line of exactly maxLength bytes fed one byte at a time", () => {
    const line = concat([new Uint8Array(98).fill(0x78), hex("0d 0a")]);
    assert.deepEqual(readLines([...splits(line)].at(-1)!, 100), ["78".repeat(98)]);
    assert.throws(() => readLines([...splits(line)].at(-1)!, 99), {
      message: "test line too long",
    });
  });

  it("passes on errors other than a line too long from the reader", () => {
    const failing = {
      readLine(): never {
        throw new TypeError("reader broke");
      },
    } as unknown as StreamReader;
    assert.throws(() => new LineBuffer().read(failing, 64, tooLong), {
      name: "TypeError",
      message: "reader broke",
    });
  });
});
