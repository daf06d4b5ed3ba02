/**
 * Echo fuzzing of the whole Node stack: clients connect over real loopback
 * sockets (TCP with TLS or without, or a Unix socket) to a server that echoes every message, send
 * generated messages and check that each comes back byte for byte, in order.
 *
 * The messages are generated around the sizes where the code changes paths:
 * 125/126 and 65535/65536 (length forms of the frame header), 1024/1025
 * (small frames serialized into a shared slab), 64 KiB to 4 MiB (a client's
 * frames masked in WebAssembly frame slots, or spare buffers once both slots
 * are taken), 64 KiB and up with a sixteenth arrived (payloads assembled as
 * they arrive, and read straight into their memory by a socket that reads
 * directly, see `direct-reads.ts`). They are text (with code points of 1 to
 * 4 bytes) or binary, sent whole or fragmented (from arrays, generators or
 * async generators, in pieces that may split a surrogate pair), compressed
 * or not; the server echoes them whole or in two fragments. Each run also
 * draws the transport, compression on either side, the queue sizes (a small
 * `maxQueue` pauses reading), `writeHighWaterMark` on either side, a server
 * and a client that yield to the event loop before each message (their
 * queues fill), how many clients run at once (1 to 4, sharing the buffer
 * that direct reads use for what isn't a payload), and whether each sends
 * its messages at once, one after the other, or one per echo.
 *
 * Besides the echoes, a run checks that every connection that received a
 * frame of 300,000 bytes or more did read straight into its payload (a
 * client's socket always may; a server's once `serve()` listens itself, as
 * it does here; over TLS, that none did, the TLS layer feeding the socket
 * decrypted records), that a server connection that received only frames too
 * small to be assembled never did, that the server received exactly what
 * was sent, and that every connection closed normally.
 *
 * `ECHO_FUZZ_RUNS=500` runs more cases. fast-check prints the seed, path and
 * shrunk counterexample of a failure: `ECHO_FUZZ_SEED` and `ECHO_FUZZ_PATH`
 * replay it.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { type ClientConnection, type ConnectOptions, connect } from "../../src/node/client.js";
import type { Data, Sendable } from "../../src/node/connection.js";
import { type Handler, type ServeOptions, type Server, serve } from "../../src/node/server.js";
import { type DirectReads, recordDirectReads } from "../helpers/direct-reads.js";
import { deferred, startServer, unhandledRejections, within } from "../helpers/server.js";

const RUNS = Number(process.env.ECHO_FUZZ_RUNS ?? 40);
/** A failure's seed (and path, to skip the shrinking), as fast-check printed them. */
const REPLAY = {
  ...(process.env.ECHO_FUZZ_SEED === undefined ? {} : { seed: Number(process.env.ECHO_FUZZ_SEED) }),
  ...(process.env.ECHO_FUZZ_PATH === undefined ? {} : { path: process.env.ECHO_FUZZ_PATH }),
};

/** Payload bytes a run sends at most, over all its clients: keeps a run around a second at most. */
const RUN_BYTES = 8 << 20;
/** Larger than any message generated (5 MiB): the default limit, 1 MiB, would fail them. */
const MAX_MESSAGE_SIZE = 8 << 20;
/**
 * A frame this large is read straight into its payload, whatever else the
 * run does: reads are of 64 KiB at most, and the payload is assembled from
 * the read that brings a sixteenth of it, so several reads remain.
 */
const DIRECT_READ_FRAME = 300_000;
/**
 * Below the size of payloads the protocol assembles as they arrive (64 KiB),
 * with room for what deflate adds to bytes that don't compress.
 */
const NEVER_ASSEMBLED = 60_000;
/**
 * Time a run may take before it counts as a hang: a run takes well under a
 * second on its own, so this only trips when the echoes stop coming.
 */
const RUN_TIMEOUT = 15_000;
/**
 * When fast-check stops shrinking a failure and reports it as shrunk so far:
 * shrinking a hang costs {@link RUN_TIMEOUT} per attempt, and the report
 * must come out before `npm test`'s timeout of 60 s ends the test without
 * one. A healthy pass takes a few seconds. Runs set by `ECHO_FUZZ_RUNS`
 * (with `--test-timeout=0`) have no limit.
 */
const SHRINK_LIMIT = process.env.ECHO_FUZZ_RUNS === undefined ? 45_000 : undefined;

const directory = mkdtempSync(join(tmpdir(), "websockets-ts-"));
const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
/** A certificate for localhost, signed by the test CA that clients trust. */
const TLS = {
  key: readFileSync(new URL("localhost-key.pem", fixtures)),
  cert: readFileSync(new URL("localhost.pem", fixtures)),
};
const CA = readFileSync(new URL("ca.pem", fixtures));
let socketCount = 0;

after(() => {
  rmSync(directory, { recursive: true, force: true });
  assert.deepEqual(unhandledRejections(), []);
});

// --- Inputs ----------------------------------------------------------------

/** How a fragmented message's pieces reach `send()`. */
type Source = "array" | "generator" | "async";

/** A message to generate: its content comes from `seed`, so a counterexample stays small. */
interface MessageSpec {
  readonly kind: "text" | "binary";
  /** Bytes of the message: its UTF-8 length for text. */
  readonly size: number;
  readonly seed: number;
  /** `null`: sent whole; else where it is cut, in millionths of its length, and how it is sent. */
  readonly fragments: { readonly cuts: readonly number[]; readonly source: Source } | null;
  /** `false` sends it with `{ compress: false }`. */
  readonly compress: boolean;
}

/** What a run draws besides the messages. */
interface RunOptions {
  readonly transport: "tcp" | "unix" | "tls";
  readonly clientCompression: boolean;
  readonly serverCompression: boolean;
  readonly serverMaxQueue: number;
  readonly clientMaxQueue: number;
  readonly serverWriteHighWaterMark: number;
  readonly clientWriteHighWaterMark: number;
  /** The server's handler waits for `setImmediate()` before each echo: its queue fills. */
  readonly slowServer: boolean;
  /** The client waits for `setImmediate()` before each `recv()`: its queue fills. */
  readonly slowClient: boolean;
  /** Whether the server echoes each message (of 2 units or more) in two fragments rather than whole. */
  readonly serverFragments: boolean;
  /**
   * `pipelined`: every `send()` at once, `Promise.all()`; `sequential`: each
   * awaited before the next; `lockstep`: each echo awaited before the next send.
   */
  readonly mode: "pipelined" | "sequential" | "lockstep";
}

/** Sizes around each threshold, a few arbitrary ones, and now and then a very large one. */
const sizeArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(0, 1, 125, 126, 1024, 1025, 65_535, 65_536, 65_537, 70_000),
  },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 2, arbitrary: fc.integer({ min: 4097, max: 200_000 }) },
  { weight: 2, arbitrary: fc.constantFrom(300_000, 300_001, 327_680) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer({ min: 1 << 20, max: 5 << 20 }),
      // A client's frame of 4 MiB fills a frame slot; one byte more doesn't fit.
      fc.constantFrom(4 << 20, (4 << 20) + 1),
    ),
  },
);

const messageArb: fc.Arbitrary<MessageSpec> = fc.record({
  kind: fc.constantFrom("text" as const, "binary" as const),
  size: sizeArb,
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  fragments: fc.option(
    fc.record({
      cuts: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 6 }),
      source: fc.constantFrom("array" as const, "generator" as const, "async" as const),
    }),
    { freq: 3 },
  ),
  compress: fc.oneof(
    { weight: 5, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
});

const optionsArb: fc.Arbitrary<RunOptions> = fc.record({
  transport: fc.constantFrom("tcp" as const, "unix" as const, "tls" as const),
  clientCompression: fc.boolean(),
  serverCompression: fc.boolean(),
  serverMaxQueue: fc.integer({ min: 1, max: 16 }),
  clientMaxQueue: fc.integer({ min: 1, max: 16 }),
  serverWriteHighWaterMark: fc.constantFrom(0, 1024, 65_536, 1 << 20),
  clientWriteHighWaterMark: fc.constantFrom(0, 1024, 65_536, 1 << 20),
  slowServer: fc.boolean(),
  slowClient: fc.boolean(),
  serverFragments: fc.boolean(),
  mode: fc.constantFrom("pipelined" as const, "sequential" as const, "lockstep" as const),
});

/** The messages of each client, 1 to 4 of them, within {@link RUN_BYTES} in all. */
const clientsArb: fc.Arbitrary<MessageSpec[][]> = fc
  .array(fc.array(messageArb, { maxLength: 10 }), { minLength: 1, maxLength: 4 })
  .map((clients) => {
    // Messages past the budget are dropped, not resized: what remains is
    // still what was generated, and shrinks as it does.
    let budget = RUN_BYTES;
    return clients.map((messages) =>
      messages.filter((message) => {
        if (message.size > budget) return false;
        budget -= message.size;
        return true;
      }),
    );
  });

// --- Messages --------------------------------------------------------------

/** The next state of a xorshift32 generator: fast, and its output doesn't compress. */
function xorshift(state: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
}

/** `size` pseudo-random bytes from `seed`. */
function bytesOf(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, size >>> 2);
  let state = seed;
  for (let i = 0; i < words.length; i++) {
    state = xorshift(state);
    words[i] = state;
  }
  for (let i = words.length * 4; i < size; i++) {
    state = xorshift(state);
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Text of exactly `size` UTF-8 bytes from `seed`: code points of 1 to 4
 * bytes (no surrogates, so every string is valid UTF-8), ASCII where a
 * wider one would overrun. Encoded by hand, then decoded once: a code point
 * at a time through `String.fromCodePoint()` is slow for megabytes.
 */
function textOf(size: number, seed: number): string {
  const bytes = Buffer.allocUnsafe(size);
  let state = seed;
  let i = 0;
  while (i < size) {
    state = xorshift(state);
    const pick = state % 5;
    const bits = state >>> 3;
    const width = [1, 1, 2, 3, 4][pick]!;
    if (width === 1 || width > size - i) {
      bytes[i++] = 0x20 + (bits % 95);
    } else if (width === 2) {
      const code = 0x80 + (bits % (0x800 - 0x80));
      bytes[i++] = 0xc0 | (code >> 6);
      bytes[i++] = 0x80 | (code & 0x3f);
    } else if (width === 3) {
      let code = 0x800 + (bits % (0x10000 - 0x800 - 0x800));
      // Past the surrogates, which are not scalar values.
      if (code >= 0xd800) code += 0x800;
      bytes[i++] = 0xe0 | (code >> 12);
      bytes[i++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[i++] = 0x80 | (code & 0x3f);
    } else {
      const code = 0x10000 + (bits % 0x100000);
      bytes[i++] = 0xf0 | (code >> 18);
      bytes[i++] = 0x80 | ((code >> 12) & 0x3f);
      bytes[i++] = 0x80 | ((code >> 6) & 0x3f);
      bytes[i++] = 0x80 | (code & 0x3f);
    }
  }
  return bytes.toString("utf8");
}

/** A message built from its spec: what `send()` gets, and what must come back. */
interface Message {
  readonly spec: MessageSpec;
  readonly expected: string | Buffer;
  /** The pieces of a fragmented message, or `null`. */
  readonly pieces: readonly (string | Uint8Array)[] | null;
  /** The largest frame it makes on the wire, uncompressed, in bytes: see {@link largestFrame}. */
  readonly largestPiece: number;
}

/**
 * Cuts `length` units at `cuts` millionths of it: as many pieces as cuts
 * plus one, some of them empty when cuts coincide.
 */
function boundaries(length: number, cuts: readonly number[]): number[] {
  const points = cuts.map((cut) => Math.floor((cut * length) / 1_000_000)).sort((a, b) => a - b);
  return [0, ...points, length];
}

function build(spec: MessageSpec): Message {
  const expected =
    spec.kind === "text" ? textOf(spec.size, spec.seed) : bytesOf(spec.size, spec.seed);
  if (spec.fragments === null) {
    return { spec, expected, pieces: null, largestPiece: spec.size };
  }
  // Text is cut between UTF-16 code units, which may split a surrogate
  // pair: send() holds a high surrogate back for the next piece. (A string
  // can't split a code point's UTF-8 bytes otherwise.) Bytes are cut anywhere.
  const points = boundaries(expected.length, spec.fragments.cuts);
  const pieces: (string | Uint8Array)[] = [];
  let largestPiece = 0;
  for (let i = 1; i < points.length; i++) {
    // Views of the bytes: send() doesn't copy them either.
    const piece =
      typeof expected === "string"
        ? expected.slice(points[i - 1], points[i])
        : expected.subarray(points[i - 1], points[i]);
    pieces.push(piece);
    const bytes = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
    largestPiece = Math.max(largestPiece, bytes);
  }
  return { spec, expected, pieces, largestPiece };
}

/** What `send()` gets for `message`: the pieces through the source the spec says. */
function sendable(message: Message): Sendable {
  const pieces = message.pieces;
  if (pieces === null) return message.expected;
  switch (message.spec.fragments!.source) {
    case "array":
      return pieces as Sendable;
    case "generator":
      return (function* () {
        yield* pieces;
      })() as Sendable;
    case "async":
      // A turn of the event loop before each piece: messages sent meanwhile
      // queue behind this one, and the socket gets to read and write.
      return (async function* () {
        for (const piece of pieces) {
          await new Promise((resolve) => setImmediate(resolve));
          yield piece;
        }
      })() as Sendable;
  }
}

/**
 * The size of the largest frame `message` puts on the wire, if it is binary
 * (pseudo-random bytes don't compress) or goes uncompressed; `0` for
 * compressed text, whose frames may be any smaller.
 */
function largestFrame(message: Message, compressed: boolean): number {
  if (message.spec.kind === "text" && compressed && message.spec.compress) return 0;
  return message.largestPiece;
}

/** The two fragments a server that fragments its echoes sends `data` in: views, for bytes. */
function halves(data: string | Uint8Array): [string, string] | [Uint8Array, Uint8Array] {
  const half = data.length >> 1;
  return typeof data === "string"
    ? [data.slice(0, half), data.slice(half)]
    : [data.subarray(0, half), data.subarray(half)];
}

/**
 * The size of the largest frame the echo of `message` puts on the wire, if
 * it is binary or goes uncompressed (echoes are compressed when compression
 * was negotiated); `0` for compressed text.
 */
function largestEcho(message: Message, options: RunOptions, compressed: boolean): number {
  if (message.spec.kind === "text" && compressed) return 0;
  if (!options.serverFragments || message.expected.length < 2) return message.spec.size;
  return Math.max(...halves(message.expected).map((half) => Buffer.byteLength(half)));
}

/** Fails with the index and place of the first difference between `got` and `message`. */
function assertEcho(got: Data, message: Message, index: number, client: number): void {
  const expected = message.expected;
  const what = `client ${client}, message ${index} (${JSON.stringify(message.spec)})`;
  if (typeof expected === "string") {
    if (typeof got !== "string") assert.fail(`${what}: text came back as binary`);
    if (got === expected) return;
    let at = 0;
    while (at < got.length && got.charCodeAt(at) === expected.charCodeAt(at)) at++;
    assert.fail(
      `${what}: ${got.length} code units came back for ${expected.length}, first difference at ${at}`,
    );
  }
  if (typeof got === "string") assert.fail(`${what}: binary came back as text`);
  const bytes = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
  if (bytes.equals(expected)) return;
  let at = 0;
  while (at < bytes.length && bytes[at] === expected[at]) at++;
  assert.fail(
    `${what}: ${bytes.length} bytes came back for ${expected.length}, first difference at ${at}`,
  );
}

// --- Runs ------------------------------------------------------------------

/** What the server's handler saw on the connection of one client. */
interface ServerSide {
  readonly reads: DirectReads;
  /** Messages it received. */
  count: number;
  /** What ended the handler otherwise than a normal closure. */
  error: unknown;
  /** Resolves when the handler returns. */
  readonly done: Promise<void>;
}

/** The echo handler: records each connection, keyed by its request path, `/client-<n>`. */
function echoing(options: RunOptions, sides: Map<string, ServerSide>): Handler {
  return async (ws) => {
    const finished = deferred();
    const side: ServerSide = {
      reads: recordDirectReads(ws),
      count: 0,
      error: null,
      done: finished.promise,
    };
    sides.set(ws.request.path, side);
    try {
      for await (const message of ws) {
        side.count++;
        // The queue fills while the handler waits: reading pauses.
        if (options.slowServer) await new Promise((resolve) => setImmediate(resolve));
        if (options.serverFragments && message.length >= 2) {
          // Echoed in two fragments: the client receives continuation frames.
          await ws.send(halves(message) as Sendable);
        } else {
          await ws.send(message);
        }
      }
    } catch (error) {
      side.error = error;
    } finally {
      finished.resolve();
    }
  };
}

/** Sends `messages` on `ws` as the run's mode says, and checks every echo. */
async function exchange(
  ws: ClientConnection,
  messages: readonly Message[],
  { mode, slowClient: slow }: RunOptions,
  client: number,
): Promise<void> {
  const send = (message: Message) =>
    ws.send(sendable(message), message.spec.compress ? undefined : { compress: false });
  if (mode === "lockstep") {
    for (const [index, message] of messages.entries()) {
      await send(message);
      if (slow) await new Promise((resolve) => setImmediate(resolve));
      assertEcho(await ws.recv(), message, index, client);
    }
    return;
  }
  // Echoes are received while sending: a client that read only once it had
  // sent everything would stall both sides once their buffers filled.
  const receiving = (async () => {
    for (const [index, message] of messages.entries()) {
      // The queue fills meanwhile, and pauses a socket that reads directly.
      if (slow) await new Promise((resolve) => setImmediate(resolve));
      assertEcho(await ws.recv(), message, index, client);
    }
  })();
  const sending =
    mode === "pipelined"
      ? Promise.all(messages.map(send))
      : (async () => {
          for (const message of messages) await send(message);
        })();
  await Promise.all([sending, receiving]);
}

/**
 * Starts the run's server: on 127.0.0.1, with TLS or without, or on a Unix
 * socket of its own; `client` is what a client needs besides the URI.
 */
async function startRunServer(
  handler: Handler,
  options: ServeOptions,
  transport: RunOptions["transport"],
): Promise<{ server: Server; uri: string; client: ConnectOptions }> {
  if (transport === "tcp") return { ...(await startServer(handler, options)), client: {} };
  if (transport === "tls") {
    const server = await serve(handler, { ...options, host: "127.0.0.1", port: 0, tls: TLS });
    const { port } = server.address() as AddressInfo;
    return { server, uri: `wss://localhost:${port}`, client: { tls: { ca: CA } } };
  }
  const path = join(directory, `echo-${socketCount++}.sock`);
  const server = await serve(handler, { ...options, path });
  return { server, uri: "ws://localhost", client: { path } };
}

async function run(options: RunOptions, clientSpecs: readonly MessageSpec[][]): Promise<void> {
  const sides = new Map<string, ServerSide>();
  const common = {
    logger: null,
    maxMessageSize: MAX_MESSAGE_SIZE,
    // Only a failing run waits for it: a hung closing handshake ends soon.
    closeTimeout: 2_000,
  };
  const { server, uri, client } = await startRunServer(
    echoing(options, sides),
    {
      ...common,
      compression: options.serverCompression ? "deflate" : null,
      maxQueue: options.serverMaxQueue,
      writeHighWaterMark: options.serverWriteHighWaterMark,
    },
    options.transport,
  );
  await using _server = server;
  const clients: ClientConnection[] = [];
  try {
    for (let i = 0; i < clientSpecs.length; i++) {
      clients.push(
        await connect(`${uri}/client-${i}`, {
          ...common,
          ...client,
          compression: options.clientCompression ? "deflate" : null,
          maxQueue: options.clientMaxQueue,
          writeHighWaterMark: options.clientWriteHighWaterMark,
        }),
      );
    }
    const compressed = options.clientCompression && options.serverCompression;
    for (const ws of clients) {
      const extensions = ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "";
      assert.equal(/permessage-deflate/.test(extensions), compressed, "compression negotiated");
    }
    // Clients read directly from the start: watched before any echo arrives.
    const clientReads = clients.map(recordDirectReads);
    const messages = clientSpecs.map((specs) => specs.map(build));
    await within(
      Promise.all(clients.map((ws, i) => exchange(ws, messages[i]!, options, i))),
      RUN_TIMEOUT,
      "every echo",
    );
    await within(
      Promise.all(clients.map((ws) => ws.close())),
      RUN_TIMEOUT,
      "the closing handshakes",
    );
    for (const [i, ws] of clients.entries()) {
      assert.equal(ws.closeCode, 1000, `client ${i} closed normally`);
      const side = sides.get(`/client-${i}`);
      assert.ok(side !== undefined, `the server saw client ${i}`);
      await within(side.done, RUN_TIMEOUT, `the handler of client ${i}`);
      assert.equal(side.error, null, `the handler of client ${i} ended normally`);
      assert.equal(side.count, messages[i]!.length, `the server received client ${i}'s messages`);
      const largest = Math.max(
        0,
        ...messages[i]!.map((message) => largestFrame(message, compressed)),
      );
      if (options.transport === "tls") {
        // The TLS layer feeds a TLS socket decrypted records: neither side
        // reads straight into a payload, and both still echo it whole.
        assert.equal(side.reads.bytesInPlace, 0, `no direct reads on TLS (server, client ${i})`);
        assert.equal(clientReads[i]!.bytesInPlace, 0, `no direct reads on TLS (client ${i})`);
        continue;
      }
      // The server listens itself (TCP or Unix socket path): its sockets
      // switch to direct reads at the first large payload.
      if (largest >= DIRECT_READ_FRAME) {
        assert.ok(
          side.reads.bytesInPlace > 0,
          `the server read client ${i}'s frame of ${largest} bytes straight into its payload`,
        );
      }
      // A client's socket reads directly from the start.
      const largestEchoed = Math.max(
        0,
        ...messages[i]!.map((message) => largestEcho(message, options, compressed)),
      );
      if (largestEchoed >= DIRECT_READ_FRAME) {
        assert.ok(
          clientReads[i]!.bytesInPlace > 0,
          `client ${i} read its echo frame of ${largestEchoed} bytes straight into its payload`,
        );
      }
      // Frames too small to be assembled are never read into: no memory is handed out.
      const largestAny = Math.max(0, ...messages[i]!.map((message) => message.largestPiece));
      if (largestAny < NEVER_ASSEMBLED) {
        assert.deepEqual(side.reads.regions, [], `no direct reads for client ${i}'s small frames`);
      }
    }
  } finally {
    // A failed run closes what it opened too; the close timeout bounds a hung one.
    await Promise.allSettled(clients.map((ws) => ws.close()));
  }
}

describe("an echo server and its clients over loopback sockets", () => {
  it("get every message back byte for byte and in order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, clientsArb, run),
      // The assertion that failed goes into the report: which client, which
      // message, where the bytes first differ.
      {
        numRuns: RUNS,
        includeErrorInReport: true,
        ...(SHRINK_LIMIT === undefined ? {} : { interruptAfterTimeLimit: SHRINK_LIMIT }),
        ...REPLAY,
      },
    );
  });
});
