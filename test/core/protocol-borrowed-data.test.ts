import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { constants, deflateRawSync } from "node:zlib";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { Protocol } from "../../src/core/protocol.js";
import { ServerProtocol } from "../../src/core/server.js";
import { concat, hex } from "../helpers/bytes.js";
import { fromPeer, openProtocol, type Role } from "../helpers/protocol.js";

/** The data frames the protocol parsed since the last call. */
function frames(protocol: Protocol): Frame[] {
  return protocol.eventsReceived().filter((event): event is Frame => "opcode" in event);
}

/** Bytes whose value depends on their position, so that a byte out of place shows. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >>> 8)) & 0xff;
  return bytes;
}

/**
 * Feeds the first `split` bytes of `wire` as borrowed memory, which is then
 * overwritten, as the next read of another socket would; then the rest.
 * Returns what receiveBorrowedData() answered.
 */
function feedBorrowed(protocol: Protocol, wire: Uint8Array, split: number): boolean {
  // A Buffer, as the Node layer's shared read buffer is: its slice() is a view.
  const shared = Buffer.alloc(65536);
  shared.set(wire.subarray(0, split));
  const taken = protocol.receiveBorrowedData(shared.subarray(0, split));
  shared.fill(0xaa);
  if (!taken) protocol.receiveData(wire.slice(0, split));
  protocol.receiveData(wire.slice(split));
  return taken;
}

const LARGE = 100_000;

describe("Protocol.receiveBorrowedData", () => {
  for (const role of ["server", "client"] as Role[]) {
    describe(role, () => {
      it("parses a large frame's start where it lies and keeps none of it", () => {
        const payload = pattern(LARGE);
        const protocol = openProtocol(role);
        assert.equal(feedBorrowed(protocol, fromPeer(role, Opcode.BINARY, payload), 40_000), true);
        const [frame, ...rest] = frames(protocol);
        assert.deepEqual(rest, []);
        assert.equal(frame?.opcode, Opcode.BINARY);
        assert.deepEqual(frame.data, payload);
        assert.equal(protocol.closeSent, null);
      });

      it("copies what it buffers when too little of the payload came to assemble it", () => {
        // Under a sixteenth of the payload: the parser waits for more before it allocates.
        const payload = pattern(LARGE);
        const protocol = openProtocol(role);
        assert.equal(feedBorrowed(protocol, fromPeer(role, Opcode.BINARY, payload), 1_000), true);
        assert.deepEqual(frames(protocol)[0]?.data, payload);
      });

      it("copies the bytes held while the application's queue is full", () => {
        const payload = pattern(LARGE);
        const wire = fromPeer(role, Opcode.BINARY, payload);
        const protocol = openProtocol(role);
        protocol.decodedMessageBudget = 0;
        const shared = Buffer.alloc(65536);
        shared.set(wire.subarray(0, 30_000));
        assert.equal(protocol.receiveBorrowedData(shared.subarray(0, 30_000)), true);
        shared.fill(0xaa);
        protocol.decodedMessageBudget = -1;
        protocol.resumeParsing();
        protocol.receiveData(wire.slice(30_000));
        assert.deepEqual(frames(protocol)[0]?.data, payload);
      });

      it("checks a large text frame's UTF-8 as it arrives, from borrowed memory too", () => {
        const text = "€ and ü, ".repeat(10_000);
        const protocol = openProtocol(role);
        const wire = fromPeer(role, Opcode.TEXT, text);
        assert.equal(feedBorrowed(protocol, wire, 20_001), true);
        const [frame] = frames(protocol);
        assert.equal(new TextDecoder().decode(frame?.data), text);
        assert.equal(protocol.closeSent, null);
        // Invalid UTF-8 in the borrowed part is still found.
        const invalid = new TextEncoder().encode(text);
        invalid[5_000] = 0xff;
        const failing = openProtocol(role);
        feedBorrowed(failing, fromPeer(role, Opcode.TEXT, invalid), 20_001);
        assert.equal(failing.closeSent?.code, 1007);
      });

      it("keeps a code point split at the end of borrowed text it could not assemble yet", () => {
        // 1,000 bytes of the payload, under a sixteenth of it: the UTF-8 check
        // sees them where they lie, and the last € is cut after its first byte.
        const text = "€".repeat(40_000);
        const header = role === "server" ? 14 : 10;
        const protocol = openProtocol(role);
        assert.equal(
          feedBorrowed(protocol, fromPeer(role, Opcode.TEXT, text), header + 1_000),
          true,
        );
        assert.equal(protocol.closeSent, null);
        assert.equal(new TextDecoder().decode(frames(protocol)[0]?.data), text);
      });

      it("takes a large continuation of a fragmented message", () => {
        const tail = pattern(LARGE);
        const protocol = openProtocol(role);
        protocol.receiveData(fromPeer(role, Opcode.BINARY, hex("01 02"), false));
        assert.equal(feedBorrowed(protocol, fromPeer(role, Opcode.CONT, tail), 50_000), true);
        const parsed = frames(protocol);
        assert.deepEqual(
          parsed.map((frame) => frame.opcode),
          [Opcode.BINARY, Opcode.CONT],
        );
        assert.deepEqual(parsed[1]?.data, tail);
      });

      it("refuses the size limit from the borrowed header", () => {
        const protocol = openProtocol(role, { maxMessageSize: 70_000 });
        const wire = fromPeer(role, Opcode.BINARY, pattern(LARGE));
        assert.equal(protocol.receiveBorrowedData(wire.subarray(0, 30_000)), true);
        assert.equal(protocol.closeSent?.code, 1009);
      });

      it("declines anything but the start of a large frame that doesn't end in it", () => {
        const large = fromPeer(role, Opcode.BINARY, pattern(LARGE));
        const declined: [string, Protocol, Uint8Array][] = [
          ["a small frame", openProtocol(role), fromPeer(role, Opcode.BINARY, pattern(1000))],
          [
            "a 64 KiB - 1 frame",
            openProtocol(role),
            fromPeer(role, Opcode.BINARY, pattern(65535)).subarray(0, 30_000),
          ],
          ["a whole large frame", openProtocol(role), large],
          ["part of a header", openProtocol(role), large.subarray(0, 9)],
          [
            "a header without its masking key",
            openProtocol(role),
            large.subarray(0, role === "server" ? 12 : 9),
          ],
        ];
        const midFrame = openProtocol(role);
        midFrame.receiveData(fromPeer(role, Opcode.BINARY, pattern(1000)).subarray(0, 500));
        declined.push(["bytes after part of a frame", midFrame, large.subarray(0, 30_000)]);
        const midHeader = openProtocol(role);
        midHeader.receiveData(large.subarray(0, 3));
        declined.push(["bytes after part of a header", midHeader, large.subarray(3, 30_000)]);
        // A header parsed, its payload awaited, nothing buffered.
        const awaitingPayload = openProtocol(role);
        awaitingPayload.receiveData(
          fromPeer(role, Opcode.BINARY, pattern(1000)).subarray(0, role === "server" ? 8 : 4),
        );
        declined.push(["bytes after a header", awaitingPayload, large.subarray(0, 30_000)]);
        // A failure found behind a complete message, not reported yet.
        const failing = openProtocol(role, { deferFailureAfterMessages: true });
        failing.receiveData(
          concat([fromPeer(role, Opcode.TEXT, "before"), fromPeer(role, Opcode.CONT, "bad")]),
        );
        assert.equal(failing.failurePending, true);
        failing.eventsReceived();
        declined.push(["bytes after a failure", failing, large.subarray(0, 30_000)]);
        const handshaking = new ServerProtocol();
        declined.push(["bytes before the handshake", handshaking, large.subarray(0, 30_000)]);
        for (const [what, protocol, bytes] of declined) {
          const before = bytes.slice();
          assert.equal(protocol.receiveBorrowedData(bytes), false, what);
          assert.deepEqual(bytes, before, what);
          assert.deepEqual(protocol.eventsReceived(), [], what);
        }
      });
    });
  }

  it("takes a large compressed frame", () => {
    const text = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ i, v: i * 31 })));
    // RFC 7692 §7.2.1: compressed, flushed, and the flush's 00 00 ff ff dropped.
    const deflated = deflateRawSync(Buffer.from(text), {
      level: 0,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const compressed = deflated.subarray(0, deflated.length - 4);
    assert.ok(compressed.length > 70_000);
    const protocol = openProtocol("server");
    protocol.extensions = [
      new PerMessageDeflate({
        localNoContextTakeover: false,
        remoteNoContextTakeover: false,
        localMaxWindowBits: 15,
        remoteMaxWindowBits: 15,
      }),
    ];
    const wire = fromPeer("server", Opcode.TEXT, compressed, true, [true, false, false]);
    assert.equal(feedBorrowed(protocol, wire, 40_000), true);
    const [frame] = frames(protocol);
    assert.equal(new TextDecoder().decode(frame?.data), text);
  });

  it("leaves the bytes after a large frame's end to the copy", () => {
    // Whole frames never qualify: their payload would be handed out as a view.
    const protocol = openProtocol("server");
    const wire = concat([
      fromPeer("server", Opcode.BINARY, pattern(70_000)),
      fromPeer("server", Opcode.BINARY, hex("01")),
    ]);
    assert.equal(protocol.receiveBorrowedData(wire), false);
  });
});
