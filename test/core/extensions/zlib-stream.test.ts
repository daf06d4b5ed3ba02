import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zlib from "node:zlib";
import {
  detectNativeHandle,
  type NativeHandle,
  type NativeHandleConstructor,
  NativeZlibStream,
  nativeStreamsAvailable,
  OneShotZlibStream,
  openZlibStream,
  useNativeStreams,
  ZlibOutputTooLarge,
  type ZlibStream,
  type ZlibStreamOptions,
} from "../../../src/core/extensions/zlib-stream.js";
import { concat, hex, toHex, utf8 } from "../../helpers/bytes.js";

const SYNC_FLUSH = { finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
const TAIL = hex("00 00 ff ff");

function options(overrides: Partial<ZlibStreamOptions> = {}): ZlibStreamOptions {
  return {
    direction: "deflate",
    windowBits: 15,
    level: -1,
    memLevel: 8,
    dictionary: new Uint8Array(0),
    ...overrides,
  };
}

const Native = detectNativeHandle();

/** Both kinds of stream, for tests that hold for either. */
const kinds: [name: string, open: (options: ZlibStreamOptions) => ZlibStream][] = [
  ["NativeZlibStream", (o) => new NativeZlibStream(Native as NativeHandleConstructor, o)],
  ["OneShotZlibStream", (o) => new OneShotZlibStream(o)],
];

describe("native zlib handle", () => {
  it("is found and works on this Node", () => {
    assert.notEqual(Native, null);
    assert.equal(nativeStreamsAvailable(), true);
    assert.ok(openZlibStream(options()) instanceof NativeZlibStream);
  });

  it("is not used on Node versions it was not checked against", () => {
    assert.equal(detectNativeHandle("19.9.0"), null);
    assert.equal(detectNativeHandle("25.0.0"), null);
  });

  it("is not used when the stream has no handle with the expected methods", () => {
    assert.equal(
      detectNativeHandle(undefined, () => {
        throw new Error("no zlib");
      }),
      null,
    );
    assert.equal(
      detectNativeHandle(undefined, () => ({})),
      null,
    );
    assert.equal(
      detectNativeHandle(undefined, () => ({ _handle: { init() {}, writeSync() {} } })),
      null,
    );
  });

  /** A handle that writes `output(mode, input)` whatever it is given. */
  function fakeHandle(output: (mode: number, input: Uint8Array) => Uint8Array): object {
    class FakeHandle implements NativeHandle {
      onerror: NativeHandle["onerror"];
      private state: Uint32Array = new Uint32Array(2);
      constructor(private readonly mode: number) {}
      init(_w: number, _l: number, _m: number, _s: number, state: Uint32Array): void {
        this.state = state;
      }
      writeSync(
        _flush: number,
        input: Uint8Array,
        inputOffset: number,
        inputLength: number,
        out: Uint8Array,
        outOffset: number,
        outLength: number,
      ): void {
        const bytes = output(this.mode, input.subarray(inputOffset, inputOffset + inputLength));
        out.set(bytes, outOffset);
        this.state[0] = outLength - bytes.length;
        this.state[1] = 0;
      }
      reset(): void {}
      close(): void {}
    }
    return { _handle: new FakeHandle(zlib.constants.DEFLATERAW), close() {} };
  }

  it("is not used when it does not compress as zlib does", () => {
    assert.equal(
      detectNativeHandle(undefined, () => fakeHandle((_mode, input) => input)),
      null,
    );
  });

  it("is not used when it does not decompress as zlib does", () => {
    const compressed = hex("f2 48 cd c9 c9 07 00 00 00 ff ff");
    const deflateOnly = (mode: number) =>
      mode === zlib.constants.DEFLATERAW ? compressed : utf8("Hullo");
    assert.equal(
      detectNativeHandle(undefined, () => fakeHandle(deflateOnly)),
      null,
    );
    const both = (mode: number) =>
      mode === zlib.constants.DEFLATERAW ? compressed : utf8("Hello");
    assert.notEqual(
      detectNativeHandle(undefined, () => fakeHandle(both)),
      null,
    );
  });

  describe("turned off", () => {
    after(() => useNativeStreams(true));

    it("gives one-shot streams", () => {
      assert.equal(useNativeStreams(false), true);
      assert.equal(nativeStreamsAvailable(), false);
      assert.ok(openZlibStream(options()) instanceof OneShotZlibStream);
      assert.equal(useNativeStreams(true), false);
      assert.equal(nativeStreamsAvailable(), true);
    });
  });
});

for (const [name, open] of kinds) {
  describe(name, () => {
    it("compresses 'Hello' as RFC 7692 §7.2.3.1 shows, with a sync flush", () => {
      const stream = open(options());
      assert.equal(toHex(stream.write([utf8("Hello")], Infinity)), "f248cdc9c907000000ffff");
      stream.close();
    });

    it("compresses as zlib does with a preset dictionary", () => {
      const dictionary = utf8("Hello, world");
      const stream = open(options({ dictionary, windowBits: 12, level: 9, memLevel: 3 }));
      const expected = zlib.deflateRawSync(utf8("Hello"), {
        ...SYNC_FLUSH,
        dictionary,
        windowBits: 12,
        level: 9,
        memLevel: 3,
      });
      assert.equal(toHex(stream.write([utf8("Hello")], Infinity)), toHex(expected));
      assert.equal(stream.resettable, false);
      stream.close();
    });

    it("decompresses inputs given in several parts, with a dictionary", () => {
      const dictionary = utf8("Hello");
      const compressed = zlib.deflateRawSync(utf8("Hello Hello"), { ...SYNC_FLUSH, dictionary });
      const stream = open(options({ direction: "inflate", dictionary }));
      const parts = [compressed.subarray(0, 2), new Uint8Array(0), compressed.subarray(2)];
      assert.equal(new TextDecoder().decode(stream.write(parts, Infinity)), "Hello Hello");
      stream.close();
    });

    it("returns output larger than its scratch buffer in a buffer of its own", () => {
      const plain = new Uint8Array(100_000).map((_, i) => i % 251);
      const compressed = zlib.deflateRawSync(plain, SYNC_FLUSH);
      const stream = open(options({ direction: "inflate" }));
      const output = stream.write([compressed], Infinity);
      assert.equal(toHex(output), toHex(plain));
      assert.equal(output.buffer.byteLength, plain.length);
      stream.close();
    });

    it("gives short output a buffer of its own", () => {
      const stream = open(options({ direction: "inflate" }));
      const output = stream.write([hex("f2 48 cd c9 c9 07 00"), TAIL], Infinity);
      assert.equal(output.buffer.byteLength, 5);
      stream.close();
    });

    it("stops at the output limit", () => {
      const zeros = zlib.deflateRawSync(new Uint8Array(50_000), SYNC_FLUSH);
      for (const limit of [50_000, 49_999, 20_000, 0]) {
        const stream = open(options({ direction: "inflate" }));
        if (limit >= 50_000) {
          assert.equal(stream.write([zeros], limit).length, 50_000);
        } else {
          assert.throws(
            () => stream.write([zeros], limit),
            (error) => error instanceof ZlibOutputTooLarge && error.limit === limit,
          );
        }
        stream.close();
      }
      const empty = open(options({ direction: "inflate" }));
      assert.equal(empty.write([hex("00"), TAIL], 0).length, 0);
      empty.close();
      const oneByte = open(options({ direction: "inflate" }));
      assert.throws(() => oneByte.write([hex("4a 04 00"), TAIL], 0), ZlibOutputTooLarge);
      oneByte.close();
    });

    it("fails on corrupt data with zlib's message", () => {
      const stream = open(options({ direction: "inflate" }));
      assert.throws(() => stream.write([hex("ff ff ff"), TAIL], Infinity), /invalid/);
      stream.close();
    });
  });
}

describe("OneShotZlibStream", () => {
  it("is good for one write, and has nothing to reset", () => {
    const stream = new OneShotZlibStream(options());
    assert.equal(stream.resettable, false);
    assert.equal(stream.continuable, false, "zlib's state is gone after each write");
    stream.reset();
    assert.equal(stream.ended, false);
  });
});

describe("NativeZlibStream", () => {
  const open = (o: ZlibStreamOptions) => new NativeZlibStream(Native as NativeHandleConstructor, o);

  it("keeps the context from one write to the next (RFC 7692 §7.2.3.2)", () => {
    const deflater = open(options());
    assert.equal(toHex(deflater.write([utf8("Hello")], Infinity)), "f248cdc9c907000000ffff");
    assert.equal(toHex(deflater.write([utf8("Hello")], Infinity)), "f2001100000000ffff");
    const inflater = open(options({ direction: "inflate" }));
    assert.equal(
      toHex(inflater.write([hex("f2 48 cd c9 c9 07 00"), TAIL], 10)),
      toHex(utf8("Hello")),
    );
    assert.equal(toHex(inflater.write([hex("f2 00 11 00 00"), TAIL], 10)), toHex(utf8("Hello")));
    deflater.close();
    inflater.close();
  });

  it("continues a stream cut anywhere, even inside a DEFLATE block, from one write to the next", () => {
    const message = utf8("Hello, Hello, Hello! ".repeat(20));
    const compressed = concat([zlib.deflateRawSync(message, SYNC_FLUSH)]);
    const inflater = open(options({ direction: "inflate" }));
    assert.equal(inflater.continuable, true);
    const outputs: Uint8Array[] = [];
    // Cuts at bytes 1 and 2 fall inside the fixed Huffman block's codes.
    for (const [start, end] of [
      [0, 1],
      [1, 2],
      [2, 2],
      [2, compressed.length],
    ] as const) {
      outputs.push(inflater.write([compressed.subarray(start, end)], Infinity));
    }
    assert.equal(toHex(concat(outputs)), toHex(message));
    assert.equal(outputs[2]!.length, 0, "an empty write outputs nothing");
    inflater.close();
  });

  it("takes writes after the compressed stream ended without throwing, ignoring them", () => {
    const inflater = open(options({ direction: "inflate" }));
    // BFINAL ends the stream exactly at the end of the first write.
    assert.equal(
      toHex(inflater.write([hex("f3 48 cd c9 c9 07 00")], Infinity)),
      toHex(utf8("Hello")),
    );
    assert.equal(inflater.write([new Uint8Array(0)], Infinity).length, 0);
    assert.equal(inflater.write([hex("ff ff ff"), TAIL], Infinity).length, 0);
    assert.equal(inflater.ended, true);
    assert.equal(inflater.write([hex("ff ff ff")], Infinity).length, 0);
    inflater.close();
  });

  it("refuses settings zlib refuses, rather than let Node abort", () => {
    for (const bad of [
      { windowBits: 8 },
      { windowBits: 16 },
      { level: 10 },
      { level: 1.5 },
      { memLevel: 0 },
    ]) {
      assert.throws(() => open(options(bad)), RangeError);
      assert.throws(() => open(options({ ...bad, direction: "inflate" })), RangeError);
    }
  });

  it("starts afresh when reset", () => {
    const deflater = open(options());
    assert.equal(deflater.resettable, true);
    deflater.write([utf8("Hello")], Infinity);
    deflater.reset();
    assert.equal(toHex(deflater.write([utf8("Hello")], Infinity)), "f248cdc9c907000000ffff");
    deflater.close();
  });

  it("writes nothing for an empty input right after a flush", () => {
    const deflater = open(options());
    deflater.write([utf8("Hello")], Infinity);
    assert.equal(deflater.write([new Uint8Array(0)], Infinity).length, 0);
    deflater.close();
  });

  it("says when the compressed stream ended (BFINAL, RFC 7692 §7.2.3.4), and ignores the rest", () => {
    const inflater = open(options({ direction: "inflate" }));
    const output = inflater.write(
      [hex("f3 48 cd c9 c9 07 00"), hex("00"), TAIL, hex("ff ff")],
      Infinity,
    );
    assert.equal(toHex(output), toHex(utf8("Hello")));
    assert.equal(inflater.ended, true);
    inflater.reset();
    assert.equal(inflater.ended, false);
    inflater.close();
    inflater.close();
  });

  it("decompresses what a zlib stream compresses over many writes", async () => {
    const deflate = zlib.createDeflateRaw({ windowBits: 10 });
    const inflater = open(options({ direction: "inflate", windowBits: 10 }));
    try {
      for (let i = 0; i < 20; i++) {
        const message = utf8(`${i}: ${"abcdefghij".repeat(i * 10)} ${i}`);
        const chunks: Buffer[] = [];
        const onData = (chunk: Buffer) => chunks.push(chunk);
        deflate.on("data", onData);
        deflate.write(message);
        await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
        deflate.off("data", onData);
        assert.equal(toHex(inflater.write([concat(chunks)], Infinity)), toHex(message));
      }
    } finally {
      deflate.close();
      inflater.close();
    }
  });
});
