import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InvalidStatus } from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import { matchRoute, route } from "../../src/node/routing.js";
import type { ServerConnection } from "../../src/node/server.js";
import { RawPeer } from "../helpers/raw.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A handler that says which route it is and what parameters it got. */
function reply(name: string) {
  return async (ws: ServerConnection) => {
    await ws.send(JSON.stringify([name, ws.params]));
  };
}

const ROUTES = {
  "/chat": reply("chat"),
  "/rooms/:room/users/:user": reply("user"),
  "/rooms/:room": reply("room"),
  "/rooms/lobby": reply("lobby"),
};

describe("route()", () => {
  const routes = route(ROUTES);

  it("dispatches by path, ignoring the query string, with parameters", async () => {
    const { server, uri } = await startServer(routes);
    await using _server = server;
    const answer = async (path: string) => {
      await using ws = await connect(`${uri}${path}`);
      return JSON.parse(await ws.recvText());
    };
    assert.deepEqual(await answer("/chat?token=1"), ["chat", {}]);
    assert.deepEqual(await answer("/rooms/42"), ["room", { room: "42" }]);
    assert.deepEqual(await answer("/rooms/caf%C3%A9"), ["room", { room: "café" }]);
    assert.deepEqual(await answer("/rooms/1/users/ann"), ["user", { room: "1", user: "ann" }]);
    // A pattern without parameters wins, whatever the order.
    assert.deepEqual(await answer("/rooms/lobby"), ["lobby", {}]);
  });

  it("answers 404 during the handshake when no route matches", async () => {
    let processed = 0;
    const { server, uri, port } = await startServer(routes, {
      processRequest: () => {
        processed++;
        return undefined;
      },
    });
    await using _server = server;
    for (const path of ["/", "/chat/", "/rooms", "/rooms/", "/rooms/1/users", "/a%2Fb", "/%zz"]) {
      const error = await connect(`${uri}${path}`).catch((e: unknown) => e);
      assert.ok(error instanceof InvalidStatus, path);
      assert.equal(error.response.status, 404, path);
    }
    assert.equal(processed, 0);
    const peer = await RawPeer.connect(port);
    assert.match(await peer.handshake("/nowhere"), /^HTTP\/1\.1 404 Not Found\r\n/);
    await using ws = await connect(`${uri}/chat`);
    assert.equal(await ws.recv(), '["chat",{}]');
    assert.equal(processed, 1);
  });

  it("routes an absolute-form request target on its path", async () => {
    // RFC 6455 §4.2.1 item 1: the Request-URI may be an absolute http/https URI.
    const { server, port } = await startServer(route({ "/": reply("root"), ...ROUTES }));
    await using _server = server;
    const answer = async (target: string) => {
      const peer = await RawPeer.connect(port);
      const head = await peer.handshake(target);
      const frame = head.startsWith("HTTP/1.1 101 ") ? await peer.readFrame() : null;
      peer.socket.destroy();
      return frame === null
        ? head.split("\r\n")[0]
        : JSON.parse(new TextDecoder().decode(frame.data));
    };
    assert.deepEqual(await answer(`http://127.0.0.1:${port}/chat`), ["chat", {}]);
    assert.deepEqual(await answer("HTTPS://user@127.0.0.1/rooms/caf%C3%A9?x=1"), [
      "room",
      { room: "café" },
    ]);
    // RFC 9112 §3.2.1: an empty path is "/".
    assert.deepEqual(await answer("http://127.0.0.1?x=1"), ["root", {}]);
    assert.deepEqual(await answer("http://127.0.0.1"), ["root", {}]);
    assert.equal(await answer("http://127.0.0.1/nowhere"), "HTTP/1.1 404 Not Found");
    // Other schemes than http, https, ws and wss name other resources.
    assert.equal(await answer("ftp://127.0.0.1/chat"), "HTTP/1.1 404 Not Found");
    // RFC 9110 §4.2.1: a URI with an empty host is rejected as invalid, by
    // the request parser before any route is looked at.
    for (const target of ["ws:///chat", "http://user@/chat", "wss://:443/chat", "ws://?x=1"]) {
      assert.equal(await answer(target), "HTTP/1.1 400 Bad Request", target);
    }
    assert.deepEqual(await answer("ws://[::1]:80/chat"), ["chat", {}]);
  });

  it("routes a target in absolute form on its path exactly as in origin form", async () => {
    // RFC 9112 §3.2.2: absolute-form = absolute-URI, whichever the scheme; a
    // client may write its ws:// or wss:// URI there.
    const { server, port } = await startServer(route({ "/": reply("root"), ...ROUTES }));
    await using _server = server;
    const answer = async (target: string) => {
      const peer = await RawPeer.connect(port);
      const head = await peer.handshake(target);
      const frame = head.startsWith("HTTP/1.1 101 ") ? await peer.readFrame() : null;
      peer.socket.destroy();
      return frame === null ? head.split("\r\n")[0] : new TextDecoder().decode(frame.data);
    };
    const paths = [
      "/",
      "/?x=1",
      "/chat",
      "/chat?token=a/b",
      "/chat/",
      "/rooms/42",
      "/rooms/caf%C3%A9",
      "/rooms/lobby",
      "/rooms/1/users/ann",
      "/rooms",
      "/a%2Fb",
      "/%zz",
      "/nowhere",
    ];
    // The host is not checked: neither against the Host header (127.0.0.1
    // here) nor against anything the server knows; route() sees the path only.
    const origins = ["ws://example.com", "wss://example.com:8443", "WS://user:pw@127.0.0.1"];
    for (const path of paths) {
      const expected = await answer(path);
      for (const origin of origins) {
        assert.equal(await answer(`${origin}${path}`), expected, `${origin}${path}`);
      }
    }
    assert.deepEqual(await answer("ws://example.com"), await answer("/"));
    assert.deepEqual(await answer("wss://example.com?x=1"), await answer("/?x=1"));
  });

  it("rejects invalid patterns", () => {
    const handler = reply("x");
    assert.throws(() => route({ chat: handler }), TypeError);
    assert.throws(() => route({ "/a/:": handler }), TypeError);
    assert.throws(() => route({ "/a/:id/:id": handler }), TypeError);
    // It would set the prototype of the params object, not a parameter.
    assert.throws(() => route({ "/r/:__proto__": handler }), {
      name: "TypeError",
      message: "invalid parameter name in route /r/:__proto__: :__proto__ is reserved",
    });
    // Other names of Object.prototype's members are parameters like any other.
    route({ "/r/:constructor/:toString": handler });
  });

  it("decodes a pattern's percent-encoding as it does the path's", () => {
    const handler = reply("x");
    const routes = route({ "/hello%20world": handler, "/caf%C3%A9/:id": handler });
    for (const path of ["/hello%20world", "/hello world", "/hello%20world?x=1"]) {
      assert.equal(matchRoute(routes, path)?.pattern, "/hello%20world", path);
    }
    assert.deepEqual(matchRoute(routes, "/caf%c3%a9/a%2Fb")?.params, { id: "a/b" });
    assert.deepEqual(matchRoute(routes, "/café/1")?.params, { id: "1" });
    // A pattern's encoded slash stays inside its segment.
    const slash = route({ "/a%2Fb": handler });
    assert.equal(matchRoute(slash, "/a/b"), null);
    assert.equal(matchRoute(slash, "/a%2Fb")?.pattern, "/a%2Fb");
    // A "%" that starts no encoding is a literal one, which a client sends encoded.
    const percent = route({ "/100%/:id": handler });
    assert.deepEqual(matchRoute(percent, "/100%25/7")?.params, { id: "7" });
  });
});
