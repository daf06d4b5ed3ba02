/** Subprotocol negotiation (RFC 6455 §1.9, §4.1, §4.2.2) between our client and server, over loopback. */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InvalidStatus, NegotiationError } from "../../src/core/errors.js";
import { acceptKey } from "../../src/core/handshake.js";
import type { Request } from "../../src/core/request.js";
import { connect } from "../../src/node/client.js";
import { type ServeOptions, type ServerConnection, serve } from "../../src/node/server.js";
import { rawServer } from "../helpers/raw.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/**
 * A server that reports the subprotocol its side negotiated, then echoes.
 * Resolves `serverSide` with the server's view of each connection.
 */
async function subprotocolServer(options: ServeOptions) {
  const serverSide = deferred<string | null>();
  const { server, uri } = await startServer(async (ws: ServerConnection) => {
    serverSide.resolve(ws.subprotocol);
    for await (const message of ws) await ws.send(message);
  }, options);
  return { server, uri, serverSide: serverSide.promise };
}

/** The status of the response that made connect() fail. */
async function rejectedStatus(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidStatus, String(error));
    return error.response.status;
  }
  assert.fail("connect() succeeded");
}

describe("subprotocols", () => {
  it("refuses subprotocols given as a string, on either side, before anything starts", async () => {
    // A string would pass for a list of its characters: a server with "chat"
    // would select "c" for a client offering "c".
    await assert.rejects(
      serve(async () => {}, { port: 0, subprotocols: "chat" as never }),
      {
        name: "TypeError",
        message: 'subprotocols must be an array of strings, such as ["chat"]; got "chat"',
      },
    );
    await assert.rejects(connect("ws://127.0.0.1:1/", { subprotocols: "chat" as never }), {
      name: "TypeError",
    });
  });

  it("offers subprotocols in the client's order of preference", async () => {
    const { server, uri, serverSide } = await subprotocolServer({ subprotocols: ["chat.v1"] });
    await using _server = server;
    await using ws = await connect(uri, { subprotocols: ["chat.v2", "chat.v1"] });
    assert.equal(ws.request.headers.get("Sec-WebSocket-Protocol"), "chat.v2, chat.v1");
    assert.equal(ws.subprotocol, "chat.v1");
    assert.equal(await serverSide, "chat.v1");
  });

  it("picks the server's preferred subprotocol among those offered", async () => {
    const { server, uri, serverSide } = await subprotocolServer({
      subprotocols: ["chat.v3", "chat.v1", "chat.v2"],
    });
    await using _server = server;
    await using ws = await connect(uri, { subprotocols: ["chat.v2", "chat.v1"] });
    assert.equal(ws.response?.headers.get("Sec-WebSocket-Protocol"), "chat.v1");
    assert.equal(ws.subprotocol, "chat.v1");
    assert.equal(await serverSide, "chat.v1");
    await ws.send("works");
    assert.equal(await ws.recv(), "works");
  });

  it("lets selectSubprotocol pick, given the offers in order and the request", async () => {
    const calls: [readonly string[], string][] = [];
    const { server, uri, serverSide } = await subprotocolServer({
      subprotocols: ["ignored"],
      selectSubprotocol: (offered: readonly string[], request: Request) => {
        calls.push([offered, request.path]);
        return offered[0] ?? null;
      },
    });
    await using _server = server;
    await using ws = await connect(`${uri}/room`, { subprotocols: ["b", "a"] });
    assert.equal(ws.subprotocol, "b");
    assert.equal(await serverSide, "b");
    assert.deepEqual(calls, [[["b", "a"], "/room"]]);
  });

  it("opens without a subprotocol when selectSubprotocol returns null", async () => {
    const { server, uri, serverSide } = await subprotocolServer({ selectSubprotocol: () => null });
    await using _server = server;
    await using ws = await connect(uri, { subprotocols: ["chat"] });
    assert.equal(ws.response?.headers.has("Sec-WebSocket-Protocol"), false);
    assert.equal(ws.subprotocol, null);
    assert.equal(await serverSide, null);
  });

  it("reports no subprotocol when neither side has any", async () => {
    const { server, uri, serverSide } = await subprotocolServer({});
    await using _server = server;
    await using ws = await connect(uri);
    assert.equal(ws.request.headers.has("Sec-WebSocket-Protocol"), false);
    assert.equal(ws.subprotocol, null);
    assert.equal(await serverSide, null);
  });

  it("reports no subprotocol when the server supports none of those offered and requires none", async () => {
    const { server, uri, serverSide } = await subprotocolServer({});
    await using _server = server;
    await using ws = await connect(uri, { subprotocols: ["chat"] });
    assert.equal(ws.subprotocol, null);
    assert.equal(await serverSide, null);
  });

  it("answers 400 when the server requires a subprotocol and the client offers none", async () => {
    const { server, uri } = await subprotocolServer({ subprotocols: ["chat"] });
    await using _server = server;
    assert.equal(await rejectedStatus(connect(uri)), 400);
  });

  it("answers 400 when the server requires a subprotocol and none matches", async () => {
    const { server, uri } = await subprotocolServer({ subprotocols: ["chat.v1", "chat.v2"] });
    await using _server = server;
    assert.equal(await rejectedStatus(connect(uri, { subprotocols: ["chat.v3"] })), 400);
    assert.equal(server.connections.size, 0);
  });

  it("answers 500 when selectSubprotocol picks one that wasn't offered, or throws, and logs the error", async () => {
    for (const [selectSubprotocol, message] of [
      [
        () => "not-offered",
        "selectSubprotocol returned not-offered, which the client did not offer",
      ],
      [
        () => {
          throw new Error("selector bug");
        },
        "selector bug",
      ],
    ] as const) {
      // The 500 says "See server log": the error must be there, at error level.
      const errors: unknown[][] = [];
      const logger = {
        error: (...args: unknown[]) => void errors.push(args),
        warn: () => {},
        info: () => {},
        debug: () => {},
      };
      const { server, uri } = await subprotocolServer({ selectSubprotocol, logger });
      await using _server = server;
      assert.equal(await rejectedStatus(connect(uri, { subprotocols: ["chat"] })), 500);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]![0]), /^opening handshake failed \(/);
      assert.ok(errors[0]![1] instanceof Error);
      assert.equal(errors[0]![1].message, message);
    }
  });

  it("fails the client when the server picks a subprotocol it didn't offer", async () => {
    const raw = await rawServer(async (peer) => {
      const head = await peer.readHead();
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
      peer.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: superchat\r\n\r\n`,
      );
    });
    try {
      await assert.rejects(
        connect(`ws://127.0.0.1:${raw.port}`, { subprotocols: ["chat"] }),
        NegotiationError,
      );
      await assert.rejects(connect(`ws://127.0.0.1:${raw.port}`), NegotiationError);
    } finally {
      await raw.close();
    }
  });
});
