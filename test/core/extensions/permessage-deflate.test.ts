import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as zlib from "node:zlib";
import fc from "fast-check";
import { CloseCode } from "../../../src/core/close-codes.js";
import { PayloadTooBig, ProtocolError } from "../../../src/core/errors.js";
import type { Extension } from "../../../src/core/extensions/base.js";
import { PerMessageDeflate } from "../../../src/core/extensions/permessage-deflate.js";
import type {
  DeflateSettings,
  PerMessageDeflateParameters,
} from "../../../src/core/extensions/permessage-deflate-settings.js";
import { useNativeStreams } from "../../../src/core/extensions/zlib-stream.js";
import { Frame } from "../../../src/core/frame.js";
import { serializeFrame } from "../../../src/core/frame-writer.js";
import { Opcode } from "../../../src/core/opcodes.js";
import type { Protocol } from "../../../src/core/protocol.js";
import { State } from "../../../src/core/state.js";
import { concat, hex, toHex, utf8 } from "../../helpers/bytes.js";
import { DEFAULTS, frames, text } from "../../helpers/deflate.js";
import { MASK, openProtocol, type Role } from "../../helpers/protocol.js";
import { flushThrough } from "../../helpers/zlib.js";

/**
 * How zlib runs: streams opened and closed for each message (no
 * `scheduleRelease`), kept from message to message (a `scheduleRelease` that
 * never releases), or Node's one-shot functions (the fallback when Node's
 * native handle is not what ./zlib-stream.ts expects).
 */
const STREAM_MODES = ["per message", "kept", "fallback"] as const;
type StreamMode = (typeof STREAM_MODES)[number];

/** Settings that run zlib in `mode`. */
function inMode(mode: StreamMode, settings: DeflateSettings = {}): DeflateSettings {
  return mode === "kept" ? { ...settings, scheduleRelease: () => {} } : settings;
}

/** Turns the native streams off around the tests of the current suite in the fallback mode. */
function useStreamMode(mode: StreamMode): void {
  if (mode !== "fallback") return;
  before(() => useNativeStreams(false));
  after(() => useNativeStreams(true));
}

/**
 * Whether a compressed message's fragments are inflated as they arrive: only
 * by a zlib stream that continues from one write to the next, not the fallback.
 */
function inflatesFragments(mode: StreamMode): boolean {
  return mode !== "fallback";
}

/** The data messages among `received`, each its frames' payloads end to end. */
function messagesOf(received: readonly Frame[]): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  for (const frame of received) {
    if (frame.opcode > Opcode.BINARY) continue;
    parts.push(frame.data);
    if (frame.fin) {
      messages.push(concat(parts));
      parts = [];
    }
  }
  return messages;
}

/** An open protocol of `role` with permessage-deflate negotiated as `parameters`. */
function deflatingWith(
  role: Role,
  parameters: Partial<PerMessageDeflateParameters> = {},
  settings: DeflateSettings = {},
  maxMessageSize: number | null = null,
): Protocol {
  const protocol = openProtocol(role, { maxMessageSize });
  const extension = new PerMessageDeflate({ ...DEFAULTS, ...parameters }, settings);
  // Kept streams hold fragments unless told otherwise; these tests inflate
  // them as they arrive in every mode that can (the Node layer's
  // recvStreaming() sets it), and "holds fragments with kept streams" below
  // covers the default.
  extension.inflatesFragments = true;
  protocol.extensions = [extension];
  return protocol;
}

/** The bytes of a frame as `sender` writes it: masked with the test mask when it is a client. */
function wire(
  sender: Role,
  opcode: Opcode,
  payload: Uint8Array,
  { fin = true, rsv1 = false } = {},
): Uint8Array {
  return concat(
    serializeFrame(new Frame(opcode, payload, fin, rsv1), sender === "client" ? MASK : null),
  );
}

function peerOf(role: Role): Role {
  return role === "client" ? "server" : "client";
}

/** The frames `protocol` wrote, as they are on the wire: opcode, RSV1, FIN and payload. */
function sentFrames(
  protocol: Protocol,
): [opcode: number, rsv1: boolean, fin: boolean, hex: string][] {
  const seen: [number, boolean, boolean, string][] = [];
  // Records frames before the protocol checks RSV1 and UTF-8, then empties them to pass.
  const recorder: Extension = {
    name: "x-recorder",
    decode(frame) {
      seen.push([frame.opcode, frame.rsv1, frame.fin, toHex(frame.data)]);
      return new Frame(frame.opcode, new Uint8Array(0), frame.fin);
    },
    encode: (frame) => frame,
  };
  const receiver = openProtocol(peerOf(protocol.side), { maxMessageSize: null });
  receiver.extensions = [recorder];
  for (const chunk of protocol.dataToSend()) if (chunk.length > 0) receiver.receiveData(chunk);
  assert.equal(receiver.state, State.OPEN);
  return seen;
}

/** The close code `protocol` sent when it failed the connection. */
function failedWith(protocol: Protocol): number | undefined {
  return protocol.closeSent?.code;
}

for (const mode of STREAM_MODES) {
  describe(`zlib streams ${mode}`, () => {
    useStreamMode(mode);
    const deflating = (
      role: Role,
      parameters: Partial<PerMessageDeflateParameters> = {},
      settings: DeflateSettings = {},
      maxMessageSize: number | null = null,
    ) => deflatingWith(role, parameters, inMode(mode, settings), maxMessageSize);

    for (const role of ["client", "server"] as const satisfies readonly Role[]) {
      const peer = peerOf(role);

      describe(`permessage-deflate as a ${role}`, () => {
        describe("RFC 7692 §7.2.3 examples", () => {
          it("sends 'Hello' compressed as f2 48 cd c9 c9 07 00 with RSV1 (§7.2.3.1)", () => {
            const protocol = deflating(role);
            protocol.sendText("Hello");
            assert.deepEqual(protocol.dataToSend().map(toHex), [
              toHex(wire(role, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true })),
            ]);
          });

          it("receives 'Hello' compressed (§7.2.3.1)", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            const [frame] = frames(protocol);
            assert.equal(frame!.rsv1, false);
            assert.equal(text(frame!.data), "Hello");
          });

          it("receives 'Hello' compressed and fragmented (§7.2.3.1)", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              concat([
                wire(peer, Opcode.TEXT, hex("f2 48 cd"), { fin: false, rsv1: true }),
                wire(peer, Opcode.PING, utf8("between")),
                wire(peer, Opcode.CONT, hex("c9 c9 07 00")),
              ]),
            );
            const received = frames(protocol);
            assert.deepEqual(
              received.map((frame) => [frame.opcode, frame.fin, frame.rsv1, text(frame.data)]),
              // RFC 7692 §7.2.3.1: f2 48 cd inflates to "He" (the "l" after it
              // is cut in the middle of its code).
              inflatesFragments(mode)
                ? [
                    [Opcode.TEXT, false, false, "He"],
                    [Opcode.PING, true, false, "between"],
                    [Opcode.CONT, true, false, "llo"],
                  ]
                : [
                    [Opcode.TEXT, false, false, ""],
                    [Opcode.PING, true, false, "between"],
                    [Opcode.CONT, true, false, "Hello"],
                  ],
            );
          });

          it("receives messages in 1-byte fragments with empty ones between them", () => {
            let seed = 7;
            const noise = new Uint8Array(1000).map(() => {
              seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
              return seed >>> 24;
            });
            const incompressible = zlib
              .deflateRawSync(noise, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
              .subarray(0, -4);
            // Over 1000 bytes: held up to the allowance for a limit of 1000.
            assert.ok(incompressible.length > 1000);
            const protocol = deflating(role, {}, {}, 1000);
            const payloads = [hex("f2 48 cd c9 c9 07 00"), hex("f2 00 11 00 00"), incompressible];
            for (const payload of payloads) {
              const fragments = [...payload].flatMap((byte, i) => [
                wire(peer, i === 0 ? Opcode.BINARY : Opcode.CONT, Uint8Array.of(byte), {
                  fin: false,
                  rsv1: i === 0,
                }),
                wire(peer, Opcode.CONT, new Uint8Array(0), { fin: i === payload.length - 1 }),
              ]);
              protocol.receiveData(concat(fragments));
            }
            assert.deepEqual(messagesOf(frames(protocol)).map(toHex), [
              toHex(utf8("Hello")),
              toHex(utf8("Hello")),
              toHex(noise),
            ]);
            assert.equal(protocol.state, State.OPEN);
          });

          it("sends the same message twice shorter the second time, sharing the window (§7.2.3.2)", () => {
            const protocol = deflating(role);
            protocol.sendText("Hello");
            protocol.sendText("Hello");
            assert.deepEqual(sentFrames(protocol), [
              [Opcode.TEXT, true, true, "f248cdc9c90700"],
              [Opcode.TEXT, true, true, "f200110000"],
            ]);
          });

          it("receives a message that refers to the previous one (§7.2.3.2)", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            protocol.receiveData(wire(peer, Opcode.TEXT, hex("f2 00 11 00 00"), { rsv1: true }));
            assert.deepEqual(
              frames(protocol).map((frame) => text(frame.data)),
              ["Hello", "Hello"],
            );
          });

          it("compresses each message on its own without context takeover", () => {
            const protocol = deflating(role, { localNoContextTakeover: true });
            protocol.sendText("Hello");
            protocol.sendText("Hello");
            assert.deepEqual(sentFrames(protocol), [
              [Opcode.TEXT, true, true, "f248cdc9c90700"],
              [Opcode.TEXT, true, true, "f248cdc9c90700"],
            ]);
          });

          it("decompresses each message on its own when the peer takes no context over", () => {
            const protocol = deflating(role, { remoteNoContextTakeover: true });
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            assert.deepEqual(
              frames(protocol).map((frame) => text(frame.data)),
              ["Hello", "Hello"],
            );
          });

          it("sends and receives a DEFLATE block with no compression (§7.2.3.3)", () => {
            const protocol = deflating(role, {}, { level: 0 });
            protocol.sendText("Hello");
            assert.deepEqual(sentFrames(protocol), [
              [Opcode.TEXT, true, true, "000500faff48656c6c6f00"],
            ]);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("00 05 00 fa ff 48 65 6c 6c 6f 00"), { rsv1: true }),
            );
            assert.equal(text(frames(protocol)[0]!.data), "Hello");
          });

          it("receives a DEFLATE block with BFINAL set (§7.2.3.4)", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f3 48 cd c9 c9 07 00 00"), { rsv1: true }),
            );
            assert.equal(text(frames(protocol)[0]!.data), "Hello");
          });

          it("receives two DEFLATE blocks in one message (§7.2.3.5)", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 05 00 00 00 ff ff ca c9 c9 07 00"), {
                rsv1: true,
              }),
            );
            assert.equal(text(frames(protocol)[0]!.data), "Hello");
          });

          it("sends and receives an empty message as a single 00 byte", () => {
            const protocol = deflating(role);
            protocol.sendBinary(new Uint8Array(0));
            assert.deepEqual(sentFrames(protocol), [[Opcode.BINARY, true, true, "00"]]);
            protocol.receiveData(wire(peer, Opcode.BINARY, hex("00"), { rsv1: true }));
            assert.equal(frames(protocol)[0]!.data.length, 0);
          });
        });

        describe("sending", () => {
          it("sets RSV1 on the first frame of a fragmented message only", () => {
            const protocol = deflating(role);
            protocol.sendText("Hel", false);
            protocol.sendPing("between");
            protocol.sendContinuation("lo", false);
            protocol.sendContinuation("", true);
            const sent = sentFrames(protocol);
            assert.deepEqual(
              sent.map(([opcode, rsv1, fin]) => [opcode, rsv1, fin]),
              [
                [Opcode.TEXT, true, false],
                [Opcode.PING, false, true],
                [Opcode.CONT, false, false],
                [Opcode.CONT, false, true],
              ],
            );
            // A ping is never compressed (RFC 7692 §6.1).
            assert.equal(sent[1]![3], toHex(utf8("between")));
            // Each fragment ends with a sync flush, except the last one whose tail is removed.
            assert.ok(sent[0]![3].endsWith("0000ffff"));
            assert.ok(sent[2]![3].endsWith("0000ffff"));
            assert.equal(sent[3]![3], "00");
          });

          it("sends a fragmented message that the peer decompresses", () => {
            const protocol = deflating(role);
            const receiver = deflating(peer);
            protocol.sendBinary(utf8("abc".repeat(100)), false);
            protocol.sendContinuation(utf8("abc".repeat(100)), false);
            protocol.sendContinuation(utf8("xyz"), true);
            for (const chunk of protocol.dataToSend()) receiver.receiveData(chunk);
            const received = frames(receiver);
            assert.deepEqual(
              received.map((frame) => [frame.opcode, frame.data.length]),
              inflatesFragments(mode)
                ? [
                    [Opcode.BINARY, 300],
                    [Opcode.CONT, 300],
                    [Opcode.CONT, 3],
                  ]
                : [
                    [Opcode.BINARY, 0],
                    [Opcode.CONT, 0],
                    [Opcode.CONT, 603],
                  ],
            );
            assert.equal(text(messagesOf(received)[0]!), `${"abc".repeat(200)}xyz`);
          });

          it("sends messages under the threshold uncompressed", () => {
            const protocol = deflating(role, {}, { threshold: 6 });
            protocol.sendText("Hello");
            protocol.sendText("Hello!");
            protocol.sendText("Hel", false);
            protocol.sendContinuation("lo", true);
            assert.deepEqual(
              sentFrames(protocol).map(([opcode, rsv1, fin]) => [opcode, rsv1, fin]),
              [
                [Opcode.TEXT, false, true],
                [Opcode.TEXT, true, true],
                [Opcode.TEXT, true, false],
                [Opcode.CONT, false, true],
              ],
            );
          });

          it("sends messages uncompressed when asked, every fragment of them", () => {
            const protocol = deflating(role);
            protocol.sendText("Hello", true, { compress: false });
            protocol.sendBinary(utf8("Hel"), false, { compress: false });
            protocol.sendContinuation("lo", true);
            protocol.sendText("Hello", true, { compress: true });
            assert.deepEqual(sentFrames(protocol), [
              [Opcode.TEXT, false, true, toHex(utf8("Hello"))],
              [Opcode.BINARY, false, false, toHex(utf8("Hel"))],
              [Opcode.CONT, false, true, toHex(utf8("lo"))],
              // The uncompressed messages stayed out of the window.
              [Opcode.TEXT, true, true, "f248cdc9c90700"],
            ]);
          });

          it("sends incompressible messages uncompressed, outside the window", () => {
            const protocol = deflating(role);
            let seed = 1;
            const noise = new Uint8Array(65536).map(() => {
              seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
              return seed >>> 24;
            });
            protocol.sendBinary(noise);
            protocol.sendText("Hello");
            protocol.sendBinary(noise, false);
            protocol.sendContinuation("", true);
            const sent = sentFrames(protocol);
            assert.deepEqual(sent[0], [Opcode.BINARY, false, true, toHex(noise)]);
            // "Hello" is compressed as if the noise had never been sent.
            assert.deepEqual(sent[1], [Opcode.TEXT, true, true, "f248cdc9c90700"]);
            // A fragmented message is compressed whatever its first frame becomes.
            assert.deepEqual(
              sent.slice(2).map(([opcode, rsv1]) => [opcode, rsv1]),
              [
                [Opcode.BINARY, true],
                [Opcode.CONT, false],
              ],
            );
            assert.ok(sent[2]![3].length / 2 > noise.length);
          });

          it("keeps at most the negotiated window of what it sent", () => {
            const protocol = deflating(role, { localMaxWindowBits: 9 });
            const receiver = deflating(peer, { remoteMaxWindowBits: 9 });
            const messages = Array.from(
              { length: 6 },
              (_, i) => `${i}:${"0123456789".repeat(40 + i)}`,
            );
            for (const message of messages) protocol.sendText(message);
            for (const chunk of protocol.dataToSend()) receiver.receiveData(chunk);
            assert.deepEqual(
              frames(receiver).map((frame) => text(frame.data)),
              messages,
            );
          });
        });

        describe("receiving", () => {
          it("passes uncompressed messages through, outside the window", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            protocol.receiveData(wire(peer, Opcode.TEXT, utf8("plain")));
            protocol.receiveData(wire(peer, Opcode.TEXT, utf8("frag"), { fin: false }));
            protocol.receiveData(wire(peer, Opcode.CONT, utf8("ment")));
            protocol.receiveData(wire(peer, Opcode.TEXT, hex("f2 00 11 00 00"), { rsv1: true }));
            assert.deepEqual(
              frames(protocol).map((frame) => text(frame.data)),
              ["Hello", "plain", "frag", "ment", "Hello"],
            );
          });

          it("fails with 1002 on RSV1 on a control frame", () => {
            const protocol = deflating(role);
            protocol.receiveData(wire(peer, Opcode.PING, utf8("x"), { rsv1: true }));
            assert.equal(failedWith(protocol), CloseCode.PROTOCOL_ERROR);
          });

          it("fails with 1002 on RSV1 on a continuation frame", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd"), { fin: false, rsv1: true }),
            );
            protocol.receiveData(wire(peer, Opcode.CONT, hex("c9 c9 07 00"), { rsv1: true }));
            assert.equal(failedWith(protocol), CloseCode.PROTOCOL_ERROR);
          });

          it("fails with 1002 on RSV1 without permessage-deflate", () => {
            const protocol = openProtocol(role);
            protocol.receiveData(
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
            );
            assert.equal(failedWith(protocol), CloseCode.PROTOCOL_ERROR);
          });

          it("fails with 1007 on corrupt compressed data", () => {
            const protocol = deflating(role);
            protocol.receiveData(wire(peer, Opcode.BINARY, hex("ff ff ff"), { rsv1: true }));
            assert.equal(failedWith(protocol), CloseCode.INVALID_DATA);
            assert.ok(protocol.parserExc instanceof ProtocolError);
          });

          it("fails with 1007 on compressed text that isn't UTF-8", () => {
            const protocol = deflating(role);
            const payload = zlib.deflateRawSync(hex("ff fe"), {
              finishFlush: zlib.constants.Z_SYNC_FLUSH,
            });
            protocol.receiveData(wire(peer, Opcode.TEXT, payload.subarray(0, -4), { rsv1: true }));
            assert.equal(failedWith(protocol), CloseCode.INVALID_DATA);
          });
        });

        describe("receiving a compressed message in fragments", () => {
          // "Hello, Hello, Hello!" in one fixed Huffman block (RFC 1951 §3.2.6),
          // whose second and third "Hello" are back-references to the first.
          const payload = hex("f2 48 cd c9 c9 d7 51 f0 40 a2 14 01 00");
          /** The payloads of `received` as text, with each frame's FIN. */
          const decoded = (received: readonly Frame[]) =>
            received.map((frame) => [frame.opcode, frame.fin, frame.rsv1, text(frame.data)]);

          it("inflates each frame as it arrives, cut inside a DEFLATE block (RFC 7692 §7.2.2)", () => {
            const protocol = deflating(role);
            // A first byte holding the block header and part of "H", which
            // inflates to nothing; then an empty frame.
            const cuts = [
              [0, 1],
              [1, 5],
              [5, 5],
              [5, payload.length],
            ] as const;
            cuts.forEach(([start, end], i) => {
              protocol.receiveData(
                wire(peer, i === 0 ? Opcode.TEXT : Opcode.CONT, payload.subarray(start, end), {
                  fin: i === cuts.length - 1,
                  rsv1: i === 0,
                }),
              );
            });
            assert.deepEqual(
              decoded(frames(protocol)),
              inflatesFragments(mode)
                ? [
                    [Opcode.TEXT, false, false, ""],
                    [Opcode.CONT, false, false, "Hell"],
                    [Opcode.CONT, false, false, ""],
                    [Opcode.CONT, true, false, "o, Hello, Hello!"],
                  ]
                : // The fallback can't continue a stream cut anywhere: the
                  // fragments are held, and the message comes out at the end.
                  [
                    [Opcode.TEXT, false, false, ""],
                    [Opcode.CONT, false, false, ""],
                    [Opcode.CONT, false, false, ""],
                    [Opcode.CONT, true, false, "Hello, Hello, Hello!"],
                  ],
            );
            assert.equal(protocol.state, State.OPEN);
          });

          it("keeps every frame's output in the window for the next message (RFC 7692 §7.1.1)", () => {
            const protocol = deflating(role);
            const extension = protocol.extensions[0] as PerMessageDeflate;
            protocol.receiveData(
              concat([
                wire(peer, Opcode.TEXT, hex("f2 48 cd"), { fin: false, rsv1: true }),
                wire(peer, Opcode.CONT, hex("c9 c9 07 00")),
              ]),
            );
            // RFC 7692 §7.2.3.2: "Hello" again, as a reference to the one before.
            // A fresh frame each time: the protocol unmasks in place.
            const again = () => wire(peer, Opcode.TEXT, hex("f2 00 11 00 00"), { rsv1: true });
            protocol.receiveData(again());
            // Once more from the window alone: the streams closed.
            extension.releaseIdleState();
            assert.equal(extension.holdsStreams, false);
            protocol.receiveData(again());
            assert.deepEqual(
              frames(protocol).map((frame) => text(frame.data)),
              inflatesFragments(mode)
                ? ["He", "llo", "Hello", "Hello"]
                : ["", "Hello", "Hello", "Hello"],
            );
          });

          it("starts afresh after a message's last frame only, without context takeover", () => {
            const protocol = deflating(role, { remoteNoContextTakeover: true });
            // As a peer without context takeover sends "Hello" in two
            // fragments: the second refers to the first, within the message.
            const message = [
              wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00 00 00 ff ff"), {
                fin: false,
                rsv1: true,
              }),
              wire(peer, Opcode.CONT, hex("f2 00 11 00 00")),
            ];
            protocol.receiveData(concat(message));
            protocol.receiveData(concat(message));
            assert.deepEqual(
              decoded(frames(protocol)).filter(([, fin]) => fin || inflatesFragments(mode)),
              inflatesFragments(mode)
                ? [
                    [Opcode.TEXT, false, false, "Hello"],
                    [Opcode.CONT, true, false, "Hello"],
                    [Opcode.TEXT, false, false, "Hello"],
                    [Opcode.CONT, true, false, "Hello"],
                  ]
                : [
                    [Opcode.CONT, true, false, "HelloHello"],
                    [Opcode.CONT, true, false, "HelloHello"],
                  ],
            );
          });

          it("ignores what follows a block with BFINAL in a non-final frame (RFC 7692 §7.2.3.4)", () => {
            const protocol = deflating(role);
            // The stream ends inside the first frame, then exactly at its end.
            for (const first of [hex("f3 48 cd c9 c9 07 00 00"), hex("f3 48 cd c9 c9 07 00")]) {
              protocol.receiveData(
                concat([
                  wire(peer, Opcode.TEXT, first, { fin: false, rsv1: true }),
                  wire(peer, Opcode.CONT, new Uint8Array(0), { fin: false }),
                  wire(peer, Opcode.CONT, hex("ff ff ff"), { fin: false }),
                  wire(peer, Opcode.CONT, hex("ff")),
                ]),
              );
              // The next message opens a stream from the window.
              protocol.receiveData(wire(peer, Opcode.TEXT, hex("f2 00 11 00 00"), { rsv1: true }));
            }
            const received = frames(protocol);
            assert.deepEqual(messagesOf(received).map(text), ["Hello", "Hello", "Hello", "Hello"]);
            if (inflatesFragments(mode)) assert.equal(text(received[0]!.data), "Hello");
            assert.equal(protocol.state, State.OPEN);
          });

          it("fails with 1007 on corrupt data in a non-final frame", () => {
            const protocol = deflating(role);
            const extension = protocol.extensions[0] as PerMessageDeflate;
            const hello = hex("f2 48 cd c9 c9 07 00 00 00 ff ff");
            protocol.receiveData(wire(peer, Opcode.BINARY, hello, { fin: false, rsv1: true }));
            // At a block boundary, BTYPE 11: "error" (RFC 1951 §3.2.3).
            protocol.receiveData(wire(peer, Opcode.CONT, hex("ff ff ff"), { fin: false }));
            if (inflatesFragments(mode)) {
              assert.equal(failedWith(protocol), CloseCode.INVALID_DATA);
              assert.ok(protocol.parserExc instanceof ProtocolError);
            } else {
              assert.equal(protocol.state, State.OPEN);
              protocol.receiveData(wire(peer, Opcode.CONT, new Uint8Array(0)));
              assert.equal(failedWith(protocol), CloseCode.INVALID_DATA);
            }
            assert.equal(extension.holdsStreams, false, "the stream is closed");
          });

          it("fails with 1002 on a new message before the last frame of a compressed one", () => {
            const protocol = deflating(role);
            protocol.receiveData(
              concat([
                wire(peer, Opcode.TEXT, hex("f2 48 cd"), { fin: false, rsv1: true }),
                wire(peer, Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
              ]),
            );
            assert.equal(failedWith(protocol), CloseCode.PROTOCOL_ERROR);
            assert.match(String(protocol.parserExc), /expected a continuation frame/);
          });
        });

        describe("decompression bombs", () => {
          const deflate = (data: Uint8Array) =>
            zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);

          it("accepts a message that decompresses to exactly the limit", () => {
            const protocol = deflating(role, {}, {}, 1000);
            protocol.receiveData(
              wire(peer, Opcode.BINARY, deflate(new Uint8Array(1000)), { rsv1: true }),
            );
            assert.equal(frames(protocol)[0]!.data.length, 1000);
            assert.equal(protocol.state, State.OPEN);
          });

          it("fails with 1009 on a message that decompresses to one byte more", () => {
            const protocol = deflating(role, {}, {}, 1000);
            protocol.receiveData(
              wire(peer, Opcode.BINARY, deflate(new Uint8Array(1001)), { rsv1: true }),
            );
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            assert.ok(protocol.parserExc instanceof PayloadTooBig);
          });

          it("stops inflating a 1 GiB bomb at the limit", () => {
            // 1 GiB of zeros compresses to about 1 MiB; build it from identical
            // chunks rather than allocating the gigabyte.
            const chunk = new Uint8Array(1024 * 1024);
            const stream = zlib.deflateRawSync(chunk, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
            const bomb = concat(Array.from({ length: 1024 }, () => stream));
            const protocol = deflating(role, {}, {}, 1024 * 1024);
            const before = process.memoryUsage().arrayBuffers;
            protocol.receiveData(
              wire(peer, Opcode.BINARY, bomb.subarray(0, 1024 * 1024 - 1), { rsv1: true }),
            );
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            assert.match(
              String(protocol.parserExc),
              /decompressed message exceeds limit of 1048576 bytes/,
            );
            // Nothing near the gigabyte was ever allocated.
            assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
          });

          it("fails with 1009 on a fragmented bomb", () => {
            const protocol = deflating(role, {}, {}, 10_000);
            const payload = deflate(new Uint8Array(100_000));
            const middle = Math.floor(payload.length / 2);
            protocol.receiveData(
              concat([
                wire(peer, Opcode.BINARY, payload.subarray(0, middle), { fin: false, rsv1: true }),
                wire(peer, Opcode.CONT, payload.subarray(middle)),
              ]),
            );
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
          });

          it("stops inflating a bomb spread over fragments at the message limit", () => {
            // 1 MiB of zeros compresses to about 1 KiB, ending with a sync flush.
            const chunk = zlib.deflateRawSync(new Uint8Array(1024 * 1024), {
              finishFlush: zlib.constants.Z_SYNC_FLUSH,
            });
            const limit = 2 * 1024 * 1024;
            const protocol = deflating(role, {}, {}, limit);
            const before = process.memoryUsage().arrayBuffers;
            protocol.receiveData(wire(peer, Opcode.BINARY, chunk, { fin: false, rsv1: true }));
            assert.equal(protocol.state, State.OPEN);
            // About 1 MiB that would inflate to 1 GiB, with 1 MiB of room left.
            const bomb = concat(Array.from({ length: 1024 }, () => chunk));
            protocol.receiveData(wire(peer, Opcode.CONT, bomb, { fin: false }));
            if (!inflatesFragments(mode)) {
              // The fallback holds the fragments, which fit in the allowance,
              // and inflates them with the last one.
              assert.equal(protocol.state, State.OPEN);
              protocol.receiveData(wire(peer, Opcode.CONT, new Uint8Array(0)));
            }
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            assert.ok(protocol.parserExc instanceof PayloadTooBig);
            assert.match(
              String(protocol.parserExc),
              /decompressed message exceeds limit of 2097152 bytes/,
            );
            // The first fragment came out inflated, and nothing near the gigabyte was allocated.
            assert.deepEqual(
              frames(protocol).map((frame) => frame.data.length),
              inflatesFragments(mode) ? [1024 * 1024] : [0, 0],
            );
            assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
          });

          it("fails with 1009 when the compressed fragments alone exceed the limit", () => {
            const protocol = deflating(role, {}, {}, 100);
            // Empty stored blocks (RFC 1951 §3.2.4): valid DEFLATE that inflates to nothing.
            const empty = (blocks: number) =>
              concat(Array.from({ length: blocks }, () => hex("00 00 00 ff ff")));
            protocol.receiveData(wire(peer, Opcode.BINARY, empty(12), { fin: false, rsv1: true }));
            assert.equal(protocol.state, State.OPEN);
            protocol.receiveData(wire(peer, Opcode.CONT, empty(14), { fin: false }));
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
          });

          it("accepts an incompressible message of the limit that compression made larger", () => {
            let seed = 7;
            const noise = new Uint8Array(100_000).map(() => {
              seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
              return seed >>> 24;
            });
            const payload = zlib
              .deflateRawSync(noise, { finishFlush: zlib.constants.Z_SYNC_FLUSH, memLevel: 1 })
              .subarray(0, -4);
            assert.ok(payload.length > noise.length);
            const protocol = deflating(role, {}, {}, noise.length);
            protocol.receiveData(wire(peer, Opcode.BINARY, payload, { rsv1: true }));
            assert.equal(toHex(frames(protocol)[0]!.data), toHex(noise));
            assert.equal(protocol.state, State.OPEN);
          });

          it("fails with 1009 on an uncompressed message over the limit", () => {
            const protocol = deflating(role, {}, {}, 100);
            protocol.receiveData(wire(peer, Opcode.BINARY, new Uint8Array(101)));
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            const fragmented = deflating(role, {}, {}, 100);
            fragmented.receiveData(wire(peer, Opcode.BINARY, new Uint8Array(50), { fin: false }));
            fragmented.receiveData(wire(peer, Opcode.CONT, new Uint8Array(51)));
            assert.equal(failedWith(fragmented), CloseCode.MESSAGE_TOO_BIG);
          });

          it("quotes the limit the application set when a frame header is over the allowance", () => {
            // The frame parser checks headers against the allowance for compressed
            // frames (above 1000 here); the reason names the 1000 bytes configured.
            const protocol = deflating(role, {}, {}, 1000);
            protocol.receiveData(
              wire(peer, Opcode.BINARY, new Uint8Array(100_000), { rsv1: true }).subarray(0, 14),
            );
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            assert.equal(
              String(protocol.parserExc),
              "PayloadTooBig: message exceeds limit of 1000 bytes",
            );
            const fragmented = deflating(role, {}, {}, 1000);
            fragmented.receiveData(wire(peer, Opcode.BINARY, new Uint8Array(10), { fin: false }));
            fragmented.receiveData(
              wire(peer, Opcode.CONT, new Uint8Array(100_000)).subarray(0, 14),
            );
            assert.match(
              String(fragmented.parserExc),
              /fragmented message exceeds limit of 1000 bytes$/,
            );
          });

          it("refuses a compressed fragment from its header when it and those before exceed the allowance", () => {
            // The header check counts a compressed message's bytes as received,
            // whether inflated already or held (the fallback) until the last one.
            const protocol = deflating(role, {}, {}, 1000);
            const empty = concat(Array.from({ length: 200 }, () => hex("00 00 00 ff ff")));
            protocol.receiveData(wire(peer, Opcode.BINARY, empty, { fin: false, rsv1: true }));
            assert.equal(protocol.state, State.OPEN);
            const next = wire(peer, Opcode.CONT, new Uint8Array(1000), { fin: false });
            protocol.receiveData(next.subarray(0, next.length - 1000));
            assert.equal(failedWith(protocol), CloseCode.MESSAGE_TOO_BIG);
            assert.match(
              String(protocol.parserExc),
              /fragmented message exceeds limit of 1000 bytes$/,
            );
          });

          it("counts a compressed message's fragments afresh after its last one", () => {
            const protocol = deflating(role, {}, {}, 1000);
            const hello = zlib
              .deflateRawSync(new Uint8Array(900), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
              .subarray(0, -4);
            for (let i = 0; i < 3; i++) {
              protocol.receiveData(
                wire(peer, Opcode.BINARY, new Uint8Array(0), { fin: false, rsv1: true }),
              );
              protocol.receiveData(wire(peer, Opcode.CONT, hello.subarray(0, 2), { fin: false }));
              protocol.receiveData(wire(peer, Opcode.CONT, hello.subarray(2)));
              const received = messagesOf(frames(protocol));
              assert.equal(received.length, 1);
              assert.equal(received[0]!.length, 900);
            }
            const empty = concat(Array.from({ length: 220 }, () => hex("00 00 00 ff ff")));
            protocol.receiveData(wire(peer, Opcode.BINARY, empty, { fin: false, rsv1: true }));
            assert.equal(protocol.state, State.OPEN);
          });
        });
      });
    }
  });
}

describe("PerMessageDeflate", () => {
  it("describes itself for logs", () => {
    assert.equal(
      String(new PerMessageDeflate({ ...DEFAULTS, localMaxWindowBits: 12 })),
      "permessage-deflate; local_max_window_bits=12; remote_max_window_bits=15",
    );
    const extension = new PerMessageDeflate({
      ...DEFAULTS,
      localNoContextTakeover: true,
      remoteNoContextTakeover: true,
    });
    assert.equal(
      String(extension),
      "permessage-deflate; local_no_context_takeover; remote_no_context_takeover; local_max_window_bits=15; remote_max_window_bits=15",
    );
  });

  it("refuses window bits outside 8–15", () => {
    assert.throws(() => new PerMessageDeflate({ ...DEFAULTS, localMaxWindowBits: 16 }), RangeError);
    assert.throws(() => new PerMessageDeflate({ ...DEFAULTS, remoteMaxWindowBits: 7 }), RangeError);
  });

  it("copies a short decompressed message out of zlib's output chunk", () => {
    const extension = new PerMessageDeflate(DEFAULTS);
    const frame = extension.decode(
      new Frame(Opcode.TEXT, hex("f2 48 cd c9 c9 07 00"), true, true),
      1000,
    );
    assert.equal(frame.data.buffer.byteLength, 5);
  });

  it("refuses a message's compressed fragments past the allowance, without the protocol's header check", () => {
    const extension = new PerMessageDeflate(DEFAULTS);
    const allowance = extension.maxEncodedSize(100);
    assert.equal(allowance, 125);
    // 25 empty stored blocks (RFC 1951 §3.2.4): 125 bytes that inflate to nothing.
    const empty = concat(Array.from({ length: 25 }, () => hex("00 00 00 ff ff")));
    const first = new Frame(Opcode.BINARY, empty, false, true);
    assert.equal(extension.decode(first, 100).data.length, 0);
    assert.throws(
      () => extension.decode(new Frame(Opcode.CONT, new Uint8Array(1), false), 100),
      /compressed message exceeds limit of 100 bytes/,
    );
  });

  it("refuses anything but an empty message with a limit of 0", () => {
    const extension = new PerMessageDeflate(DEFAULTS);
    assert.equal(extension.decode(new Frame(Opcode.TEXT, hex(""), true, true), 0).data.length, 0);
    const frame = new Frame(Opcode.TEXT, hex("4a 04 00"), true, true);
    assert.throws(() => extension.decode(frame, 0), PayloadTooBig);
  });

  it("claims RSV1 alone, from its prototype", () => {
    const extension: Extension = new PerMessageDeflate(DEFAULTS);
    assert.equal(extension.reservedBits, 0x40);
    assert.equal(Object.hasOwn(extension, "reservedBits"), false, "no field per connection");
  });

  it("works with any other extension: RSV2 and RSV3 pass through", () => {
    const extension: Extension = new PerMessageDeflate(DEFAULTS);
    const encoded = extension.encode(
      new Frame(Opcode.TEXT, utf8("Hello"), true, false, true, true),
    );
    assert.deepEqual([encoded.rsv1, encoded.rsv2, encoded.rsv3], [true, true, true]);
    const decoded = extension.decode(encoded, 1000);
    assert.deepEqual([decoded.rsv1, decoded.rsv2, decoded.rsv3], [false, true, true]);
    assert.equal(text(decoded.data), "Hello");
  });
});

for (const mode of STREAM_MODES) {
  describe(`zlib streams ${mode}`, () => {
    useStreamMode(mode);
    const deflating = (
      role: Role,
      parameters: Partial<PerMessageDeflateParameters> = {},
      settings: DeflateSettings = {},
      maxMessageSize: number | null = null,
    ) => deflatingWith(role, parameters, inMode(mode, settings), maxMessageSize);

    describe("permessage-deflate against persistent zlib streams", () => {
      /** Messages that exercise the window: repeats, and sizes around 2^15. */
      const messages = [
        "Hello",
        "Hello",
        "x".repeat(40_000),
        `${"abcdefghij".repeat(3000)}Hello`,
        "the end",
        "",
        `Hello${"0123456789".repeat(5000)}`,
      ].map(utf8);

      for (const windowBits of [15, 10]) {
        it(`decodes what a zlib stream compresses with context takeover (window bits ${windowBits})`, async () => {
          const stream = zlib.createDeflateRaw({ windowBits });
          const extension = new PerMessageDeflate(
            { ...DEFAULTS, remoteMaxWindowBits: windowBits },
            inMode(mode),
          );
          try {
            for (const message of messages) {
              const payload = (await flushThrough(stream, message)).subarray(0, -4);
              const frame = extension.decode(
                new Frame(Opcode.BINARY, payload, true, true),
                Infinity,
              );
              assert.equal(toHex(frame.data), toHex(message));
            }
          } finally {
            stream.close();
          }
        });

        it(`encodes what a zlib stream decompresses with context takeover (window bits ${windowBits})`, async () => {
          const stream = zlib.createInflateRaw({ windowBits });
          const extension = new PerMessageDeflate(
            { ...DEFAULTS, localMaxWindowBits: windowBits },
            inMode(mode),
          );
          try {
            for (const message of messages) {
              const frame = extension.encode(new Frame(Opcode.BINARY, message));
              const output = await flushThrough(stream, concat([frame.data, hex("00 00 ff ff")]));
              assert.equal(toHex(output), toHex(message));
            }
          } finally {
            stream.close();
          }
        });
      }
    });

    describe("permessage-deflate round trips", () => {
      const parameters = fc.record({
        localNoContextTakeover: fc.boolean(),
        remoteNoContextTakeover: fc.boolean(),
        localMaxWindowBits: fc.integer({ min: 8, max: 15 }),
        remoteMaxWindowBits: fc.integer({ min: 8, max: 15 }),
      });
      const settings = fc.record({
        level: fc.integer({ min: -1, max: 9 }),
        memLevel: fc.integer({ min: 1, max: 9 }),
        threshold: fc.integer({ min: 0, max: 64 }),
      });
      // Repetitive data, so that messages refer to earlier ones.
      const message = fc.record({
        data: fc
          .array(fc.constantFrom("a", "bc", "Hello", "0123456789", "é", "\u{1F600}"), {
            maxLength: 400,
          })
          .map((parts) => parts.join("")),
        fragments: fc.integer({ min: 1, max: 4 }),
        compress: fc.boolean(),
        binary: fc.boolean(),
      });

      it("delivers every message as sent, whatever the parameters and fragmentation", () => {
        fc.assert(
          fc.property(
            parameters,
            settings,
            fc.array(message, { maxLength: 12 }),
            (params, tuning, sent) => {
              for (const role of ["client", "server"] as const) {
                const sender = deflating(role, params, tuning);
                const receiver = deflating(peerOf(role), {
                  localNoContextTakeover: params.remoteNoContextTakeover,
                  remoteNoContextTakeover: params.localNoContextTakeover,
                  localMaxWindowBits: params.remoteMaxWindowBits,
                  remoteMaxWindowBits: params.localMaxWindowBits,
                });
                for (const { data, fragments, compress, binary } of sent) {
                  const bytes = utf8(data);
                  const size = Math.ceil(bytes.length / fragments);
                  const parts = Array.from({ length: fragments }, (_, i) =>
                    bytes.subarray(i * size, (i + 1) * size),
                  );
                  const options = { compress };
                  if (binary) sender.sendBinary(parts[0]!, fragments === 1, options);
                  else sender.sendText(parts[0]!, fragments === 1, options);
                  for (let i = 1; i < fragments; i++)
                    sender.sendContinuation(parts[i]!, i === fragments - 1);
                }
                for (const chunk of sender.dataToSend()) receiver.receiveData(chunk);
                const received: string[] = [];
                let current: Uint8Array[] = [];
                for (const frame of frames(receiver)) {
                  current.push(frame.data);
                  if (frame.fin) {
                    received.push(text(concat(current)));
                    current = [];
                  }
                }
                assert.deepEqual(
                  received,
                  sent.map(({ data }) => data),
                );
                assert.equal(receiver.state, State.OPEN);
              }
            },
          ),
          { numRuns: 60 },
        );
      });
    });
  });
}
