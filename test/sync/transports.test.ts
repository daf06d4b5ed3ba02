/** The blocking client over TLS and Unix sockets: the async client's options, passed through. */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, describe, it } from "node:test";
import { connect as connectAsync } from "../../src/node/client.js";
import { connect } from "../../src/sync/index.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const CA = new URL("../../../test/fixtures/tls/ca.pem", import.meta.url);

describe("sync connect() transports", () => {
  it("connects to wss:// with the options of tls.connect()", async () => {
    await using peer = await Peer.start("tls");
    const ca = await readFile(CA);
    using client = connect(`wss://localhost:${peer.address}/`, { tls: { ca } });
    client.send("over TLS");
    assert.equal(client.recv(), "over TLS");
  });

  it("throws the async client's error when the certificate is not trusted", async () => {
    await using peer = await Peer.start("tls");
    const uri = `wss://localhost:${peer.address}/`;
    const expected = await connectAsync(uri, { logger: null }).then(
      () => assert.fail("the certificate should not be trusted"),
      (error: unknown) => error as Error & { code?: string },
    );
    let error: (Error & { code?: string }) | undefined;
    try {
      connect(uri, { logger: null });
    } catch (caught) {
      error = caught as Error & { code?: string };
    }
    assert.ok(error instanceof expected.constructor);
    assert.equal(error.constructor, expected.constructor);
    assert.equal(error.message, expected.message);
    assert.equal(error.code, expected.code);
    assert.equal(
      (error.cause as { code?: string } | undefined)?.code,
      (expected.cause as { code?: string } | undefined)?.code,
    );
  });

  it("connects through a Unix socket", async () => {
    await using peer = await Peer.start("unix");
    using client = connect("ws://localhost/unix", { path: String(peer.address) });
    client.send("over a Unix socket");
    assert.equal(client.recv(), "over a Unix socket");
    assert.equal(client.request.headers.get("Host"), "localhost");
  });
});
