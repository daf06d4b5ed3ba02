/**
 * The opening handshake against Python's `websockets`, both roles:
 * subprotocol negotiation, rejections by the server's hook, HTTP Basic
 * authentication, and redirects. Skipped without Debian's
 * `python3-websockets`, as python.test.ts is.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InvalidStatus, NegotiationError } from "../../src/core/errors.js";
import { Response } from "../../src/core/response.js";
import { basicAuth } from "../../src/node/auth.js";
import { connect } from "../../src/node/client.js";
import type { ServerConnection } from "../../src/node/server.js";
import {
  opened,
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

/** The InvalidStatus that `promise` rejects with, and its response. */
async function refused(promise: Promise<unknown>): Promise<Response> {
  const error = await promise.then(
    () => assert.fail("the handshake succeeded"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof InvalidStatus, String(error));
  assert.ok(error.response instanceof Response);
  return error.response;
}

/** A handler that records the connections it gets, then echoes. */
function recording(): { seen: ServerConnection[]; handler(ws: ServerConnection): Promise<void> } {
  const seen: ServerConnection[] = [];
  return {
    seen,
    async handler(ws) {
      seen.push(ws);
      await echo(ws);
    },
  };
}

describe(`our client against a Python websockets ${version ?? ""} server: handshake`, {
  skip,
}, () => {
  it("gets the subprotocol Python selects", async () => {
    await using peer = await startPythonServer({ subprotocols: ["chat"] });
    await using ws = await connect(peer.uri, { subprotocols: ["superchat", "chat"] });
    assert.equal(ws.subprotocol, "chat");
    assert.equal(ws.response?.headers.get("Sec-WebSocket-Protocol"), "chat");
    await ws.close();
    const seen = await peer.nextConnection();
    assert.equal(seen.subprotocol, "chat");
    assert.equal(seen.request_headers["Sec-WebSocket-Protocol"], "superchat, chat");
  });

  it("opens without a subprotocol when Python supports none of ours, unless it requires one", async () => {
    await using peer = await startPythonServer({ subprotocols: ["chat"] });
    const ws = await connect(peer.uri, { subprotocols: ["other"] });
    assert.equal(ws.subprotocol, null);
    assert.equal(ws.response?.headers.has("Sec-WebSocket-Protocol"), false);
    await ws.close();
    assert.equal((await peer.nextConnection()).subprotocol, null);

    await assert.rejects(
      connect(peer.uri, { subprotocols: ["other"], requireSubprotocol: true }),
      NegotiationError,
    );
    // Python completed its side of the handshake; our client dropped the connection.
    const dropped = await peer.nextConnection();
    assert.equal(dropped.subprotocol, null);
    assert.equal(dropped.close_rcvd, null);
  });

  it("reports the status, headers and body of Python's process_request", async () => {
    await using peer = await startPythonServer({ reject: [403, "Go away.\n"] });
    const response = await refused(connect(`${peer.uri}/private`));
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("X-Rejected-By"), "python");
    assert.equal(response.text, "Go away.\n");
    assert.deepEqual(await peer.nextRejection(), {
      event: "rejected",
      path: "/private",
      status: 403,
    });
  });

  it("authenticates with the URI's user info against Python's basic_auth_protocol_factory", async () => {
    await using peer = await startPythonServer({
      basic_auth: { realm: "interop", credentials: ["alice", "p@ss w:rd"] },
    });
    const port = new URL(peer.uri).port;
    // Percent-encoded in the URI, sent decoded.
    const ws = await connect(`ws://alice:p%40ss%20w%3Ard@127.0.0.1:${port}/`);
    await ws.send("authenticated?");
    assert.equal(await ws.recv(), "authenticated?");
    await ws.close();
    const seen = await peer.nextConnection();
    assert.equal(seen.username, "alice");
    assert.equal(
      seen.request_headers.Authorization,
      `Basic ${Buffer.from("alice:p@ss w:rd").toString("base64")}`,
    );

    for (const uri of [`ws://alice:wrong@127.0.0.1:${port}/`, peer.uri]) {
      const response = await refused(connect(uri));
      assert.equal(response.status, 401);
      assert.equal(
        response.headers.get("WWW-Authenticate"),
        'Basic realm="interop", charset="UTF-8"',
      );
    }
  });

  for (const status of [301, 302]) {
    it(`follows Python's ${status} redirect to another Python server`, async () => {
      await using peer = await startPythonServer({ redirect: status });
      await using ws = await connect(`${peer.uri}/start`);
      assert.equal(ws.request.path, "/target");
      assert.equal(ws.request.headers.get("Host"), `127.0.0.1:${peer.redirectPort}`);
      await ws.send("redirected?");
      assert.equal(await ws.recv(), "redirected?");
      await ws.close();
      assert.deepEqual(await peer.nextRejection(), { event: "rejected", path: "/start", status });
      const seen = await peer.nextConnection();
      assert.equal(seen.path, "/target");
      assert.deepEqual(seen.close_rcvd, [1000, ""]);
    });
  }

  it("follows Python's 307 redirect to a relative location on the same server", async () => {
    await using peer = await startPythonServer({
      redirect: 307,
      redirect_location: "/target?from=start",
    });
    await using ws = await connect(`${peer.uri}/start`);
    assert.equal(ws.request.path, "/target?from=start");
    assert.equal(ws.request.headers.get("Host"), new URL(peer.uri).host);
    await ws.close();
    assert.deepEqual(await peer.nextRejection(), {
      event: "rejected",
      path: "/start",
      status: 307,
    });
    assert.equal((await peer.nextConnection()).path, "/target?from=start");
  });
  it("keeps the URI's user info through a redirect to the same origin, not to another", async () => {
    const scenario = { basic_auth: { realm: "interop", credentials: ["alice", "s3cret"] } };
    await using same = await startPythonServer({
      ...scenario,
      redirect: 307,
      redirect_location: "/target",
    });
    const port = new URL(same.uri).port;
    const ws = await connect(`ws://alice:s3cret@127.0.0.1:${port}/start`);
    assert.equal(ws.request.path, "/target");
    await ws.close();
    assert.equal((await same.nextConnection()).username, "alice");

    // The other server asks for the same credentials, which the client dropped.
    await using other = await startPythonServer({ ...scenario, redirect: 307 });
    const otherPort = new URL(other.uri).port;
    const response = await refused(connect(`ws://alice:s3cret@127.0.0.1:${otherPort}/start`));
    assert.equal(response.status, 401);
    assert.equal(response.text, "Missing credentials\n");
    assert.deepEqual(await other.nextRejection(), {
      event: "rejected",
      path: "/start",
      status: 307,
    });
  });
});

describe(`a Python websockets ${version ?? ""} client against our server: handshake`, {
  skip,
}, () => {
  it("gets the subprotocol our server selects", async () => {
    const { seen, handler } = recording();
    const { server, uri } = await startServer(handler, { subprotocols: ["chat.v2", "chat.v1"] });
    await using _server = server;
    const report = opened(
      await runPythonClient({ uri, subprotocols: ["chat.v1", "chat.v2"], steps: [] }),
    );
    // Ours picks by its own order of preference.
    assert.equal(report.subprotocol, "chat.v2");
    assert.equal(report.response_headers["Sec-WebSocket-Protocol"], "chat.v2");
    assert.equal(seen[0]?.subprotocol, "chat.v2");
    assert.equal(seen[0]?.request.headers.get("Sec-WebSocket-Protocol"), "chat.v1, chat.v2");
  });

  it("refuses with 400 a Python client that offers none of our subprotocols", async () => {
    const { seen, handler } = recording();
    const { server, uri } = await startServer(handler, { subprotocols: ["chat"] });
    await using _server = server;
    for (const subprotocols of [["other"], null]) {
      const report = await runPythonClient({ uri, subprotocols, steps: [] });
      assert.equal(report.error, "InvalidStatusCode");
      assert.equal("status_code" in report && report.status_code, 400);
    }
    assert.equal(seen.length, 0, "the handler never ran");
  });

  it("opens without a subprotocol when selectSubprotocol picks none", async () => {
    const { seen, handler } = recording();
    const offered: string[][] = [];
    const { server, uri } = await startServer(handler, {
      selectSubprotocol: (protocols) => {
        offered.push([...protocols]);
        return null;
      },
    });
    await using _server = server;
    const report = opened(await runPythonClient({ uri, subprotocols: ["a", "b"], steps: [] }));
    assert.equal(report.subprotocol, null);
    assert.equal("Sec-WebSocket-Protocol" in report.response_headers, false);
    assert.deepEqual(offered, [["a", "b"]]);
    assert.equal(seen[0]?.subprotocol, null);
  });

  const rejections: [number, Record<string, string>][] = [
    [403, {}],
    [401, { "WWW-Authenticate": 'Bearer realm="interop"' }],
  ];
  for (const [status, headers] of rejections) {
    it(`answers ${status} from processRequest, which Python raises as InvalidStatusCode`, async () => {
      const { seen, handler } = recording();
      const paths: string[] = [];
      const { server, uri } = await startServer(handler, {
        processRequest: (_connection, request) => {
          paths.push(request.path);
          return { status, headers, body: "No.\n" };
        },
      });
      await using _server = server;
      const report = await runPythonClient({ uri: `${uri}/private?token=x`, steps: [] });
      assert.equal(report.error, "InvalidStatusCode");
      assert.ok("status_code" in report);
      assert.equal(report.status_code, status);
      for (const [name, value] of Object.entries(headers))
        assert.equal(report.headers[name], value);
      assert.equal(report.headers["Content-Length"], "4");
      assert.deepEqual(paths, ["/private?token=x"]);
      assert.equal(seen.length, 0, "the handler never ran");
    });
  }

  it("authenticates a Python client's user info with basicAuth()", async () => {
    const { seen, handler } = recording();
    const { server, port } = await startServer(handler, {
      processRequest: basicAuth({ realm: "interop", credentials: { alice: "s3cret" } }),
    });
    await using _server = server;
    const report = opened(
      await runPythonClient({
        uri: `ws://alice:s3cret@127.0.0.1:${port}/`,
        steps: [{ exchange: "authenticated?" }],
      }),
    );
    assert.deepEqual(report.steps, [{ same: true }]);
    assert.equal(seen[0]?.username, "alice");

    const wrong = await runPythonClient({ uri: `ws://alice:wrong@127.0.0.1:${port}/`, steps: [] });
    assert.equal(wrong.error, "InvalidStatusCode");
    assert.ok("status_code" in wrong);
    assert.equal(wrong.status_code, 401);
    assert.equal(wrong.headers["WWW-Authenticate"], 'Basic realm="interop", charset="UTF-8"');
    assert.equal(seen.length, 1);
  });

  it("redirects a Python client, which follows to our other server", async () => {
    const target = recording();
    const { server: targetServer, port: targetPort } = await startServer(target.handler);
    await using _target = targetServer;
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({
        status: 302,
        headers: { Location: `ws://127.0.0.1:${targetPort}/target` },
      }),
    });
    await using _server = server;
    const report = opened(
      await runPythonClient({ uri: `${uri}/start`, steps: [{ exchange: "redirected?" }] }),
    );
    assert.equal(report.path, "/target");
    assert.deepEqual(report.steps, [{ same: true }]);
    assert.equal(target.seen[0]?.request.path, "/target");
    assert.equal(server.connections.size, 0);
  });
});
