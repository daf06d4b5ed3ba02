import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { ClientProtocol } from "../../src/core/client.js";
import { PayloadTooBig } from "../../src/core/errors.js";
import { Frame } from "../../src/core/frame.js";
import { FrameParser } from "../../src/core/frame-parser.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { Protocol } from "../../src/core/protocol.js";
import { State } from "../../src/core/state.js";
import { StreamReader } from "../../src/core/streams.js";
import { concat, hex, toHex } from "../helpers/bytes.js";
import { fromPeer, openProtocol, type Role } from "../helpers/protocol.js";

// Payloads from 64 KiB on are assembled as they arrive, once a sixteenth of
// them is buffered; these tests use payloads just over that size so that
// every chunking below is fast to run.
const LARGE = 65536 + 3;
const SIXTEENTH = Math.ceil(LARGE / 16);
const KEY = hex("37 fa 21 3d");

/** A payload whose bytes differ from their neighbours, so a misplaced byte shows. */
function payload(length: number, seed = 0): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + (i >>> 8) + seed) & 0xff);
}

/** The frame as a client sends it (masked with KEY) or as a server does. */
function wire(frame: Frame, masked = true): Uint8Array {
  return concat(serializeFrame(frame, masked ? KEY : null));
}

function same(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected);
}

/** Feeds `chunks` one by one, parsing after each; returns the frames in order. */
function parseChunks(chunks: Iterable<Uint8Array>, mask = true): Frame[] {
  const reader = new StreamReader();
  const parser = new FrameParser({ mask });
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    reader.feedData(chunk);
    for (let frame = parser.parse(reader); frame !== null; frame = parser.parse(reader)) {
      frames.push(frame);
    }
  }
  assert.equal(reader.length, 0, "every byte is consumed");
  assert.equal(parser.pendingHeader, -1, "no frame is left half-parsed");
  return frames;
}

/** `bytes` (copied, since parsing unmasks in place) cut into pieces of `size` bytes. */
function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += size) yield copy.subarray(i, i + size);
}

describe("FrameParser: large payloads assembled as they arrive", () => {
  const data = payload(LARGE);
  const bytes = wire(new Frame(Opcode.BINARY, data));

  it("parses a masked frame cut in two at every byte", () => {
    const copy = new Uint8Array(bytes.length);
    for (let split = 0; split <= bytes.length; split++) {
      copy.set(bytes);
      const frames = parseChunks([copy.subarray(0, split), copy.subarray(split)]);
      assert.equal(frames.length, 1);
      assert.ok(same(frames[0]!.data, data), `split at ${split}`);
    }
  });

  it("parses it cut in three around the header, the start of assembly and the end", () => {
    const header = bytes.length - LARGE;
    const around = (at: number) => [at - 5, at - 4, at - 3, at - 2, at - 1, at, at + 1, at + 2];
    const points = [...around(header), ...around(header + SIXTEENTH), ...around(bytes.length - 1)]
      .concat([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 32768])
      .filter((point) => point > 0 && point < bytes.length);
    const copy = new Uint8Array(bytes.length);
    for (const first of points) {
      for (const second of points) {
        if (second <= first) continue;
        copy.set(bytes);
        const chunks = [
          copy.subarray(0, first),
          copy.subarray(first, second),
          copy.subarray(second),
        ];
        const frames = parseChunks(chunks);
        assert.ok(same(frames[0]!.data, data), `split at ${first} and ${second}`);
      }
    }
  });

  it("parses it in chunks that put every key phase on a chunk boundary", () => {
    for (const size of [1, 2, 3, 5, 7, 4093, 4096, 4099, 65536]) {
      const frames = parseChunks(pieces(bytes, size));
      assert.equal(frames.length, 1);
      assert.ok(same(frames[0]!.data, data), `chunks of ${size}`);
    }
  });

  it("parses an unmasked frame the same way", () => {
    const unmasked = wire(new Frame(Opcode.BINARY, data), false);
    for (const size of [1, 4099, 65536]) {
      const frames = parseChunks(pieces(unmasked, size), false);
      assert.ok(same(frames[0]!.data, data), `chunks of ${size}`);
    }
  });

  it("releases each chunk once a sixteenth of the payload is here, and not before", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: true });
    const copy = bytes.slice();
    const header = copy.length - LARGE;
    // A header alone, then less than a sixteenth: nothing is allocated, all stays buffered.
    reader.feedData(copy.subarray(0, header + SIXTEENTH - 1));
    assert.equal(parser.parse(reader), null);
    assert.equal(reader.length, SIXTEENTH - 1);
    reader.feedData(copy.subarray(header + SIXTEENTH - 1, header + SIXTEENTH));
    assert.equal(parser.parse(reader), null);
    assert.equal(reader.length, 0, "assembly started: the buffered chunks were used up");
    reader.feedData(copy.subarray(header + SIXTEENTH, header + 40000));
    assert.equal(parser.parse(reader), null);
    assert.equal(reader.length, 0);
    assert.equal(parser.pendingHeader, 0x82);
    reader.feedData(copy.subarray(header + 40000));
    const frame = parser.parse(reader)!;
    assert.ok(same(frame.data, data));
    assert.equal(Object.getPrototypeOf(frame.data), Uint8Array.prototype);
    assert.equal(frame.data.byteLength, frame.data.buffer.byteLength, "a buffer of its own");
    assert.equal(parser.peekedLength, 0);
  });

  it("leaves what follows the payload in the reader", () => {
    const copy = concat([bytes, hex("89 80 00 00 00 00 82")]);
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: true });
    reader.feedData(copy.subarray(0, 10000));
    assert.equal(parser.parse(reader), null);
    reader.feedData(copy.subarray(10000));
    assert.ok(same(parser.parse(reader)!.data, data));
    assert.equal(parser.parse(reader)!.opcode, Opcode.PING);
    assert.equal(parser.parse(reader), null);
    assert.equal(toHex(reader.readAll()), "82");
  });

  it("takes control frames and small frames between the fragments of a large message", () => {
    const second = payload(LARGE + 1, 7);
    const stream = concat([
      wire(new Frame(Opcode.BINARY, data, false)),
      wire(new Frame(Opcode.PING, hex("01 02 03"))),
      wire(new Frame(Opcode.CONT, hex("04 05"), false)),
      wire(new Frame(Opcode.PONG, new Uint8Array(0))),
      wire(new Frame(Opcode.CONT, second, true)),
      wire(new Frame(Opcode.BINARY, payload(LARGE, 3))),
    ]);
    for (const size of [1, 3, 4096, 65535, 65536, 200000]) {
      const frames = parseChunks(pieces(stream, size));
      const context = `chunks of ${size}`;
      assert.deepEqual(
        frames.map((frame) => [frame.opcode, frame.fin, frame.data.length]),
        [
          [Opcode.BINARY, false, LARGE],
          [Opcode.PING, true, 3],
          [Opcode.CONT, false, 2],
          [Opcode.PONG, true, 0],
          [Opcode.CONT, true, LARGE + 1],
          [Opcode.BINARY, true, LARGE],
        ],
        context,
      );
      assert.ok(same(frames[0]!.data, data), context);
      assert.equal(toHex(frames[1]!.data), "010203", context);
      assert.equal(toHex(frames[2]!.data), "0405", context);
      assert.ok(same(frames[4]!.data, second), context);
      assert.ok(same(frames[5]!.data, payload(LARGE, 3)), context);
    }
  });

  it("checks the size limit from the header, before allocating anything", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: true });
    parser.maxMessageSize = LARGE - 1;
    reader.feedData(bytes.slice(0, 20000));
    assert.throws(() => parser.parse(reader), PayloadTooBig);
    // The limit applies to a fragmented message's total, before its frame is assembled.
    const fragment = wire(new Frame(Opcode.CONT, data));
    const next = new FrameParser({ mask: true });
    next.maxMessageSize = LARGE + 10;
    next.messageSize = 11;
    const more = new StreamReader();
    more.feedData(fragment.slice(0, 20000));
    assert.throws(() => next.parse(more), PayloadTooBig);
    next.messageSize = 10;
    const last = new StreamReader();
    last.feedData(fragment.slice(0, 20000));
    assert.equal(next.parse(last), null);
    assert.equal(last.length, 0, "within the limit, it is assembled");
  });
});

describe("FrameParser: text checked as it arrives is assembled by peekPayload", () => {
  const text = new Uint8Array(LARGE).fill(0x61);

  /**
   * How many bytes stay buffered after a header and 20000 bytes of payload of
   * the last of `frames`, parsed, then peeked at if `peek`.
   */
  function bufferedAfterPart(frames: Frame[], peek: boolean): number {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: true });
    const bytes = concat(frames.map((frame) => wire(frame)));
    const last = wire(frames.at(-1)!);
    reader.feedData(bytes.subarray(0, bytes.length - last.length + 20000));
    while (parser.parse(reader) !== null);
    if (peek) parser.peekPayload(reader);
    return reader.length;
  }

  it("leaves text frames and their continuations to peekPayload, assembles the rest", () => {
    const start = new Frame(Opcode.TEXT, hex("61"), false);
    const compressedStart = new Frame(Opcode.TEXT, hex("61"), false, true);
    const binaryStart = new Frame(Opcode.BINARY, hex("61"), false);
    const buffered = 20000 - (wire(new Frame(Opcode.BINARY, text)).length - LARGE);
    for (const peek of [false, true]) {
      const expected = peek ? 0 : buffered;
      assert.equal(bufferedAfterPart([new Frame(Opcode.TEXT, text)], peek), expected);
      assert.equal(bufferedAfterPart([start, new Frame(Opcode.CONT, text)], peek), expected);
      // Frames an extension encoded (RSV1) are checked once decoded: assembled by parse().
      assert.equal(bufferedAfterPart([new Frame(Opcode.TEXT, text, true, true)], peek), 0);
      assert.equal(bufferedAfterPart([start, new Frame(Opcode.CONT, text, true, true)], peek), 0);
      assert.equal(bufferedAfterPart([compressedStart, new Frame(Opcode.CONT, text)], peek), 0);
      assert.equal(bufferedAfterPart([binaryStart, new Frame(Opcode.CONT, text)], peek), 0);
      assert.equal(bufferedAfterPart([new Frame(Opcode.BINARY, text)], peek), 0);
    }
  });

  it("completes a text frame that peekPayload assembled, and one it never saw", () => {
    const data = payload(LARGE);
    const bytes = wire(new Frame(Opcode.TEXT, data));
    for (const peek of [false, true]) {
      const reader = new StreamReader();
      const parser = new FrameParser({ mask: true });
      reader.feedData(bytes.slice(0, 30000));
      assert.equal(parser.parse(reader), null);
      if (peek) assert.equal(parser.peekPayload(reader).length, 1);
      reader.feedData(bytes.slice(30000, 40000));
      assert.equal(parser.parse(reader), null);
      reader.feedData(bytes.slice(40000));
      const frame = parser.parse(reader)!;
      assert.ok(same(frame.data, data), `peek: ${peek}`);
      assert.equal(reader.length, 0);
    }
  });
});

describe("FrameParser.peekPayload with large payloads", () => {
  const data = payload(LARGE);
  const bytes = wire(new Frame(Opcode.BINARY, data));
  const header = bytes.length - LARGE;

  it("returns the assembled bytes that arrived since the last call", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: true });
    const copy = bytes.slice();
    reader.feedData(copy.subarray(0, header + 5000));
    assert.equal(parser.parse(reader), null);
    const first = parser.peekPayload(reader);
    assert.equal(first.length, 1);
    assert.ok(same(first[0]!, data.subarray(0, 5000)));
    assert.deepEqual(parser.peekPayload(reader), []);
    reader.feedData(copy.subarray(header + 5000, header + 9001));
    const second = parser.peekPayload(reader);
    assert.ok(same(second[0]!, data.subarray(5000, 9001)));
    assert.equal(reader.length, 0);
    reader.feedData(copy.subarray(header + 9001));
    const frame = parser.parse(reader)!;
    assert.ok(same(frame.data, data));
    assert.equal(parser.peekedLength, 9001);
    assert.ok(same(first[0]!, data.subarray(0, 5000)), "views returned earlier stay valid");
  });

  it("assembles a payload whose first bytes were peeked at in the reader", () => {
    for (const peekedPart of [1, 2, 3, 4, 1000, SIXTEENTH - 1]) {
      const reader = new StreamReader();
      const parser = new FrameParser({ mask: true });
      const copy = bytes.slice();
      reader.feedData(copy.subarray(0, header + peekedPart));
      assert.equal(parser.parse(reader), null);
      const peeked = parser.peekPayload(reader);
      assert.ok(same(concat(peeked), data.subarray(0, peekedPart)));
      // More arrives: assembly starts, copying the peeked bytes as they are.
      reader.feedData(copy.subarray(header + peekedPart, header + 30000));
      assert.equal(parser.parse(reader), null);
      assert.equal(reader.length, 0, `assembled after peeking ${peekedPart}`);
      reader.feedData(copy.subarray(header + 30000));
      const frame = parser.parse(reader)!;
      assert.ok(same(frame.data, data), `peeked ${peekedPart}`);
      assert.equal(parser.peekedLength, peekedPart);
    }
  });
});

/**
 * Feeds `stream` (a message of two fragments with a ping between them) to a
 * new protocol in chunks of several sizes, and checks that the fragments come
 * out whole, with the ping between them, and that the connection stays open.
 */
function assertDeliveredAtAnyChunking(
  role: Role,
  stream: Uint8Array,
  opcode: Opcode,
  first: Uint8Array,
  second: Uint8Array,
): void {
  for (const size of [1000, 4099, 65536]) {
    const protocol = openProtocol(role);
    const events: Frame[] = [];
    for (const chunk of pieces(stream, size)) {
      protocol.receiveData(chunk);
      events.push(...(protocol.eventsReceived() as Frame[]));
    }
    const context = `chunks of ${size}`;
    assert.deepEqual(
      events.map((frame) => frame.opcode),
      [opcode, Opcode.PING, Opcode.CONT],
      context,
    );
    assert.ok(same(events[0]!.data, first), context);
    assert.ok(same(events[2]!.data, second), context);
    assert.equal(protocol.state, State.OPEN, context);
  }
}

describe("large payloads through the protocol", () => {
  for (const role of ["client", "server"] as const satisfies readonly Role[]) {
    describe(`as a ${role}`, () => {
      it("delivers a large binary message in fragments, pings between them, at any chunking", () => {
        const first = payload(LARGE, 1);
        const second = payload(LARGE, 2);
        const stream = concat([
          fromPeer(role, Opcode.BINARY, first, false),
          fromPeer(role, Opcode.PING, "hi"),
          fromPeer(role, Opcode.CONT, second, true),
        ]);
        assertDeliveredAtAnyChunking(role, stream, Opcode.BINARY, first, second);
      });

      it("still fails a large text frame as soon as invalid UTF-8 arrives", () => {
        const text = new Uint8Array(LARGE).fill(0x61);
        text[100] = 0xff;
        const bytes = fromPeer(role, Opcode.TEXT, text);
        const protocol = openProtocol(role);
        protocol.receiveData(bytes.slice(0, 20000));
        assert.equal(protocol.closeSent?.code, 1007);
      });

      it("fails a large text frame when invalid UTF-8 arrives after assembly started", () => {
        for (const bad of [5000, 30000, 40001, LARGE - 1]) {
          const text = new Uint8Array(LARGE).fill(0x61);
          text[bad] = 0xc0;
          const bytes = fromPeer(role, Opcode.TEXT, text);
          const header = bytes.length - LARGE;
          const protocol = openProtocol(role);
          // The first piece is peeked at in the reader, the rest assembled.
          protocol.receiveData(bytes.slice(0, header + 100));
          protocol.receiveData(bytes.slice(header + 100, header + 20000));
          const before = protocol.closeSent?.code;
          protocol.receiveData(bytes.slice(header + 20000, header + bad + 1));
          assert.equal(before, bad < 20000 ? 1007 : undefined, `byte ${bad}`);
          assert.equal(protocol.closeSent?.code, 1007, `byte ${bad}`);
        }
      });

      it("delivers large text in fragments, code points split across chunks, at any chunking", () => {
        // "é" (2 bytes), "€" (3 bytes) and "😀" (4 bytes) repeated: every
        // chunking below splits some of them.
        const unit = Buffer.from("aé€😀", "utf8");
        const repeat = (count: number) =>
          concat(Array.from({ length: count }, () => unit)).subarray(0, count * unit.length);
        const first = repeat(Math.ceil(LARGE / unit.length));
        const second = repeat(Math.ceil(LARGE / unit.length) + 1);
        const stream = concat([
          fromPeer(role, Opcode.TEXT, first, false),
          fromPeer(role, Opcode.PING, "hi"),
          fromPeer(role, Opcode.CONT, second, true),
        ]);
        assertDeliveredAtAnyChunking(role, stream, Opcode.TEXT, first, second);
      });

      it("refuses a large frame over the limit from its header", () => {
        const protocol = openProtocol(role, { maxMessageSize: LARGE - 1 });
        protocol.receiveData(fromPeer(role, Opcode.BINARY, payload(LARGE)).slice(0, 20));
        assert.equal(protocol.closeSent?.code, 1009);
      });
    });
  }
});

describe("FrameParser.unfilledAssembly", () => {
  const data = payload(LARGE);
  const bytes = wire(new Frame(Opcode.BINARY, data), false);
  const header = bytes.length - LARGE;

  it("is the rest of the payload being assembled, once nothing else is buffered", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: false });
    assert.equal(parser.unfilledAssembly(reader), null, "no frame");
    reader.feedData(bytes.slice(0, header + SIXTEENTH - 1));
    assert.equal(parser.parse(reader), null);
    assert.equal(parser.unfilledAssembly(reader), null, "not assembled before a sixteenth is here");
    reader.feedData(bytes.slice(header + SIXTEENTH - 1, header + 30000));
    assert.equal(parser.parse(reader), null);
    const rest = parser.unfilledAssembly(reader)!;
    assert.equal(rest.length, LARGE - 30000);
    // Filled as a read would, in two parts.
    rest.set(bytes.subarray(header + 30000, header + 40000));
    reader.feedData(rest.subarray(0, 10000));
    assert.equal(parser.parse(reader), null);
    const last = parser.unfilledAssembly(reader)!;
    assert.equal(last.buffer, rest.buffer);
    assert.equal(last.byteOffset, rest.byteOffset + 10000);
    assert.equal(last.length, LARGE - 40000);
    last.set(bytes.subarray(header + 40000));
    reader.feedData(last);
    const frame = parser.parse(reader)!;
    assert.ok(same(frame.data, data));
    assert.equal(frame.data.buffer, rest.buffer, "the payload is the memory read into");
    assert.equal(parser.unfilledAssembly(reader), null, "none once the frame is complete");
  });

  it("is null while other bytes are buffered", () => {
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: false });
    reader.feedData(bytes.slice(0, header + 30000));
    assert.equal(parser.parse(reader), null);
    reader.feedData(bytes.slice(header + 30000, header + 30001));
    assert.equal(parser.unfilledAssembly(reader), null);
  });

  it("is null when the payload was all assembled by peekPayload", () => {
    const text = wire(new Frame(Opcode.TEXT, new Uint8Array(LARGE).fill(0x61)), false);
    const reader = new StreamReader();
    const parser = new FrameParser({ mask: false });
    reader.feedData(text.slice(0, header + 30000));
    assert.equal(parser.parse(reader), null);
    assert.equal(parser.peekPayload(reader).length, 1);
    assert.equal(parser.unfilledAssembly(reader)!.length, LARGE - 30000);
    reader.feedData(text.slice(header + 30000));
    assert.equal(parser.peekPayload(reader).length, 1);
    // A read into an empty buffer would return 0 bytes: the end of the stream.
    assert.equal(parser.unfilledAssembly(reader), null);
    assert.equal(parser.parse(reader)!.data.length, LARGE);
  });
});

/**
 * Feeds `stream` to `protocol` the way an I/O layer that reads straight into
 * {@link Protocol.receiveBuffer} does, reads of at most `readSize` bytes,
 * each either into that buffer or into a scratch buffer copied out. Returns
 * the frames received and the bytes read straight into a payload.
 */
function readStraightIn(
  protocol: Protocol,
  stream: Uint8Array,
  readSize: number,
): { frames: Frame[]; direct: number; regions: Uint8Array[] } {
  const scratch = new Uint8Array(readSize);
  const frames: Frame[] = [];
  const regions: Uint8Array[] = [];
  let direct = 0;
  for (let at = 0; at < stream.length; ) {
    const region = protocol.receiveBuffer();
    const into = region ?? scratch;
    const n = Math.min(into.length, readSize, stream.length - at);
    into.set(stream.subarray(at, at + n));
    at += n;
    if (region !== null) {
      regions.push(region);
      direct += n;
      protocol.receiveData(region.subarray(0, n));
    } else {
      protocol.receiveData(scratch.slice(0, n));
    }
    frames.push(...(protocol.eventsReceived() as Frame[]));
  }
  return { frames, direct, regions };
}

describe("Protocol.receiveBuffer", () => {
  for (const role of ["client", "server"] as const satisfies readonly Role[]) {
    it(`lets a ${role}'s large payloads be read straight into their memory`, () => {
      const first = payload(LARGE, 1);
      const second = payload(3 * LARGE, 2);
      const text = new Uint8Array(2 * LARGE).fill(0x62);
      const stream = concat([
        fromPeer(role, Opcode.BINARY, first, false),
        fromPeer(role, Opcode.PING, "hi"),
        fromPeer(role, Opcode.CONT, second, true),
        fromPeer(role, Opcode.BINARY, hex("01 02")),
        fromPeer(role, Opcode.TEXT, text),
      ]);
      for (const readSize of [4096, 20000, 65536]) {
        const context = `reads of ${readSize}`;
        const protocol = openProtocol(role);
        const { frames, direct, regions } = readStraightIn(protocol, stream, readSize);
        assert.deepEqual(
          frames.map((frame) => frame.opcode),
          [Opcode.BINARY, Opcode.PING, Opcode.CONT, Opcode.BINARY, Opcode.TEXT],
          context,
        );
        assert.ok(same(frames[0]!.data, first), context);
        assert.ok(same(frames[2]!.data, second), context);
        assert.equal(toHex(frames[3]!.data), "0102", context);
        assert.ok(same(frames[4]!.data, text), context);
        assert.equal(protocol.state, State.OPEN, context);
        // All but what arrives before each assembly starts: a sixteenth of the
        // payload, and the reads that brought it and the header.
        const total = first.length + second.length + text.length;
        const before = total / 16 + 3 * 2 * readSize;
        assert.ok(direct > 0 && direct >= total - before, `${context}: ${direct} of ${total}`);
        for (const index of [0, 2, 4]) {
          const memory = frames[index]!.data.buffer;
          assert.ok(
            regions.some((region) => region.buffer === memory),
            `${context}: frame ${index} was read into`,
          );
        }
      }
    });
  }

  it("is parsed in place once parsing resumes, when read into while parsing was held", () => {
    const data = payload(LARGE);
    const bytes = fromPeer("client", Opcode.BINARY, data);
    const header = bytes.length - LARGE;
    const protocol = openProtocol("client");
    protocol.receiveData(bytes.slice(0, header + 30000));
    const region = protocol.receiveBuffer()!;
    assert.equal(region.length, LARGE - 30000);
    region.set(bytes.subarray(header + 30000));
    // The I/O layer's queue is full: the bytes wait, unparsed, where they were read.
    protocol.decodedMessageBudget = 0;
    protocol.receiveData(region);
    assert.deepEqual(protocol.eventsReceived(), []);
    assert.equal(protocol.receiveBuffer(), null, "bytes are buffered");
    protocol.decodedMessageBudget = -1;
    protocol.resumeParsing();
    const [frame] = protocol.eventsReceived() as Frame[];
    assert.ok(same(frame!.data, data));
    assert.equal(frame!.data.buffer, region.buffer);
  });

  it("is null during the handshake, between frames, and once input is discarded", () => {
    const client = new ClientProtocol("ws://example.com/");
    client.sendRequest(client.connect());
    assert.equal(client.receiveBuffer(), null, "handshake");
    const protocol = openProtocol("client");
    assert.equal(protocol.receiveBuffer(), null, "between frames");
    const bytes = fromPeer("client", Opcode.BINARY, payload(LARGE));
    protocol.receiveData(bytes.slice(0, 30000));
    assert.notEqual(protocol.receiveBuffer(), null, "during a large payload");
    protocol.fail(1001, "going away");
    assert.equal(protocol.receiveBuffer(), null, "after failing");
  });
});
