import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InvalidHeaderFormat, InvalidStatus } from "../../src/core/errors.js";
import { basicAuth } from "../../src/node/auth.js";
import { connect } from "../../src/node/client.js";
import { RawPeer } from "../helpers/raw.js";
import { startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A handler that tells the client who it is. */
const whoami = async (ws: { username: string | null; send(m: string): Promise<void> }) => {
  await ws.send(ws.username ?? "nobody");
};

async function statusOf(uri: string, headers: Record<string, string> = {}): Promise<unknown> {
  return connect(uri, { additionalHeaders: headers }).then(
    (ws) => ws.close(),
    (error: unknown) => (error instanceof InvalidStatus ? error.response.status : error),
  );
}

describe("basicAuth()", () => {
  it("lets in a user with valid credentials and sets the username", async () => {
    const { server, port } = await startServer(whoami, {
      processRequest: basicAuth({ credentials: { alice: "wonder:land", bob: "builder" } }),
    });
    await using _server = server;
    await using ws = await connect(`ws://alice:wonder%3Aland@127.0.0.1:${port}/`);
    assert.equal(await ws.recv(), "alice");
    await using other = await connect(`ws://bob:builder@127.0.0.1:${port}/`);
    assert.equal(await other.recv(), "bob");
  });

  it("takes credentials as pairs, in UTF-8", async () => {
    const { server, port } = await startServer(whoami, {
      processRequest: basicAuth({ credentials: [["zoë", "pässword"]] }),
    });
    await using _server = server;
    await using ws = await connect(`ws://zo%C3%AB:p%C3%A4ssword@127.0.0.1:${port}/`);
    assert.equal(await ws.recv(), "zoë");
  });

  it("answers 401 with a challenge to missing, wrong or unsupported credentials", async () => {
    const { server, port, uri } = await startServer(whoami, {
      processRequest: basicAuth({ credentials: { alice: "secret" }, realm: 'my "realm"' }),
    });
    await using _server = server;
    const peer = await RawPeer.connect(port);
    const answer = await peer.handshake();
    assert.match(answer, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(answer, /\r\nWWW-Authenticate: Basic realm="my \\"realm\\"", charset="UTF-8"\r\n/);
    assert.equal(await statusOf(`ws://alice:wrong@127.0.0.1:${port}/`), 401);
    assert.equal(await statusOf(`ws://mallory:secret@127.0.0.1:${port}/`), 401);
    assert.equal(await statusOf(uri, { Authorization: "Bearer token" }), 401);
    assert.equal(await statusOf(uri, { Authorization: "Basic !!!" }), 401);
    assert.equal(await statusOf(`ws://alice:secret@127.0.0.1:${port}/`), undefined);
  });

  it("asks a check function, sync or async", async () => {
    const asked: [string, string][] = [];
    const { server, port } = await startServer(whoami, {
      processRequest: basicAuth({
        check: async (username, password) => {
          asked.push([username, password]);
          return password === `${username}!`;
        },
      }),
    });
    await using _server = server;
    await using ws = await connect(`ws://carol:carol!@127.0.0.1:${port}/`);
    assert.equal(await ws.recv(), "carol");
    assert.equal(await statusOf(`ws://carol:nope@127.0.0.1:${port}/`), 401);
    assert.deepEqual(asked, [
      ["carol", "carol!"],
      ["carol", "nope"],
    ]);
    const sync = await startServer(whoami, {
      processRequest: basicAuth({ check: (username) => username === "dave" }),
    });
    await using _sync = sync.server;
    await using dave = await connect(`ws://dave:x@127.0.0.1:${sync.port}/`);
    assert.equal(await dave.recv(), "dave");
  });

  it("needs exactly one of credentials and check", () => {
    assert.throws(() => basicAuth({}), TypeError);
    assert.throws(() => basicAuth({ credentials: {}, check: () => true }), TypeError);
  });

  it("refuses a realm that a challenge can't carry when made, not at every request", () => {
    const credentials = { alice: "secret" };
    assert.throws(
      () => basicAuth({ credentials, realm: "a\r\nX-Injected: 1" }),
      InvalidHeaderFormat,
    );
    assert.throws(() => basicAuth({ credentials, realm: "chat ☃" }), InvalidHeaderFormat);
    assert.throws(
      () => basicAuth({ credentials, realm: 5 as unknown as string }),
      /realm must be a string; got 5/,
    );
    assert.equal(typeof basicAuth({ credentials, realm: 'café "lounge"' }), "function");
  });
});
