/**
 * The `compression` option of connect() and serve(), `send(data, { compress })`,
 * and the public extension interface, over loopback.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zlib from "node:zlib";
import { NegotiationError } from "../../src/core/errors.js";
import type {
  ClientExtensionFactory,
  Extension,
  ExtensionParameter,
  ServerExtensionFactory,
} from "../../src/core/extensions/base.js";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { Frame } from "../../src/core/frame.js";
import { serializeFrame } from "../../src/core/frame-writer.js";
import { Opcode } from "../../src/core/opcodes.js";
import { connect } from "../../src/node/client.js";
import { DEFLATE_DEFAULTS } from "../../src/node/compression.js";
import { DEFLATE_OPTION_NAMES } from "../../src/node/option-names.js";
import type { ServeOptions } from "../../src/node/server.js";
import { concat, toHex } from "../helpers/bytes.js";
import { MASK } from "../helpers/protocol.js";
import { acceptRaw, closePayload, RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Repetitive JSON, the kind of traffic compression is for. */
function chat(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ id: i, user: `user${i % 7}`, text: "hello there" })),
  );
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) {
    globalThis.crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  }
  return bytes;
}

/** A raw client that offers `extensions` to a server of ours and reads what it writes. */
async function rawClient(options: ServeOptions, handler = echo, extensions = "permessage-deflate") {
  const { server, port } = await startServer(handler, options);
  const peer = await RawPeer.connect(port);
  const head = await peer.handshake("/", `Sec-WebSocket-Extensions: ${extensions}\r\n`);
  return {
    server,
    peer,
    head,
    async [Symbol.asyncDispose]() {
      peer.socket.destroy();
      await server.close();
    },
  };
}

/** The bytes of a masked frame from a client, RSV1 set when `compressed`. */
function clientFrame(
  opcode: Opcode,
  data: Uint8Array,
  compressed: boolean,
  fin = true,
): Uint8Array {
  return concat(serializeFrame(new Frame(opcode, data, fin, compressed), MASK));
}

const deflateRaw = (data: Uint8Array) =>
  zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);

describe("compression between our client and our server", () => {
  it("negotiates permessage-deflate by default", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    assert.equal(
      ws.request.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; client_max_window_bits",
    );
    assert.equal(
      ws.response?.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );
    const [extension] = ws.protocol.extensions;
    assert.ok(extension instanceof PerMessageDeflate);
    assert.equal(extension.localMaxWindowBits, 12);
    assert.equal(extension.remoteMaxWindowBits, 12);
    const [serverSide] = [...server.connections];
    assert.ok(serverSide!.protocol.extensions[0] instanceof PerMessageDeflate);
  });

  it("echoes text, binary, fragmented and large messages", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const messages = [
      "",
      "Hello",
      chat(5),
      chat(5),
      chat(3000),
      "é".repeat(100_000),
      new Uint8Array(0),
      randomBytes(1000),
      randomBytes(1024 * 1024 - 1024),
      new Uint8Array(1024 * 1024),
    ];
    for (const message of messages) {
      await ws.send(message);
      const echoed = await ws.recv();
      if (typeof message === "string") assert.equal(echoed, message);
      else assert.equal(toHex(echoed as Uint8Array), toHex(message));
    }
    await ws.send(["frag", "mented ", chat(100)]);
    assert.equal(await ws.recv(), `fragmented ${chat(100)}`);
    await ws.send([randomBytes(10), new Uint8Array(5000)], { compress: false });
    assert.equal(((await ws.recv()) as Uint8Array).length, 5010);
  });

  it("does without compression when the client disables it", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri, { compression: null });
    assert.equal(ws.request.headers.has("Sec-WebSocket-Extensions"), false);
    assert.deepEqual(ws.protocol.extensions, []);
    await ws.send(chat(10));
    assert.equal(await ws.recv(), chat(10));
  });

  it("does without compression when the server disables it", async () => {
    const { server, uri } = await startServer(echo, { compression: null });
    await using _server = server;
    await using ws = await connect(uri);
    assert.equal(ws.response?.headers.has("Sec-WebSocket-Extensions"), false);
    assert.deepEqual(ws.protocol.extensions, []);
    await ws.send(chat(10));
    assert.equal(await ws.recv(), chat(10));
  });

  it("turns the deflate options into the offer and the answer", async () => {
    const { server, uri } = await startServer(echo, {
      deflate: { windowBits: 11, peerWindowBits: null, peerNoContextTakeover: true },
    });
    await using _server = server;
    await using ws = await connect(uri, {
      deflate: { windowBits: 10, peerWindowBits: 13, noContextTakeover: true },
    });
    // RFC 7692 §5: a bare offer follows one a server might decline; the
    // server answers the first it can honour.
    assert.equal(
      ws.request.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; client_no_context_takeover; server_max_window_bits=13; client_max_window_bits=10, permessage-deflate; client_max_window_bits",
    );
    assert.equal(
      ws.response?.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10",
    );
    const extension = ws.protocol.extensions[0] as PerMessageDeflate;
    assert.deepEqual(
      [
        extension.localNoContextTakeover,
        extension.localMaxWindowBits,
        extension.remoteMaxWindowBits,
      ],
      [true, 10, 11],
    );
    await ws.send(chat(100));
    assert.equal(await ws.recv(), chat(100));
  });

  it("has DEFLATE_DEFAULTS hold, for each role, every deflate option with its default", () => {
    const zlib = { level: -1, memLevel: 5, threshold: 128 };
    const takeover = { noContextTakeover: false, peerNoContextTakeover: false };
    assert.deepEqual(DEFLATE_DEFAULTS, {
      server: { windowBits: 12, peerWindowBits: 12, ...takeover, ...zlib },
      client: { windowBits: null, peerWindowBits: null, ...takeover, ...zlib },
    });
    for (const defaults of [DEFLATE_DEFAULTS.server, DEFLATE_DEFAULTS.client]) {
      assert.deepEqual(Object.keys(defaults).sort(), [...DEFLATE_OPTION_NAMES].sort());
    }
  });

  it("takes DEFLATE_DEFAULTS.server and .client as they are, or with a key changed", async () => {
    const { server, uri } = await startServer(echo, { deflate: DEFLATE_DEFAULTS.server });
    await using _server = server;
    await using ws = await connect(uri, { deflate: DEFLATE_DEFAULTS.client });
    // As without any deflate option: see "negotiates permessage-deflate by default".
    assert.equal(
      ws.request.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; client_max_window_bits",
    );
    assert.equal(
      ws.response?.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );

    const { server: tuned, uri: tunedUri } = await startServer(echo, {
      deflate: { ...DEFLATE_DEFAULTS.server, windowBits: 9 },
    });
    await using _tuned = tuned;
    await using other = await connect(tunedUri, {
      deflate: { ...DEFLATE_DEFAULTS.client, peerWindowBits: 10 },
    });
    assert.equal(
      other.request.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate; client_max_window_bits",
    );
    assert.equal(
      other.response?.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; server_max_window_bits=9; client_max_window_bits=12",
    );
  });

  it("refuses the keys DEFLATE_DEFAULTS had before it was split by role", async () => {
    await assert.rejects(startServer(echo, { deflate: { serverWindowBits: 9 } as never }), {
      name: "TypeError",
      message: 'unknown option "deflate.serverWindowBits" for serve()',
    });
  });

  it("keeps a permessage-deflate factory the application gave", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const { ClientPerMessageDeflateFactory } = await import(
      "../../src/core/extensions/permessage-deflate-negotiation.js"
    );
    await using ws = await connect(uri, {
      extensions: [new ClientPerMessageDeflateFactory({ clientMaxWindowBits: 9 })],
    });
    assert.equal(
      ws.request.headers.get("Sec-WebSocket-Extensions"),
      "permessage-deflate; client_max_window_bits=9",
    );
  });

  it("refuses unknown compression methods and invalid settings", async () => {
    await assert.rejects(
      connect("ws://127.0.0.1:1", { compression: "brotli" as "deflate" }),
      RangeError,
    );
    await assert.rejects(connect("ws://127.0.0.1:1", { deflate: { windowBits: 16 } }), RangeError);
    // Named as the application gave them, on either side, not as RFC 7692's parameters.
    for (const [deflate, message] of [
      [{ windowBits: 20 }, "deflate.windowBits must be an integer from 8 to 15, or null; got 20"],
      [
        { peerWindowBits: 3 },
        "deflate.peerWindowBits must be an integer from 8 to 15, or null; got 3",
      ],
      [{ windowBits: 9.5 }, "deflate.windowBits must be an integer from 8 to 15, or null; got 9.5"],
    ] as const) {
      await assert.rejects(connect("ws://127.0.0.1:1", { deflate }), {
        name: "RangeError",
        message,
      });
      await assert.rejects(startServer(echo, { deflate }), { name: "RangeError", message });
    }
    await assert.rejects(startServer(echo, { deflate: { memLevel: 0 } }), RangeError);
  });
});

describe("a second, bare offer (RFC 7692 §5)", () => {
  const BARE = "permessage-deflate; client_max_window_bits";

  it("follows an offer with any parameter a server may decline, and only such an offer", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const cases: [ServeOptions["deflate"], string][] = [
      [{}, BARE],
      [DEFLATE_DEFAULTS.client, BARE],
      [{ windowBits: 9 }, `permessage-deflate; client_max_window_bits=9, ${BARE}`],
      [
        { peerWindowBits: 9 },
        `permessage-deflate; server_max_window_bits=9; client_max_window_bits, ${BARE}`,
      ],
      [
        { noContextTakeover: true },
        `permessage-deflate; client_no_context_takeover; client_max_window_bits, ${BARE}`,
      ],
      [
        { peerNoContextTakeover: true },
        `permessage-deflate; server_no_context_takeover; client_max_window_bits, ${BARE}`,
      ],
    ];
    for (const [deflate, offer] of cases) {
      await using ws = await connect(uri, { deflate });
      assert.equal(
        ws.request.headers.get("Sec-WebSocket-Extensions"),
        offer,
        JSON.stringify(deflate),
      );
      // Our server honours any valid offer: always the first.
      assert.ok(ws.protocol.extensions[0] instanceof PerMessageDeflate);
      await ws.send(chat(20));
      assert.equal(await ws.recv(), chat(20));
    }
  });

  /** Connects to a raw server that answers the handshake with `extensions`. */
  async function answeredWith(deflate: ServeOptions["deflate"], extensions: string) {
    const raw = await rawServer((peer) => {
      void acceptRaw(peer, `Sec-WebSocket-Extensions: ${extensions}\r\n`);
    });
    try {
      const ws = await connect(`ws://127.0.0.1:${raw.port}`, { deflate });
      // The raw server would not answer a closing handshake.
      ws.terminate();
      await ws.closed;
      return ws;
    } finally {
      await raw.close();
    }
  }

  it("honours what a server answers to the bare offer, within the limits it set itself", async () => {
    // No server_max_window_bits: an answer to the second offer, not the first.
    const ws = await answeredWith(
      { windowBits: 11, peerWindowBits: 10 },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=9",
    );
    const extension = ws.protocol.extensions[0] as PerMessageDeflate;
    assert.deepEqual(
      [
        extension.localNoContextTakeover,
        extension.remoteNoContextTakeover,
        extension.localMaxWindowBits,
        extension.remoteMaxWindowBits,
      ],
      [true, true, 9, 15],
    );
    // Without client_max_window_bits, the window our client committed to in its first offer.
    const own = await answeredWith({ windowBits: 11, peerWindowBits: 10 }, "permessage-deflate");
    assert.equal((own.protocol.extensions[0] as PerMessageDeflate).localMaxWindowBits, 11);
  });

  it("reads an answer both offers allow as the first offer's", async () => {
    const ws = await answeredWith(
      { windowBits: 11, peerWindowBits: 10, noContextTakeover: true },
      "permessage-deflate; server_max_window_bits=10",
    );
    const extension = ws.protocol.extensions[0] as PerMessageDeflate;
    assert.deepEqual(
      [
        extension.localNoContextTakeover,
        extension.localMaxWindowBits,
        extension.remoteMaxWindowBits,
      ],
      [true, 11, 10],
    );
  });

  it("fails on an answer that fits neither offer", async () => {
    const error = await answeredWith(
      { peerWindowBits: 10 },
      "permessage-deflate; server_max_window_bits=16",
    ).catch((e: unknown) => e);
    assert.ok(error instanceof NegotiationError, String(error));
    assert.equal(
      error.message,
      "unsupported extension: permessage-deflate; server_max_window_bits=16",
    );
  });

  it("is answered by our server with the first offer it can honour", async () => {
    await using raw = await rawClient(
      {},
      echo,
      "permessage-deflate; x_unknown, permessage-deflate; server_max_window_bits=10, permessage-deflate",
    );
    assert.match(
      raw.head,
      /\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n/,
    );
  });
});

describe("compression and the event loop", () => {
  it("inflates a read full of tiny compressed messages over several turns of the event loop", async () => {
    // Each message costs a synchronous zlib call: thousands in one read,
    // inflated in one turn, would hold every other connection meanwhile.
    const count = 10_000;
    let turns = 0;
    let reading = true;
    const received = deferred<number>();
    const { server, uri } = await startServer(async (ws) => {
      const countTurns = () => {
        turns++;
        if (reading) setImmediate(countTurns);
      };
      setImmediate(countTurns);
      let messages = 0;
      for await (const _ of ws) {
        if (++messages === count) break;
      }
      reading = false;
      received.resolve(turns);
    });
    await using _server = server;
    await using ws = await connect(uri, { deflate: { threshold: 0 } });
    // Sent in one turn: written with one write, read at once by the server.
    for (let i = 0; i < count; i++) void ws.send("a");
    const turnsWhileReading = await received.promise;
    // About 13 messages per batch (the queue resumes at a quarter full), 16
    // batches per turn: some 48 turns. All at once, it took 2 or 3 (a read each).
    assert.ok(turnsWhileReading >= 10, `${turnsWhileReading} turns`);
  });
});

describe("compression on the wire", () => {
  it("answers a bare offer and compresses with a 4 KiB window", async () => {
    await using raw = await rawClient({});
    assert.match(
      raw.head,
      /\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n/,
    );
  });

  it("compresses above the threshold only, and not when told not to", async () => {
    const large = chat(50);
    await using raw = await rawClient({ deflate: { threshold: 100 } }, async (ws) => {
      await ws.send("under the threshold");
      await ws.send(large);
      await ws.send(large, { compress: false });
      await ws.send([large, large]);
      await ws.send([large, large], { compress: false });
    });
    const decoder = new PerMessageDeflate({
      localNoContextTakeover: false,
      remoteNoContextTakeover: false,
      localMaxWindowBits: 15,
      remoteMaxWindowBits: 12,
    });
    const seen: [number, boolean, boolean, number][] = [];
    for (let i = 0; i < 7; i++) {
      const frame = (await raw.peer.readFrame())!;
      const decoded = decoder.decode(frame, Number.POSITIVE_INFINITY);
      seen.push([frame.opcode, frame.rsv1, frame.fin, decoded.data.length]);
    }
    assert.deepEqual(seen, [
      [Opcode.TEXT, false, true, "under the threshold".length],
      [Opcode.TEXT, true, true, large.length],
      [Opcode.TEXT, false, true, large.length],
      // Each frame of a compressed message inflated as it arrives.
      [Opcode.TEXT, true, false, large.length],
      [Opcode.CONT, false, false, large.length],
      [Opcode.CONT, false, true, 0],
      [Opcode.TEXT, false, false, large.length],
    ]);
  });

  it("makes repetitive traffic smaller by more than 80%", async () => {
    const message = chat(20);
    await using raw = await rawClient({}, async (ws) => {
      for (let i = 0; i < 10; i++) await ws.send(message);
    });
    let wire = 0;
    for (let i = 0; i < 10; i++) wire += (await raw.peer.readFrame())!.data.length;
    assert.ok(wire < message.length * 10 * 0.2, `${wire} bytes for ${message.length * 10}`);
  });

  for (const streaming of [false, true]) {
    it(`fails with 1009 on a fragmented bomb (read with ${streaming ? "recvStreaming()" : "recv()"})`, async () => {
      const done = deferred<unknown>();
      await using raw = await rawClient({ maxMessageSize: 64 * 1024 }, async (ws) => {
        try {
          if (streaming) for await (const _ of ws.recvStreaming());
          else await ws.recv();
        } catch (error) {
          done.resolve(error);
        }
      });
      // 100 MiB of zeros, about 100 KiB compressed: sent in fragments under the limit.
      const chunk = deflateRaw(new Uint8Array(1024 * 1024));
      raw.peer.write(clientFrame(Opcode.BINARY, chunk, true, false));
      for (let i = 0; i < 99; i++) raw.peer.write(clientFrame(Opcode.CONT, chunk, false, i === 98));
      const close = await raw.peer.readUntilClose();
      assert.deepEqual(
        closePayload(close),
        streaming
          ? // Inflated as they arrive: the first fragment inflates to 1 MiB, refused at 64 KiB.
            [1009, "decompressed message exceeds limit of 65536 bytes"]
          : // Held, compressed: refused from the header of the fragment that takes
            // the compressed bytes past the allowance, before its payload is buffered.
            [1009, "fragmented message exceeds limit of 65536 bytes"],
      );
      assert.equal(((await done.promise) as Error).name, "ConnectionClosedError");
    });
  }

  /** Frames a raw client sends compressed, with context takeover, as a peer's zlib would. */
  function compressingClient(): (opcode: Opcode, text: string, fin: boolean) => Uint8Array {
    const encoder = new PerMessageDeflate(
      {
        localNoContextTakeover: false,
        remoteNoContextTakeover: false,
        localMaxWindowBits: 15,
        remoteMaxWindowBits: 15,
      },
      { threshold: 0 },
    );
    return (opcode, text, fin) =>
      concat(serializeFrame(encoder.encode(new Frame(opcode, Buffer.from(text), fin)), MASK));
  }

  it("reads every message after a streaming read left a compressed one, the rest of it arriving with them", async () => {
    const wire = compressingClient();
    const left = deferred<unknown>();
    const received = deferred<unknown[]>();
    await using raw = await rawClient({ pingInterval: null }, async (ws) => {
      for await (const fragment of ws.recvStreaming()) {
        left.resolve(fragment);
        break;
      }
      const messages: unknown[] = [];
      for (let i = 0; i < 20; i++) messages.push(await ws.recv());
      received.resolve(messages);
    });
    raw.peer.write(wire(Opcode.TEXT, "first ", false));
    assert.equal(await within(left.promise, 10_000, "the first fragment"), "first ");
    // In one read: the rest of the message left, dropped, and more messages
    // than the queue holds (16). The dropped message counts as one inflated,
    // but takes no room in the queue: parsing must not wait for the socket
    // to resume, since nothing paused it.
    const burst = [wire(Opcode.CONT, "the rest, dropped", true)];
    for (let i = 1; i <= 20; i++) burst.push(wire(Opcode.TEXT, `burst ${i}`, true));
    raw.peer.write(concat(burst));
    assert.deepEqual(
      await within(received.promise, 10_000, "20 messages"),
      Array.from({ length: 20 }, (_, i) => `burst ${i + 1}`),
    );
  });

  it("fails with 1009 on fragments whose compressed size passes the limit, from a header", async () => {
    await using raw = await rawClient({ maxMessageSize: 64 * 1024 });
    // 2000 empty stored blocks (RFC 1951 §3.2.4): 10,000 bytes that inflate to nothing.
    const empty = new Uint8Array(2000 * 5);
    for (let i = 0; i < empty.length; i += 5) empty.set([0x00, 0x00, 0x00, 0xff, 0xff], i);
    raw.peer.write(clientFrame(Opcode.BINARY, empty, true, false));
    for (let i = 0; i < 9; i++) raw.peer.write(clientFrame(Opcode.CONT, empty, false, i === 8));
    // Refused from the header of the fragment that takes the compressed bytes
    // received past the allowance, before its payload is buffered.
    assert.deepEqual(closePayload(await raw.peer.readUntilClose()), [
      1009,
      "fragmented message exceeds limit of 65536 bytes",
    ]);
  });

  it("fails with 1009 when one small frame inflates past the limit", async () => {
    await using raw = await rawClient({ maxMessageSize: 64 * 1024 });
    raw.peer.write(clientFrame(Opcode.BINARY, deflateRaw(new Uint8Array(10 * 1024 * 1024)), true));
    const close = await raw.peer.readUntilClose();
    assert.deepEqual(closePayload(close), [
      1009,
      "decompressed message exceeds limit of 65536 bytes",
    ]);
  });

  it("fails with 1007 on corrupt compressed data", async () => {
    await using raw = await rawClient({});
    raw.peer.write(clientFrame(Opcode.TEXT, new Uint8Array([0xff, 0xff]), true));
    assert.deepEqual(closePayload(await raw.peer.readUntilClose()), [
      1007,
      "invalid compressed data",
    ]);
  });
});

describe("custom extensions", () => {
  /**
   * A trivial extension that claims RSV2: it marks the first frame of every
   * data message it sends and requires the mark on every one it receives.
   * Written against the documented interface only.
   */
  class Rsv2Marker implements Extension {
    readonly name = "x-rsv2-marker";
    readonly reservedBits = 0x20;
    encoded = 0;
    decoded = 0;
    private receiving = false;

    encode(frame: Frame): Frame {
      if (frame.opcode !== Opcode.TEXT && frame.opcode !== Opcode.BINARY) return frame;
      this.encoded++;
      return new Frame(frame.opcode, frame.data, frame.fin, frame.rsv1, true, frame.rsv3);
    }

    decode(frame: Frame): Frame {
      if (frame.opcode === Opcode.CONT) {
        if (!this.receiving) throw new Error("unexpected continuation");
      } else if (frame.opcode === Opcode.TEXT || frame.opcode === Opcode.BINARY) {
        // Without the mark, RSV2 stays clear and the protocol accepts the
        // frame; count only marked ones.
        if (!frame.rsv2) return frame;
        this.decoded++;
      } else {
        return frame;
      }
      this.receiving = !frame.fin;
      return new Frame(frame.opcode, frame.data, frame.fin, frame.rsv1, false, frame.rsv3);
    }
  }

  const clientMarkers: Rsv2Marker[] = [];
  const serverMarkers: Rsv2Marker[] = [];
  const clientFactory: ClientExtensionFactory = {
    name: "x-rsv2-marker",
    getRequestParams: (): ExtensionParameter[] => [["mark", "rsv2"]],
    processResponseParams(params) {
      assert.deepEqual(params, [["mark", "rsv2"]]);
      const marker = new Rsv2Marker();
      clientMarkers.push(marker);
      return marker;
    },
  };
  const serverFactory: ServerExtensionFactory = {
    name: "x-rsv2-marker",
    processRequestParams(params) {
      const marker = new Rsv2Marker();
      serverMarkers.push(marker);
      return [[...params], marker];
    },
  };

  for (const compression of ["deflate", null] as const) {
    it(`negotiates an extension claiming RSV2 and runs every message through it (compression: ${compression})`, async () => {
      clientMarkers.length = 0;
      serverMarkers.length = 0;
      const { server, uri } = await startServer(echo, { extensions: [serverFactory], compression });
      await using _server = server;
      await using ws = await connect(uri, { extensions: [clientFactory], compression });
      const expected =
        compression === null
          ? "x-rsv2-marker; mark=rsv2"
          : "x-rsv2-marker; mark=rsv2, permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";
      assert.equal(ws.response?.headers.get("Sec-WebSocket-Extensions"), expected);
      await ws.send("Hello");
      assert.equal(await ws.recv(), "Hello");
      await ws.send(chat(100));
      assert.equal(await ws.recv(), chat(100));
      await ws.send(["frag", "ments"]);
      assert.equal(await ws.recv(), "fragments");
      assert.equal(clientMarkers.length, 1);
      assert.equal(serverMarkers.length, 1);
      assert.deepEqual([clientMarkers[0]!.encoded, clientMarkers[0]!.decoded], [3, 3]);
      assert.deepEqual([serverMarkers[0]!.encoded, serverMarkers[0]!.decoded], [3, 3]);
    });
  }
});
