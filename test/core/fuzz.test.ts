/**
 * Fuzzing the parsers that face the network: frames, handshake requests and
 * handshake responses, fed random and mutated bytes in random chunks.
 *
 * Properties: only the documented errors come out (and `receiveData` throws
 * none at all), the state never goes backwards, and what is buffered stays
 * within the configured limits whatever the input.
 *
 * Runs a CI-sized number of cases; `FUZZ_RUNS=100000 npm run fuzz` (or
 * `npm run fuzz` alone) runs many more.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ClientProtocol } from "../../src/core/client.js";
import {
  InvalidHandshake,
  InvalidMessage,
  PayloadTooBig,
  ProtocolError,
} from "../../src/core/errors.js";
import { Frame } from "../../src/core/frame.js";
import { FrameParser } from "../../src/core/frame-parser.js";
import { acceptKey } from "../../src/core/handshake.js";
import { Opcode } from "../../src/core/opcodes.js";
import type { ProtocolOptions } from "../../src/core/protocol.js";
import type { Request } from "../../src/core/request.js";
import { RequestParser } from "../../src/core/request-parser.js";
import { Response } from "../../src/core/response.js";
import { ResponseParser } from "../../src/core/response-parser.js";
import { ServerProtocol } from "../../src/core/server.js";
import { State } from "../../src/core/state.js";
import { StreamReader } from "../../src/core/streams.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** A small limit, so that inputs reach it often. */
const LIMIT = 2048;
/** The longest frame header: 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEADER = 14;

// --- Inputs ----------------------------------------------------------------

interface FuzzFrame {
  opcode: number;
  fin: boolean;
  rsv: number;
  /** Whether the frame is masked; `undefined` means: as the receiver expects. */
  masked: boolean | undefined;
  payload: Uint8Array;
  /** 0: shortest length form; 1: 16-bit; 2: 64-bit, even when shorter would do. */
  lengthForm: 0 | 1 | 2;
}

/** Serializes a frame, honoring deliberately wrong lengths forms and masks. */
function encode(frame: FuzzFrame, receiverIsServer: boolean): Uint8Array {
  const length = frame.payload.length;
  let form = frame.lengthForm;
  if (length > 125 && form === 0) form = 1;
  if (length > 0xffff) form = 2;
  const masked = frame.masked ?? receiverIsServer;
  const header = Buffer.alloc(2 + (form === 1 ? 2 : form === 2 ? 8 : 0) + (masked ? 4 : 0));
  header[0] = (frame.fin ? 0x80 : 0) | ((frame.rsv & 7) << 4) | (frame.opcode & 0xf);
  const maskBit = masked ? 0x80 : 0;
  if (form === 0) header[1] = maskBit | length;
  if (form === 1) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  }
  if (form === 2) {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const payload = Buffer.from(frame.payload);
  if (masked) {
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    header.set(key, header.length - 4);
    for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  }
  return Buffer.concat([header, payload]);
}

const utf8Payload = fc
  .string({ unit: "binary", maxLength: 40 })
  .map((text) => new Uint8Array(Buffer.from(text, "utf8")));
const payloadArb = fc.oneof(
  { weight: 3, arbitrary: utf8Payload },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 126, maxLength: 3 * LIMIT }) },
);

const frameArb: fc.Arbitrary<FuzzFrame> = fc.record({
  opcode: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
  ),
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(7) }),
  masked: fc.oneof(
    { weight: 20, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.boolean() },
  ),
  payload: payloadArb,
  lengthForm: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0 as const) },
    { weight: 1, arbitrary: fc.constantFrom(1 as const, 2 as const) },
  ),
});

/**
 * A text message cut into fragments at arbitrary byte positions (splitting
 * code points), sometimes with a byte replaced to make it invalid.
 */
const fragmentedTextArb: fc.Arbitrary<FuzzFrame[]> = fc
  .tuple(
    fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
    fc.array(fc.nat(), { maxLength: 4 }),
    fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })), { freq: 3 }),
  )
  .map(([text, cuts, corruption]) => {
    const bytes = Buffer.from(text, "utf8");
    if (corruption !== null) bytes[corruption[0] % bytes.length] = corruption[1];
    const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
    const bounds = [0, ...points.filter((p) => p > 0), bytes.length];
    return bounds.slice(1).map((end, i) => ({
      opcode: i === 0 ? Opcode.TEXT : Opcode.CONT,
      fin: i === bounds.length - 2,
      rsv: 0,
      masked: undefined,
      payload: new Uint8Array(bytes.subarray(bounds[i], end)),
      lengthForm: 0 as const,
    }));
  });

const streamArb = fc
  .array(
    fc.oneof(
      frameArb.map((frame) => [frame]),
      fragmentedTextArb,
    ),
    { maxLength: 12 },
  )
  .map((groups) => groups.flat());

/** Random byte edits: replace, insert or delete at a position. */
const editsArb = fc.array(
  fc.tuple(fc.constantFrom("replace", "insert", "delete"), fc.nat(), fc.nat(255)),
  { maxLength: 4 },
);

function mutate(bytes: Uint8Array, edits: [string, number, number][]): Uint8Array {
  const out = [...bytes];
  for (const [kind, position, value] of edits) {
    const at = out.length === 0 ? 0 : position % out.length;
    if (kind === "replace" && out.length > 0) out[at] = value;
    else if (kind === "insert") out.splice(at, 0, value);
    else if (kind === "delete") out.splice(at, 1);
  }
  return new Uint8Array(out);
}

/** Chunk sizes, cycled over the input. */
const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });

function* chunked(bytes: Uint8Array, sizes: readonly number[]): Generator<Uint8Array> {
  let i = 0;
  for (let offset = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    // A fresh copy: the protocol unmasks in place and owns what it is given.
    yield bytes.slice(offset, offset + size);
    offset += size;
  }
}

// --- Probes: the same classes, with their buffer made visible ---------------

class ServerProbe extends ServerProtocol {
  get buffered(): number {
    return this.reader.length;
  }
}

class ClientProbe extends ClientProtocol {
  get buffered(): number {
    return this.reader.length;
  }
}

function openProbe(role: "client" | "server", options: ProtocolOptions) {
  const merged = { state: State.OPEN, ...options };
  return role === "server" ? new ServerProbe(merged) : new ClientProbe("ws://example.com/", merged);
}

/** Close codes a protocol error may carry, per `src/core/protocol.ts`. */
const ERROR_CLOSE_CODES = [1002, 1006, 1007, 1009];

// --- Properties -------------------------------------------------------------

describe("fuzzing FrameParser", () => {
  it("returns frames or throws ProtocolError, and buffers at most one frame", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        streamArb,
        editsArb,
        chunkSizesArb,
        (server, frames, edits, sizes) => {
          const bytes = mutate(Buffer.concat(frames.map((f) => encode(f, server))), edits);
          const parser = new FrameParser({ mask: server });
          parser.maxMessageSize = LIMIT;
          const reader = new StreamReader();
          try {
            for (const chunk of chunked(bytes, sizes)) {
              reader.feedData(chunk);
              for (let frame = parser.parse(reader); frame !== null; frame = parser.parse(reader)) {
                assert.ok(frame instanceof Frame);
                assert.ok(frame.data.length <= Math.max(LIMIT, 125));
              }
              assert.ok(reader.length < MAX_HEADER + LIMIT, `buffered ${reader.length}`);
            }
          } catch (error) {
            assert.ok(error instanceof ProtocolError, String(error));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzing Protocol", () => {
  for (const role of ["server", "client"] as const) {
    it(`as a ${role}: never throws, never goes back, validates and bounds what it passes on`, () => {
      fc.assert(
        fc.property(streamArb, editsArb, chunkSizesArb, (frames, edits, sizes) => {
          const bytes = mutate(
            Buffer.concat(frames.map((f) => encode(f, role === "server"))),
            edits,
          );
          const protocol = openProbe(role, { maxMessageSize: LIMIT });
          let state: State = protocol.state;
          let message: Uint8Array[] | null = null;
          let isText = false;
          let closed = false;
          const check = () => {
            for (const event of protocol.eventsReceived()) {
              assert.ok(event instanceof Frame, "only frames once open");
              assert.ok(!closed, "nothing is passed on after a close frame");
              if (event.opcode === Opcode.CLOSE) closed = true;
              if (event.opcode === Opcode.TEXT || event.opcode === Opcode.BINARY) {
                message = [event.data];
                isText = event.opcode === Opcode.TEXT;
              } else if (event.opcode === Opcode.CONT) {
                message!.push(event.data);
              }
              if (event.opcode <= Opcode.BINARY && event.fin) {
                const whole = Buffer.concat(message!);
                assert.ok(whole.length <= LIMIT, "messages stay within maxMessageSize");
                // RFC 6455 §8.1: text messages passed on are valid UTF-8.
                if (isText) assert.ok(Buffer.from(whole.toString("utf8")).equals(whole));
                message = null;
              }
            }
            protocol.dataToSend();
            assert.ok(protocol.state >= state, "the state never goes backwards");
            state = protocol.state;
            assert.ok(protocol.buffered < MAX_HEADER + LIMIT, `buffered ${protocol.buffered}`);
          };
          for (const chunk of chunked(bytes, sizes)) {
            protocol.receiveData(chunk);
            check();
          }
          protocol.receiveEof();
          check();
          const error = protocol.parserExc;
          if (error !== null) {
            assert.ok(error instanceof ProtocolError, `undocumented error: ${String(error)}`);
            assert.ok(ERROR_CLOSE_CODES.includes(error.closeCode), String(error.closeCode));
          }
        }),
        { numRuns: RUNS },
      );
    });
  }
});

const REQUEST = Buffer.from(
  "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n" +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "latin1",
);

function response(key: string, body = ""): Buffer {
  return Buffer.from(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n${body}`,
    "latin1",
  );
}

const httpInputArb = (valid: Uint8Array) =>
  fc.oneof(
    { weight: 3, arbitrary: editsArb.map((edits) => mutate(valid, edits)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.constantFrom("\r\n", "a", ":", " ", "\n", "GET ", "HTTP/1.1", "X: y"), {
          maxLength: 200,
        })
        .map((parts) => new Uint8Array(Buffer.from(parts.join(""), "latin1"))),
    },
  );

const LINE = 64;
const HEADERS = 4;

describe("fuzzing RequestParser", () => {
  it("returns a request or throws InvalidMessage, within its line and header limits", () => {
    fc.assert(
      fc.property(httpInputArb(REQUEST), chunkSizesArb, (bytes, sizes) => {
        const parser = new RequestParser({ maxLineLength: LINE, maxHeaders: HEADERS });
        const reader = new StreamReader();
        let fed = 0;
        let error: unknown = null;
        try {
          for (const chunk of chunked(bytes, sizes)) {
            reader.feedData(chunk);
            fed += chunk.length;
            const request = parser.parse(reader);
            if (request !== null) return;
            // A head can't be longer than a request line, the headers and the empty line.
            assert.ok(fed <= (HEADERS + 2) * LINE + 64, "an endless head is cut off");
          }
          reader.feedEof();
          parser.parse(reader);
        } catch (caught) {
          error = caught;
        }
        if (error === null) return;
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.ok([400, 414, 431, 505].includes(error.status), String(error.status));
        // Documented: after an error, the parser throws it again.
        assert.throws(
          () => parser.parse(reader),
          (again) => again === error,
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzing ResponseParser", () => {
  it("returns a response or throws InvalidMessage, within its body limit", () => {
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    const bodies = Buffer.from(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "latin1",
    );
    fc.assert(
      fc.property(
        fc.oneof(httpInputArb(response(key)), httpInputArb(bodies)),
        chunkSizesArb,
        (bytes, sizes) => {
          const parser = new ResponseParser({
            maxLineLength: LINE,
            maxHeaders: HEADERS,
            maxBodySize: 100,
          });
          const reader = new StreamReader();
          let error: unknown = null;
          try {
            for (const chunk of chunked(bytes, sizes)) {
              reader.feedData(chunk);
              const parsed = parser.parse(reader);
              if (parsed !== null) {
                assert.ok(parsed.body.length <= 100);
                return;
              }
            }
            reader.feedEof();
            const parsed = parser.parse(reader);
            assert.ok(parsed === null || parsed.body.length <= 100);
          } catch (caught) {
            error = caught;
          }
          if (error === null) return;
          assert.ok(error instanceof InvalidMessage, String(error));
          assert.throws(
            () => parser.parse(reader),
            (again) => again === error,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzing the opening handshake", () => {
  it("as a server: answers any request or fails the handshake, and only moves forward", () => {
    fc.assert(
      fc.property(
        httpInputArb(REQUEST),
        chunkSizesArb,
        fc.uint8Array({ maxLength: 40 }),
        (bytes, sizes, after) => {
          const protocol = new ServerProtocol({
            httpLimits: { maxLineLength: LINE * 2, maxHeaders: 8 },
            maxMessageSize: LIMIT,
          });
          let request: Request | null = null;
          for (const chunk of chunked(Buffer.concat([bytes, after]), sizes)) {
            protocol.receiveData(chunk);
            for (const event of protocol.eventsReceived()) {
              if (request === null && !(event instanceof Frame)) {
                request = event as Request;
                const answer = protocol.accept(request);
                assert.ok(answer instanceof Response);
                protocol.sendResponse(answer);
                // Frames that came with the request are parsed at once: the
                // connection may already be closing.
                assert.equal(protocol.state !== State.CONNECTING, answer.status === 101);
              } else {
                assert.ok(event instanceof Frame, "one request, then frames");
              }
            }
            protocol.dataToSend();
          }
          protocol.receiveEof();
          if (protocol.handshakeExc !== null) {
            assert.ok(protocol.handshakeExc instanceof InvalidHandshake);
            assert.notEqual(protocol.state, State.OPEN);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("as a client: accepts a valid response or fails the handshake, and only moves forward", () => {
    fc.assert(
      fc.property(editsArb, chunkSizesArb, (edits, sizes) => {
        const protocol = new ClientProbe("ws://example.com/chat", { maxMessageSize: LIMIT });
        protocol.sendRequest(protocol.connect());
        protocol.dataToSend();
        const frame = encode(
          {
            opcode: 1,
            fin: true,
            rsv: 0,
            masked: false,
            payload: Buffer.from("hi"),
            lengthForm: 0,
          },
          false,
        );
        const bytes = mutate(Buffer.concat([response(protocol.key), frame]), edits);
        let state: State = protocol.state;
        for (const chunk of chunked(bytes, sizes)) {
          protocol.receiveData(chunk);
          protocol.eventsReceived();
          protocol.dataToSend();
          assert.ok(protocol.state >= state);
          state = protocol.state;
        }
        if (protocol.handshakeExc !== null) {
          assert.ok(protocol.handshakeExc instanceof InvalidHandshake);
          assert.equal(protocol.state, State.CONNECTING);
        }
        if (edits.length === 0) assert.equal(protocol.state, State.OPEN);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzing size limits", () => {
  it("fails with 1009 as soon as fragments add up past maxMessageSize", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 300 }),
        (fragment, limit) => {
          const protocol = openProbe("server", { maxMessageSize: limit });
          const count = Math.ceil((limit + 1) / fragment) + 1;
          for (let i = 0; i < count && protocol.parserExc === null; i++) {
            protocol.receiveData(
              encode(
                {
                  opcode: i === 0 ? Opcode.BINARY : Opcode.CONT,
                  fin: false,
                  rsv: 0,
                  masked: undefined,
                  payload: new Uint8Array(fragment),
                  lengthForm: 0,
                },
                true,
              ),
            );
            protocol.eventsReceived();
            assert.ok(protocol.buffered < MAX_HEADER + fragment);
          }
          assert.ok(protocol.parserExc instanceof PayloadTooBig);
          assert.equal(protocol.closeSent?.code, 1009);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
