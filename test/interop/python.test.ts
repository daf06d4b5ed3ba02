/**
 * Interop with Python's `websockets`, the library whose design we follow: our
 * client against its server, its client against our server. Needs Debian's
 * `python3-websockets` (installed by .ci/run); skipped with a note without it.
 */

import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ConnectionClosedError } from "../../src/core/errors.js";
import { connect } from "../../src/node/client.js";
import { PYTHON, pythonWebsocketsVersion, skipWithoutPythonWebsockets } from "../helpers/python.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const SCRIPTS = fileURLToPath(new URL("../../../test/interop/python/", import.meta.url));

const version = pythonWebsocketsVersion();
const skip = skipWithoutPythonWebsockets(version);

type Python = ChildProcessByStdio<Writable, Readable, Readable>;

function runPython(script: string, args: string[] = []): Python {
  return spawn(PYTHON, [`${SCRIPTS}${script}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
}

async function readAll(stream: Readable): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return text;
}

async function pythonEchoServer(): Promise<{
  uri: string;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const child = runPython("echo_server.py");
  const stderr = readAll(child.stderr);
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk;
      if (buffered.includes("\n")) resolve(buffered.split("\n")[0]!);
    });
    child.once("exit", async (code) => reject(new Error(`python exited ${code}: ${await stderr}`)));
  });
  return {
    uri: `ws://127.0.0.1:${Number(firstLine)}`,
    async [Symbol.asyncDispose]() {
      const exited = once(child, "exit");
      child.stdin.end();
      await exited;
    },
  };
}

describe(`our client against a Python websockets ${version ?? ""} server`, { skip }, () => {
  it("exchanges text, binary, 2 MiB and fragmented messages, and pings", async () => {
    await using peer = await pythonEchoServer();
    await using ws = await connect(peer.uri, { maxMessageSize: 4 * 1024 * 1024 });
    await ws.send("Hello, Python!");
    assert.equal(await ws.recv(), "Hello, Python!");
    await ws.send(new Uint8Array([0, 1, 255]));
    assert.deepEqual([...((await ws.recv()) as Uint8Array)], [0, 1, 255]);
    const big = new Uint8Array(2 * 1024 * 1024).map((_, index) => index % 251);
    await ws.send(big);
    assert.deepEqual(await ws.recvBinary(), Buffer.from(big));
    await ws.send(["frag", "mented"]);
    assert.equal(await ws.recv(), "fragmented");
    assert.ok((await ws.ping("probe")) >= 0);
  });

  it("reports the negotiated extensions both sides agree on", async () => {
    await using peer = await pythonEchoServer();
    await using ws = await connect(peer.uri);
    await ws.send("extensions?");
    const serverSide = await ws.recvText();
    const clientSide = ws.response?.headers.get("Sec-WebSocket-Extensions") ?? "";
    assert.equal(clientSide, serverSide);
  });

  it("reports the close code and reason Python sends, and Python reports ours", async () => {
    await using peer = await pythonEchoServer();
    const ws = await connect(peer.uri);
    await ws.send("close-4001");
    await assert.rejects(ws.recv(), ConnectionClosedError);
    assert.equal(ws.closeCode, 4001);
    assert.equal(ws.closeReason, "from python");
  });
});

describe(`a Python websockets ${version ?? ""} client against our server`, { skip }, () => {
  it("exchanges messages and closes with the code it chose", async () => {
    const closedOnServer = deferred<[number | null, string | null]>();
    const { server, uri } = await startServer(
      async (ws) => {
        try {
          for await (const message of ws) await ws.send(message);
        } finally {
          await ws.closed;
          closedOnServer.resolve([ws.closeCode, ws.closeReason]);
        }
      },
      { maxMessageSize: 4 * 1024 * 1024 },
    );
    await using _server = server;
    const child = runPython("client.py", [uri]);
    const [stdout, stderr, [exitCode]] = await Promise.all([
      readAll(child.stdout),
      readAll(child.stderr),
      once(child, "exit"),
    ]);
    assert.equal(exitCode, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(report.text, "Hello from Python");
    assert.deepEqual(report.binary, [0, 1, 255]);
    assert.equal(report.big_ok, true);
    assert.equal(report.fragmented, "fragmented");
    assert.equal(report.ping_ok, true);
    assert.equal(report.close_code, 4000);
    assert.deepEqual(await closedOnServer.promise, [4000, "from python"]);
  });
});
