/**
 * examples/echo/sync-client.ts, run as a user would: a line on its standard
 * input, the seed's transcript on its standard output. It imports the
 * published entry point `websockets-ts/sync`, so it runs from `dist/`
 * (`npm test` builds it first).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const EXAMPLE = fileURLToPath(new URL("../../examples/echo/sync-client.js", import.meta.url));

describe("examples/echo/sync-client", () => {
  it("sends a line read from stdin and prints the echo", async () => {
    await using peer = await Peer.start("ours");
    const child = spawn(process.execPath, [EXAMPLE, peer.uri("/example")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const watchdog = setTimeout(() => child.kill(), 30_000);
    child.stdin.end("Hello sync! ☕\n");
    const [code] = await once(child, "exit");
    clearTimeout(watchdog);
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
