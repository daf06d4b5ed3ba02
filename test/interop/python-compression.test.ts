/**
 * permessage-deflate parameters against Python's `websockets`, both roles:
 * `server_max_window_bits`, `client_max_window_bits`,
 * `server_no_context_takeover` and `client_no_context_takeover` asked by
 * either side, and compression off on one side. Both sides must report the
 * same agreement, and the sizes of the frames on the wire, which the Python
 * side records, must show each direction compressing as agreed:
 *
 * - a message of 400 random base64 characters, sent three times: with
 *   context takeover the second and third copies shrink to a few bytes
 *   (they refer to the first), without it they don't;
 * - a message made of 1000 random base64 characters twice: a window of
 *   2^11 bytes or more reaches back to the first half, one of 2^10 doesn't
 *   (zlib matches at most 2^N - 262 bytes back).
 *
 * Fragmented messages, compressed, too. Skipped without Debian's
 * `python3-websockets`, as python.test.ts is.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { connect } from "../../src/node/client.js";
import type { CompressionOptions } from "../../src/node/compression.js";
import type { Connection } from "../../src/node/connection.js";
import type { ServerConnection } from "../../src/node/server.js";
import {
  opened,
  type PythonDeflate,
  type PythonFrame,
  pythonWebsocketsVersion,
  runPythonClient,
  skipWithoutPythonWebsockets,
  startPythonServer,
} from "../helpers/python.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const version = pythonWebsocketsVersion();
const skip = skipWithoutPythonWebsockets(version);

function randomText(length: number): string {
  return randomBytes(length).toString("base64").slice(0, length);
}

const repeated = randomText(400);
const half = randomText(1000);
const MESSAGES = [repeated, repeated, repeated, half + half];

/** How one direction compresses: its window (bits), and whether it takes context over. */
interface Way {
  bits: number;
  takeover: boolean;
}

/** What a variant should agree on: `null` for no compression. */
interface Agreement {
  header: string;
  /** From our side to Python's. */
  toPython: Way;
  /** From Python's side to ours. */
  fromPython: Way;
}

/** Checks the sizes on the wire of the four messages one way. */
function checkWire(way: Way | null, frames: PythonFrame[], what: string): void {
  const sizes = frames.filter(([, op]) => op === "TEXT").map(([, , wire]) => wire);
  assert.equal(sizes.length, 4, `${what}: ${JSON.stringify(frames)}`);
  const [first, second, third, doubled] = sizes as [number, number, number, number];
  const detail = `${what}: ${sizes.join(", ")} bytes on the wire`;
  if (way === null) {
    assert.ok(first > 400 && second > 400 && third > 400 && doubled > 2000, detail);
    return;
  }
  assert.ok(first < 380, `${detail}: not compressed`);
  // The copies refer to the first only through a window that reaches 400 bytes back.
  if (!way.takeover) assert.ok(second > 250 && third > 250, `${detail}: context takeover`);
  else if (way.bits >= 10) assert.ok(second < 40 && third < 40, `${detail}: no context takeover`);
  if (way.bits >= 11) assert.ok(doubled < 1200, `${detail}: window under 2^11`);
  else assert.ok(doubled > 1400, `${detail}: window over 2^10`);
}

/** Checks that both sides agree on `agreement`, or on no compression. */
function checkAgreement(
  agreement: Agreement | null,
  ours: Connection,
  header: string | undefined,
  theirs: PythonDeflate | null,
  theirHeader: string | undefined,
): void {
  if (agreement === null) {
    assert.deepEqual(ours.protocol.extensions, []);
    assert.equal(header, undefined);
    assert.equal(theirs, null);
    assert.equal(theirHeader, undefined);
    return;
  }
  assert.equal(header, agreement.header);
  assert.equal(theirHeader, agreement.header);
  const [extension] = ours.protocol.extensions;
  assert.ok(extension instanceof PerMessageDeflate);
  const { toPython, fromPython } = agreement;
  assert.deepEqual(
    {
      localMaxWindowBits: extension.localMaxWindowBits,
      remoteMaxWindowBits: extension.remoteMaxWindowBits,
      localNoContextTakeover: extension.localNoContextTakeover,
      remoteNoContextTakeover: extension.remoteNoContextTakeover,
    },
    {
      localMaxWindowBits: toPython.bits,
      remoteMaxWindowBits: fromPython.bits,
      localNoContextTakeover: !toPython.takeover,
      remoteNoContextTakeover: !fromPython.takeover,
    },
  );
  assert.deepEqual(theirs, {
    local_max_window_bits: fromPython.bits,
    remote_max_window_bits: toPython.bits,
    local_no_context_takeover: !fromPython.takeover,
    remote_no_context_takeover: !toPython.takeover,
  });
}

const takeover = (bits: number): Way => ({ bits, takeover: true });
const noTakeover = (bits: number): Way => ({ bits, takeover: false });

/** A variant: Python's scenario, our options, and what both should agree on. */
type Variant = [
  title: string,
  python: object,
  ours: CompressionOptions,
  agreement: Agreement | null,
];

describe(`our client against a Python websockets ${version ?? ""} server: compression`, {
  skip,
}, () => {
  const variants: Variant[] = [
    [
      "Python limits its own window (server_max_window_bits=10)",
      { deflate: { server_max_window_bits: 10 } },
      {},
      {
        header: "permessage-deflate; server_max_window_bits=10",
        toPython: takeover(15),
        fromPython: takeover(10),
      },
    ],
    [
      "Python limits our window (client_max_window_bits=10)",
      { deflate: { client_max_window_bits: 10 } },
      {},
      {
        header: "permessage-deflate; client_max_window_bits=10",
        toPython: takeover(10),
        fromPython: takeover(15),
      },
    ],
    [
      "Python disables context takeover both ways",
      { deflate: { server_no_context_takeover: true, client_no_context_takeover: true } },
      {},
      {
        header: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        toPython: noTakeover(15),
        fromPython: noTakeover(15),
      },
    ],
    [
      "we ask Python for a small window without context takeover",
      {},
      { deflate: { peerWindowBits: 10, peerNoContextTakeover: true } },
      {
        // Python's default factory asks clients for 2^12-byte windows.
        header:
          "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
        toPython: takeover(12),
        fromPython: noTakeover(10),
      },
    ],
    [
      "we commit to a small window without context takeover",
      {},
      { deflate: { windowBits: 10, noContextTakeover: true } },
      {
        // Python's default factory uses a 2^12-byte window.
        header:
          "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10",
        toPython: noTakeover(10),
        fromPython: takeover(12),
      },
    ],
    ["we turn compression off", {}, { compression: null }, null],
    ["Python turns compression off", { compression: null }, {}, null],
  ];
  for (const [title, python, ours, agreement] of variants) {
    it(`agrees and compresses as agreed: ${title}`, async () => {
      await using peer = await startPythonServer(python);
      const ws = await connect(peer.uri, ours);
      for (const message of MESSAGES) {
        await ws.send(message);
        assert.equal(await ws.recv(), message);
      }
      await ws.close();
      const seen = await peer.nextConnection();
      checkAgreement(
        agreement,
        ws,
        ws.response?.headers.get("Sec-WebSocket-Extensions"),
        seen.deflate,
        seen.response_headers["Sec-WebSocket-Extensions"],
      );
      const frames = (direction: string) => seen.frames.filter(([dir]) => dir === direction);
      checkWire(agreement?.toPython ?? null, frames("in"), "to Python");
      checkWire(agreement?.fromPython ?? null, frames("out"), "from Python");
    });
  }

  it("exchanges fragmented compressed messages, context taken over from one to the next", async () => {
    await using peer = await startPythonServer();
    const ws = await connect(peer.uri);
    const fragments = [repeated, half, "x".repeat(500)];
    for (let i = 0; i < 3; i++) {
      await ws.send(fragments);
      assert.equal(await ws.recv(), fragments.join(""));
    }
    await ws.close();
    const seen = await peer.nextConnection();
    // Python read each message in fragments, and the second and third
    // refer to the first: a few bytes per fragment.
    const fragmentsIn = seen.frames.filter(([dir, op]) => dir === "in" && op !== "CLOSE");
    assert.deepEqual(
      fragmentsIn.slice(0, 3).map(([, op, , payload]) => [op, payload]),
      [
        ["TEXT", 400],
        ["CONT", 1000],
        ["CONT", 500],
      ],
    );
    const later = fragmentsIn
      .slice(fragmentsIn.length / 3)
      .filter(([, , , payload]) => payload > 0);
    assert.equal(later.length, 6);
    assert.ok(
      later.every(([, , wire]) => wire < 40),
      JSON.stringify(later),
    );
  });
});

describe(`a Python websockets ${version ?? ""} client against our server: compression`, {
  skip,
}, () => {
  const variants: Variant[] = [
    [
      "Python limits our window (server_max_window_bits=10)",
      { deflate: { server_max_window_bits: 10 } },
      {},
      {
        header: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
        toPython: takeover(10),
        fromPython: takeover(12),
      },
    ],
    [
      // The smallest window: Python's decoder keeps 256 bytes. (Python 10.4
      // can't compress with it: zlib refuses a raw deflate window of 2^8.)
      "Python limits our window to the minimum (server_max_window_bits=8)",
      { deflate: { server_max_window_bits: 8 } },
      {},
      {
        header: "permessage-deflate; server_max_window_bits=8; client_max_window_bits=12",
        toPython: takeover(8),
        fromPython: takeover(12),
      },
    ],
    [
      "Python commits to a small window (client_max_window_bits=10)",
      { deflate: { client_max_window_bits: 10 } },
      {},
      {
        header: "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10",
        toPython: takeover(12),
        fromPython: takeover(10),
      },
    ],
    [
      "Python asks for no context takeover both ways",
      { deflate: { server_no_context_takeover: true, client_no_context_takeover: true } },
      {},
      {
        header:
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
        toPython: noTakeover(12),
        fromPython: noTakeover(12),
      },
    ],
    [
      "we require small windows and no context takeover",
      {},
      {
        deflate: {
          windowBits: 10,
          peerWindowBits: 10,
          noContextTakeover: true,
          peerNoContextTakeover: true,
        },
      },
      {
        header:
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10",
        toPython: noTakeover(10),
        fromPython: noTakeover(10),
      },
    ],
    [
      "we announce no window limits",
      {},
      { deflate: { windowBits: null, peerWindowBits: null } },
      { header: "permessage-deflate", toPython: takeover(15), fromPython: takeover(15) },
    ],
    ["we turn compression off", {}, { compression: null }, null],
    ["Python turns compression off", { compression: null }, {}, null],
  ];
  for (const [title, python, ours, agreement] of variants) {
    it(`agrees and compresses as agreed: ${title}`, async () => {
      const seen: ServerConnection[] = [];
      const { server, uri } = await startServer(async (ws) => {
        seen.push(ws);
        await echo(ws);
      }, ours);
      await using _server = server;
      const report = opened(
        await runPythonClient({
          uri,
          ...python,
          steps: MESSAGES.map((message) => ({ exchange: message })),
        }),
      );
      assert.deepEqual(
        report.steps,
        MESSAGES.map(() => ({ same: true })),
      );
      const [ws] = seen;
      assert.ok(ws !== undefined);
      checkAgreement(
        agreement,
        ws,
        ws.response?.headers.get("Sec-WebSocket-Extensions"),
        report.deflate,
        report.response_headers["Sec-WebSocket-Extensions"],
      );
      const frames = (direction: string) => report.frames.filter(([dir]) => dir === direction);
      checkWire(agreement?.toPython ?? null, frames("in"), "to Python");
      checkWire(agreement?.fromPython ?? null, frames("out"), "from Python");
    });
  }

  it("exchanges fragmented compressed messages, context taken over from one to the next", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const fragments = [repeated, half, "x".repeat(500)];
    const report = opened(
      await runPythonClient({
        uri,
        steps: [0, 1, 2].flatMap(() => [{ send: { fragments } }, { recv: true }]),
      }),
    );
    assert.deepEqual(
      report.steps,
      [0, 1, 2].flatMap(() => [null, fragments.join("")]),
    );
    const fragmentsOut = report.frames.filter(([dir, op]) => dir === "out" && op !== "CLOSE");
    assert.deepEqual(
      fragmentsOut.slice(0, 3).map(([, op, , payload]) => [op, payload]),
      [
        ["TEXT", 400],
        ["CONT", 1000],
        ["CONT", 500],
      ],
    );
    const later = fragmentsOut
      .slice(fragmentsOut.length / 3)
      .filter(([, , , payload]) => payload > 0);
    assert.equal(later.length, 6);
    assert.ok(
      later.every(([, , wire]) => wire < 40),
      JSON.stringify(later),
    );
  });
});
