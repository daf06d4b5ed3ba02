/**
 * The Node layer's release of zlib streams once a connection goes quiet
 * (`releaseWhenIdle` in src/node/compression.ts), over loopback.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import WebSocket, { WebSocketServer } from "ws";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { connect } from "../../src/node/client.js";
import { MAX_OPEN_STREAMS, releaseWhenIdle } from "../../src/node/compression.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Repetitive JSON, the kind of traffic compression is for. */
function chat(seed: number): string {
  return JSON.stringify(
    Array.from({ length: 40 }, (_, i) => ({ id: seed + i, user: `user${i % 7}`, text: "hi" })),
  );
}

/** Stands for an extension: counts the calls the scheduler makes. */
class FakeExtension {
  checks = 0;
  released = 0;
  constructor(private busyChecks: number) {}
  releaseIfIdle(): boolean {
    this.checks++;
    return this.busyChecks-- <= 0;
  }
  releaseIdleState(): void {
    this.released++;
  }
}

const asExtension = (fake: FakeExtension) => fake as unknown as PerMessageDeflate;

describe("releaseWhenIdle", () => {
  it("checks an extension at the end of each turn until it has released its streams", async () => {
    const fake = new FakeExtension(2);
    releaseWhenIdle(asExtension(fake));
    releaseWhenIdle(asExtension(fake));
    assert.equal(fake.checks, 0);
    for (let turn = 0; turn < 6; turn++) await nextTurn();
    assert.equal(fake.checks, 3);
  });

  it(`closes the streams of the oldest when more than ${MAX_OPEN_STREAMS} keep some`, async () => {
    const fakes = Array.from({ length: MAX_OPEN_STREAMS + 2 }, () => new FakeExtension(0));
    for (const fake of fakes) releaseWhenIdle(asExtension(fake));
    assert.deepEqual(
      fakes.map((fake) => fake.released),
      [1, 1, ...Array.from({ length: MAX_OPEN_STREAMS }, () => 0)],
    );
    await nextTurn();
    assert.deepEqual(
      fakes.map((fake) => fake.checks),
      [0, 0, ...Array.from({ length: MAX_OPEN_STREAMS }, () => 1)],
    );
  });
});

describe("zlib streams of a connection", () => {
  it("stay open while messages flow and close a turn after they stop, both sides", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    await using ws = await connect(uri);
    const [client] = ws.protocol.extensions;
    const [serverSide] = [...server.connections];
    const serverExtension = serverSide!.protocol.extensions[0];
    assert.ok(client instanceof PerMessageDeflate);
    assert.ok(serverExtension instanceof PerMessageDeflate);
    for (let round = 0; round < 3; round++) {
      // Several messages in one turn, and their echoes.
      const sent = [0, 1, 2].map((i) => chat(round * 10 + i));
      for (const message of sent) void ws.send(message);
      assert.equal(client.holdsStreams, true);
      for (const message of sent) assert.equal(await ws.recv(), message);
      // Quiet: released within a few turns, then the context carries on
      // from the windows in the next round.
      for (let turn = 0; turn < 4; turn++) await nextTurn();
      assert.equal(client.holdsStreams, false);
      assert.equal(serverExtension.holdsStreams, false);
    }
  });
});

describe("zlib streams closed and reopened, against ws's persistent streams", () => {
  it("keep the context of our client for a ws server", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: true });
    wss.on("connection", (peer) =>
      peer.on("message", (data, isBinary) => peer.send(data, { binary: isBinary })),
    );
    await once(wss, "listening");
    try {
      const { port } = wss.address() as AddressInfo;
      await using ws = await connect(`ws://127.0.0.1:${port}/`);
      const [extension] = ws.protocol.extensions;
      assert.ok(extension instanceof PerMessageDeflate);
      for (let round = 0; round < 4; round++) {
        const sent = [chat(round), chat(round), chat(round + 1)];
        for (const message of sent) void ws.send(message);
        for (const message of sent) assert.equal(await ws.recv(), message);
        for (let turn = 0; turn < 4; turn++) await nextTurn();
        assert.equal(extension.holdsStreams, false);
      }
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it("keep the context of our server for a ws client", async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const ws = new WebSocket(uri, { perMessageDeflate: true });
    const received: string[] = [];
    ws.on("message", (data) => received.push(String(data)));
    await once(ws, "open");
    try {
      const [serverSide] = [...server.connections];
      const extension = serverSide!.protocol.extensions[0];
      assert.ok(extension instanceof PerMessageDeflate);
      const expected: string[] = [];
      for (let round = 0; round < 4; round++) {
        const sent = [chat(round), chat(round), chat(round + 1)];
        for (const message of sent) ws.send(message);
        expected.push(...sent);
        while (received.length < expected.length) await once(ws, "message");
        for (let turn = 0; turn < 4; turn++) await nextTurn();
        assert.equal(extension.holdsStreams, false);
      }
      assert.deepEqual(received, expected);
    } finally {
      ws.terminate();
    }
  });
});
