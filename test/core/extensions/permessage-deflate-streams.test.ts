/**
 * permessage-deflate's two forms: zlib streams kept while the connection is
 * busy, sliding windows once it is quiet. Messages compressed across any
 * switch between them must decompress on the peer, with context takeover
 * (RFC 7692 §7.1.1), whichever side switches and whenever.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { PayloadTooBig, ProtocolError } from "../../../src/core/errors.js";
import { PerMessageDeflate } from "../../../src/core/extensions/permessage-deflate.js";
import type {
  DeflateSettings,
  PerMessageDeflateParameters,
} from "../../../src/core/extensions/permessage-deflate-settings.js";
import { useNativeStreams } from "../../../src/core/extensions/zlib-stream.js";
import { Frame } from "../../../src/core/frame.js";
import { Opcode } from "../../../src/core/opcodes.js";
import { concat, hex, toHex, utf8 } from "../../helpers/bytes.js";
import { flushThrough } from "../../helpers/zlib.js";

const DEFAULTS: PerMessageDeflateParameters = {
  localNoContextTakeover: false,
  remoteNoContextTakeover: false,
  localMaxWindowBits: 15,
  remoteMaxWindowBits: 15,
};

const TAIL = hex("00 00 ff ff");

/** An extension that keeps its streams, and the calls of its `scheduleRelease`. */
function keeping(
  parameters: Partial<PerMessageDeflateParameters> = {},
  settings: DeflateSettings = {},
): { extension: PerMessageDeflate; scheduled: PerMessageDeflate[] } {
  const scheduled: PerMessageDeflate[] = [];
  const extension = new PerMessageDeflate(
    { ...DEFAULTS, ...parameters },
    { ...settings, scheduleRelease: (busy) => scheduled.push(busy) },
  );
  // As recvStreaming() sets it; the default, held, is tested on its own.
  extension.inflatesFragments = true;
  return { extension, scheduled };
}

/** The parameters of the peer of an extension negotiated with `parameters`. */
function mirrored(parameters: PerMessageDeflateParameters): PerMessageDeflateParameters {
  return {
    localNoContextTakeover: parameters.remoteNoContextTakeover,
    remoteNoContextTakeover: parameters.localNoContextTakeover,
    localMaxWindowBits: parameters.remoteMaxWindowBits,
    remoteMaxWindowBits: parameters.localMaxWindowBits,
  };
}

function send(extension: PerMessageDeflate, data: Uint8Array): Frame {
  return extension.encode(new Frame(Opcode.BINARY, data));
}

function receive(extension: PerMessageDeflate, frame: Frame, maxSize = Infinity): Uint8Array {
  return extension.decode(frame, maxSize).data;
}

describe("zlib streams kept between messages", () => {
  it("are announced to scheduleRelease when the first one opens, and closed once idle", () => {
    const { extension, scheduled } = keeping();
    const peer = keeping(mirrored(DEFAULTS)).extension;
    assert.equal(extension.holdsStreams, false);
    receive(extension, send(peer, utf8("Hello")));
    assert.deepEqual(scheduled, [extension]);
    receive(peer, send(extension, utf8("Hello")));
    // Still open: one announcement per busy period.
    assert.deepEqual(scheduled, [extension]);
    assert.equal(extension.holdsStreams, true);
    // Used since the last check: kept.
    assert.equal(extension.releaseIfIdle(), false);
    assert.equal(extension.holdsStreams, true);
    // Unused since: closed, windows kept.
    assert.equal(extension.releaseIfIdle(), true);
    assert.equal(extension.holdsStreams, false);
    assert.equal(toHex(receive(peer, send(extension, utf8("Hello")))), toHex(utf8("Hello")));
    assert.deepEqual(scheduled, [extension, extension]);
    extension.releaseIdleState();
    assert.equal(extension.holdsStreams, false);
    assert.equal(extension.releaseIfIdle(), true);
  });

  it("are opened and closed for each message without scheduleRelease", () => {
    const extension = new PerMessageDeflate(DEFAULTS);
    const peer = new PerMessageDeflate(DEFAULTS);
    for (const message of ["Hello", "Hello", "Hello, world"]) {
      const frame = send(extension, utf8(message));
      assert.equal(extension.holdsStreams, false);
      assert.equal(new TextDecoder().decode(receive(peer, frame)), message);
      assert.equal(peer.holdsStreams, false);
    }
  });

  it("are never kept by the fallback", () => {
    useNativeStreams(false);
    try {
      const { extension, scheduled } = keeping();
      const peer = keeping();
      assert.equal(toHex(send(extension, utf8("Hello")).data), "f248cdc9c90700");
      assert.equal(toHex(send(extension, utf8("Hello")).data), "f200110000");
      assert.equal(toHex(receive(peer.extension, send(extension, utf8("Hi")))), toHex(utf8("Hi")));
      assert.equal(extension.holdsStreams, false);
      assert.deepEqual([scheduled, peer.scheduled], [[], []]);
    } finally {
      useNativeStreams(true);
    }
  });

  it("refuses a scheduleRelease that is not a function", () => {
    const settings = { scheduleRelease: "later" } as unknown as DeflateSettings;
    assert.throws(() => new PerMessageDeflate(DEFAULTS, settings), TypeError);
  });

  it("send an empty message right after another as a lone 00 byte", () => {
    const { extension } = keeping();
    const peer = keeping(mirrored(DEFAULTS)).extension;
    const frames = [utf8("Hello"), new Uint8Array(0), new Uint8Array(0), utf8("Hello")].map(
      (data) => send(extension, data),
    );
    assert.deepEqual(
      frames.map((frame) => toHex(frame.data)),
      ["f248cdc9c90700", "00", "00", "f200110000"],
    );
    assert.deepEqual(
      frames.map((frame) => toHex(receive(peer, frame))),
      [toHex(utf8("Hello")), "", "", toHex(utf8("Hello"))],
    );
  });

  it("close the compressor after an incompressible message the peer never sees compressed", () => {
    const { extension } = keeping();
    let seed = 3;
    const noise = new Uint8Array(65536).map(() => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    });
    send(extension, utf8("Hello"));
    const sent = send(extension, noise);
    assert.equal(sent.rsv1, false);
    assert.equal(extension.holdsStreams, false);
    assert.equal(toHex(send(extension, utf8("Hello")).data), "f200110000");
  });

  it("without context takeover, start each message afresh, even across a release mid-message", () => {
    const { extension } = keeping({ localNoContextTakeover: true });
    const peer = new PerMessageDeflate(mirrored({ ...DEFAULTS, localNoContextTakeover: true }));
    const first = extension.encode(new Frame(Opcode.TEXT, utf8("Hello"), false));
    extension.releaseIdleState();
    // The second fragment refers to the first: the window spans the message.
    const second = extension.encode(new Frame(Opcode.CONT, utf8("Hello"), true));
    assert.equal(toHex(second.data), "f200110000");
    assert.equal(extension.holdsStreams, false);
    assert.equal(toHex(send(extension, utf8("Hello")).data), "f248cdc9c90700");
    assert.equal(extension.holdsStreams, true);
    assert.equal(toHex(send(extension, utf8("Hello")).data), "f248cdc9c90700");
    // Each frame inflated as it arrives (RFC 7692 §7.2.2).
    assert.equal(toHex(receive(peer, first)), toHex(utf8("Hello")));
    assert.equal(toHex(receive(peer, second)), toHex(utf8("Hello")));
  });

  it("keep the decompressor through a release in the middle of a compressed message", () => {
    const { extension, scheduled } = keeping();
    const peer = keeping(mirrored(DEFAULTS)).extension;
    const message = utf8("Hello, Hello, Hello!");
    // "Hello, Hello, Hello!" cut inside its DEFLATE block: no window can
    // rebuild the decompressor's state between the two fragments.
    const payload = hex("f2 48 cd c9 c9 d7 51 f0 40 a2 14 01 00");
    const decode = (data: Uint8Array, first: boolean, fin: boolean) =>
      extension.decode(new Frame(first ? Opcode.TEXT : Opcode.CONT, data, fin, first), Infinity);
    assert.equal(toHex(decode(payload.subarray(0, 5), true, false).data), toHex(utf8("Hell")));
    assert.deepEqual(scheduled, [extension]);
    // A release finds the stream used, then idle: it waits for the message's end.
    assert.equal(extension.releaseIfIdle(), false);
    assert.equal(extension.releaseIfIdle(), true, "not checked again while the peer stalls");
    assert.equal(extension.holdsStreams, true);
    extension.releaseIdleState();
    assert.equal(extension.holdsStreams, true);
    // Sending meanwhile: the compressor opens and closes as usual, and is
    // announced again, since the scheduler let go of the extension.
    assert.equal(toHex(receive(peer, send(extension, message))), toHex(message));
    assert.deepEqual(scheduled, [extension, extension]);
    extension.releaseIdleState();
    assert.equal(extension.holdsStreams, true, "the decompressor, mid-message");
    assert.equal(toHex(decode(payload.subarray(5, 6), false, false).data), toHex(utf8("o")));
    assert.equal(extension.holdsStreams, true);
    assert.equal(
      toHex(decode(payload.subarray(6), false, true).data),
      toHex(utf8(", Hello, Hello!")),
    );
    // The release is due now: scheduleRelease is told again, and the next
    // checks close the streams, keeping the window.
    assert.deepEqual(scheduled, [extension, extension, extension]);
    assert.equal(extension.releaseIfIdle(), false);
    assert.equal(extension.releaseIfIdle(), true);
    assert.equal(extension.holdsStreams, false);
    // RFC 7692 §7.2.3.2's "H", then 4 bytes from 5 back: "llo!", the end of
    // the message, from the window.
    assert.equal(
      toHex(receive(extension, new Frame(Opcode.TEXT, hex("f2 00 11 00 00"), true, true))),
      toHex(utf8("Hllo!")),
    );
  });

  it("hold a compressed message's fragments until the last, unless told to inflate them as they arrive", () => {
    const scheduled: PerMessageDeflate[] = [];
    const extension = new PerMessageDeflate(DEFAULTS, {
      scheduleRelease: (busy) => scheduled.push(busy),
    });
    // Kept streams are bounded by their scheduler: a decompressor open from a
    // message's first frame to its last would escape it, so none is opened.
    assert.equal(extension.inflatesFragments, false);
    assert.equal(new PerMessageDeflate(DEFAULTS).inflatesFragments, true);
    // "Hello, Hello, Hello!" (RFC 7692 §7.2.3.2's "Hello" three times), cut inside its block.
    const payload = hex("f2 48 cd c9 c9 d7 51 f0 40 a2 14 01 00");
    const decode = (data: Uint8Array, first: boolean, fin: boolean) =>
      extension.decode(new Frame(first ? Opcode.TEXT : Opcode.CONT, data, fin, first), Infinity);
    assert.equal(toHex(decode(payload.subarray(0, 5), true, false).data), "");
    assert.equal(extension.holdsStreams, false);
    assert.deepEqual(scheduled, []);
    assert.equal(toHex(decode(payload.subarray(5, 6), false, false).data), "");
    // Told mid-message: what was held is inflated with the next frame.
    extension.inflatesFragments = true;
    assert.equal(toHex(decode(payload.subarray(6, 8), false, false).data), toHex(utf8("Hello, ")));
    assert.equal(extension.holdsStreams, true);
    assert.equal(
      toHex(decode(payload.subarray(8), false, true).data),
      toHex(utf8("Hello, Hello!")),
    );
  });

  it("close the decompressor after a release mid-message that a corrupt frame ends", () => {
    const { extension, scheduled } = keeping();
    const hello = hex("f2 48 cd c9 c9 07 00 00 00 ff ff");
    extension.decode(new Frame(Opcode.BINARY, hello, false, true), Infinity);
    extension.releaseIdleState();
    assert.equal(extension.holdsStreams, true);
    assert.throws(
      // At a block boundary, BTYPE 11: "error" (RFC 1951 §3.2.3).
      () => extension.decode(new Frame(Opcode.CONT, hex("ff ff ff"), true), Infinity),
      ProtocolError,
    );
    assert.equal(extension.holdsStreams, false);
    // The next message opens a stream as after any release.
    receive(extension, new Frame(Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), true, true));
    assert.deepEqual(scheduled, [extension, extension]);
  });

  it("reopen the decompressor from the window after a message with BFINAL (§7.2.3.4)", () => {
    const { extension } = keeping();
    receive(extension, new Frame(Opcode.TEXT, hex("f3 48 cd c9 c9 07 00 00"), true, true));
    assert.equal(extension.holdsStreams, false);
    const again = receive(extension, new Frame(Opcode.TEXT, hex("f2 00 11 00 00"), true, true));
    assert.equal(toHex(again), toHex(utf8("Hello")));
    assert.equal(extension.holdsStreams, true);
  });

  it("close the decompressor on corrupt data and on a bomb", () => {
    const { extension } = keeping();
    receive(extension, new Frame(Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), true, true));
    assert.equal(extension.holdsStreams, true);
    assert.throws(
      () => receive(extension, new Frame(Opcode.BINARY, hex("ff ff ff"), true, true)),
      ProtocolError,
    );
    assert.equal(extension.holdsStreams, false);
    const bomb = zlib.deflateRawSync(new Uint8Array(100_000), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const other = keeping().extension;
    receive(other, new Frame(Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), true, true));
    assert.throws(
      () => receive(other, new Frame(Opcode.BINARY, bomb.subarray(0, -4), true, true), 99_999),
      PayloadTooBig,
    );
    assert.equal(other.holdsStreams, false);
  });

  it("keep 512 bytes of a peer that agreed to 8 window bits, as zlib compresses with 9", async () => {
    const stream = zlib.createDeflateRaw({ windowBits: 8 });
    const { extension } = keeping({ remoteMaxWindowBits: 8 });
    try {
      for (let i = 0; i < 8; i++) {
        // Each message repeats text from 300 to 500 bytes back.
        const message = utf8(`${i}:${"0123456789abcdefghijklmnopqrstuvwxyz".repeat(12)}`);
        const payload = (await flushThrough(stream, message)).subarray(0, -4);
        const frame = new Frame(Opcode.BINARY, payload, true, true);
        assert.equal(toHex(receive(extension, frame)), toHex(message));
        if (i % 2 === 1) extension.releaseIdleState();
      }
    } finally {
      stream.close();
    }
  });
});

/** One step of a conversation: a message, or a release on one side. */
type Step =
  | { kind: "message"; data: string; fragments: number; compress: boolean }
  | { kind: "release"; side: "sender" | "receiver"; when: "now" | "if idle" | "mid-message" };

const parameters = fc.record({
  localNoContextTakeover: fc.boolean(),
  remoteNoContextTakeover: fc.boolean(),
  localMaxWindowBits: fc.integer({ min: 8, max: 15 }),
  remoteMaxWindowBits: fc.integer({ min: 8, max: 15 }),
});
// Repetitive data, so that messages refer to earlier ones, across releases.
const text = fc
  .array(fc.constantFrom("a", "bc", "Hello", "0123456789", "é", "\u{1F600}", " "), {
    maxLength: 300,
  })
  .map((parts) => parts.join(""));
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("message" as const),
    data: text,
    fragments: fc.integer({ min: 1, max: 3 }),
    compress: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("release" as const),
    side: fc.constantFrom("sender" as const, "receiver" as const),
    when: fc.constantFrom("now" as const, "if idle" as const, "mid-message" as const),
  }),
);

describe("messages across switches between kept streams and windows", () => {
  it("decompress on the peer, whoever switches and whenever (property)", () => {
    fc.assert(
      fc.property(
        parameters,
        fc.integer({ min: -1, max: 9 }),
        fc.constantFrom("kept" as const, "per message" as const),
        fc.array(step, { maxLength: 16 }),
        (params, level, receiverMode, steps) => {
          const sender = keeping(params, { level }).extension;
          const receiver =
            receiverMode === "kept"
              ? keeping(mirrored(params)).extension
              : new PerMessageDeflate(mirrored(params));
          const release = (extension: PerMessageDeflate, when: "now" | "if idle") => {
            if (when === "if idle") extension.releaseIfIdle();
            else extension.releaseIdleState();
          };
          let releaseMidMessage = false;
          for (const s of steps) {
            if (s.kind === "release") {
              if (s.when === "mid-message") releaseMidMessage = true;
              else release(s.side === "sender" ? sender : receiver, s.when);
              continue;
            }
            const bytes = utf8(s.data);
            const size = Math.ceil(bytes.length / s.fragments);
            const received: Uint8Array[] = [];
            for (let i = 0; i < s.fragments; i++) {
              const frame = new Frame(
                i === 0 ? Opcode.TEXT : Opcode.CONT,
                bytes.subarray(i * size, (i + 1) * size),
                i === s.fragments - 1,
              );
              const encoded = sender.encode(frame, { compress: s.compress });
              if (releaseMidMessage) {
                sender.releaseIdleState();
                receiver.releaseIdleState();
              }
              received.push(receiver.decode(encoded, Infinity).data);
            }
            releaseMidMessage = false;
            assert.equal(new TextDecoder().decode(concat(received)), s.data);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("keep the window right across a message in fragments of any size, then a release (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 1 << 30 }),
        (windowBits, sizes, seed) => {
          const params = { ...DEFAULTS, localMaxWindowBits: windowBits };
          const sender = keeping(params).extension;
          const receiver = keeping(mirrored(params)).extension;
          let state = seed;
          const bytes = (length: number) =>
            new Uint8Array(length).map(() => {
              state = (Math.imul(state, 1103515245) + 12345) >>> 0;
              return state >>> 24;
            });
          const fragments = sizes.map(bytes);
          fragments.forEach((fragment, i) => {
            const frame = new Frame(
              i === 0 ? Opcode.BINARY : Opcode.CONT,
              fragment,
              i === fragments.length - 1,
            );
            const decoded = receiver.decode(sender.encode(frame), Infinity).data;
            assert.equal(toHex(decoded), toHex(fragment));
          });
          // The inflater closed: the next message, the end of the window
          // again, refers to it through the window alone.
          receiver.releaseIdleState();
          assert.equal(receiver.holdsStreams, false);
          const all = concat(fragments);
          const tail = all.subarray(Math.max(0, all.length - (1 << windowBits) + 8));
          const again = sender.encode(new Frame(Opcode.BINARY, tail));
          assert.equal(toHex(receive(receiver, again)), toHex(tail));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("decompress in a zlib stream that lives as long as the connection (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 8, max: 15 }),
        fc.array(fc.tuple(text, fc.boolean()), { maxLength: 10 }),
        async (windowBits, messages) => {
          const { extension } = keeping({ localMaxWindowBits: windowBits });
          const stream = zlib.createInflateRaw({ windowBits: Math.max(windowBits, 9) });
          try {
            for (const [message, releaseAfter] of messages) {
              const frame = send(extension, utf8(message));
              assert.equal(frame.rsv1, true);
              const output = await flushThrough(stream, concat([frame.data, TAIL]));
              assert.equal(output.toString(), message);
              if (releaseAfter) extension.releaseIfIdle();
            }
          } finally {
            stream.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("decompress what a zlib stream that lives as long as the connection compresses (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 8, max: 15 }),
        fc.array(fc.tuple(text, fc.boolean()), { maxLength: 10 }),
        async (windowBits, messages) => {
          const { extension } = keeping({ remoteMaxWindowBits: windowBits });
          const stream = zlib.createDeflateRaw({ windowBits });
          try {
            for (const [message, releaseAfter] of messages) {
              const payload = (await flushThrough(stream, utf8(message))).subarray(0, -4);
              const data = receive(extension, new Frame(Opcode.TEXT, payload, true, true));
              assert.equal(new TextDecoder().decode(data), message);
              if (releaseAfter) extension.releaseIfIdle();
            }
          } finally {
            stream.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
