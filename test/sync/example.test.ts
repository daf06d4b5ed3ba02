/**
 * examples/echo/sync-client.ts, run as a user would: a line on its standard
 * input, the seed's transcript on its standard output. It imports the
 * published entry point `websockets-ts/sync`, so it runs from `dist/`
 * (`npm test` builds it first).
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runNode } from "../helpers/child.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const EXAMPLE = fileURLToPath(new URL("../../examples/echo/sync-client.js", import.meta.url));

describe("examples/echo/sync-client", () => {
  it("sends a line read from stdin and prints the echo", async () => {
    await using peer = await Peer.start("ours");
    const { code, stdout, stderr } = await runNode([EXAMPLE, peer.uri("/example")], {
      input: "Hello sync! ☕\n",
    });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        `Attempting to connect to ${peer.uri("/example")}...`,
        "Connection successful!",
        "Enter a message to send: >>> Sending: Hello sync! ☕",
        "<<< Waiting for echo...",
        "<<< Received: Hello sync! ☕",
        "Connection closed.",
        "",
      ].join("\n"),
    );
    assert.equal((await peer.next("closed", "/example")).code, 1000);
  });
});
