/**
 * The blocking client when things go wrong: the same error classes as the
 * async client, rebuilt on the caller's thread.
 */

import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConnectionClosedError, InvalidUri, TimeoutError } from "../../src/core/errors.js";
import { connect as connectAsync } from "../../src/node/client.js";
import type { Logger } from "../../src/node/logger.js";
import { connect } from "../../src/sync/index.js";
import { unhandledRejections } from "../helpers/server.js";
import { Peer } from "./peer.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

/** A logger that records what it is given. */
function recordingLogger(): Logger & { records: [string, string, unknown[]][] } {
  const records: [string, string, unknown[]][] = [];
  const record =
    (level: string) =>
    (message: string, ...details: unknown[]) =>
      records.push([level, message, details]);
  return {
    records,
    error: record("error"),
    warn: record("warn"),
    info: record("info"),
    debug: record("debug"),
  };
}

describe("sync connect() failures", () => {
  it("throws InvalidUri before starting a thread", () => {
    assert.throws(() => connect("http://127.0.0.1/"), InvalidUri);
    assert.throws(() => connect("ws://127.0.0.1/#fragment"), InvalidUri);
    assert.throws(() => connect("not a uri"), InvalidUri);
  });

  it("refuses arguments of the wrong type as the async client does, before starting a thread", () => {
    const refused: [() => unknown, string][] = [
      [
        () => connect(undefined as never),
        "connect() takes a URI, a string or a URL; got undefined",
      ],
      [
        () => connect("ws://127.0.0.1:1/", { additionalHeaders: "X-A: b" as never }),
        'additionalHeaders: headers must be [name, value] pairs, a Headers, or an object of names to values; got "X-A: b"',
      ],
      [
        () => connect("ws://127.0.0.1:1/", { logger: {} as never }),
        "logger must have error, warn, info and debug methods; error, warn, info, debug are missing",
      ],
      [
        () => connect("ws://127.0.0.1:1/", { maxQueue: "16" as never }),
        'maxQueue must be a whole number of messages from 1, or Infinity for no limit; got "16"',
      ],
    ];
    for (const [attempt, message] of refused) {
      assert.throws(attempt, { name: "TypeError", message });
    }
  });

  it("refuses an unknown option before starting a thread", () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    assert.throws(() => connect("ws://127.0.0.1:1/", { pingIntervall: 5 }), {
      name: "TypeError",
      message: 'unknown option "pingIntervall" for connect(); did you mean "pingInterval"?',
    });
  });

  it("refuses options that cannot cross threads", () => {
    const signal = AbortSignal.abort();
    assert.throws(() => connect("ws://127.0.0.1:1/", { signal } as never), {
      name: "TypeError",
      message: /signal option/,
    });
    assert.throws(() => connect("ws://127.0.0.1:1/", { extensions: [] } as never), TypeError);
    assert.throws(() => connect("ws://127.0.0.1:1/", { socket: new net.Socket() } as never), {
      name: "TypeError",
      message: /socket option: a socket belongs to the event loop/,
    });
    assert.throws(() => connect("ws://127.0.0.1:1/", { tcp: { lookup: () => undefined } }), {
      name: "TypeError",
      message: /cannot be sent to the worker thread/,
    });
    assert.throws(
      () => connect("ws://127.0.0.1:1/", { tls: { checkServerIdentity: () => undefined } }),
      { name: "TypeError", message: /cannot be sent to the worker thread/ },
    );
  });

  it("throws the socket's error when the connection is refused", async () => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const uri = `ws://127.0.0.1:${port}/`;
    const error = thrown(() => connect(uri)) as NodeJS.ErrnoException;
    assert.ok(error instanceof Error);
    assert.equal(error.code, "ECONNREFUSED");
    assert.equal(error.syscall, "connect");
    assert.match(error.message, /ECONNREFUSED/);
    // The very error the async client rejects with.
    const expected = (await connectAsync(uri).catch((caught: unknown) => caught)) as Error;
    assert.equal(error.constructor, expected.constructor);
    assert.equal(error.message, expected.message);
  });

  it("throws TimeoutError when the server does not answer the handshake", async () => {
    await using peer = await Peer.start("silent");
    const error = thrown(() => connect(peer.uri(), { openTimeout: 100 }));
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.code, "ERR_TIMEOUT");
    assert.equal(error.message, "timed out during the opening handshake");
  });

  it("reports a server vanishing in the middle of a message as 1006", async () => {
    await using peer = await Peer.start("vanish");
    using client = connect(peer.uri());
    assert.equal(client.recv(), "first");
    const error = thrown(() => client.recv({ timeout: 10_000 }));
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.rcvd, null);
    assert.equal(error.closeCode, 1006);
    assert.equal(client.closeCode, 1006);
    assert.throws(() => client.send("anyone?"), ConnectionClosedError);
  });

  it("fails on keepalive timeout and forwards the worker's logs", async () => {
    await using peer = await Peer.start("mute");
    const logger = recordingLogger();
    using client = connect(peer.uri(), {
      pingInterval: 20,
      pingTimeout: 20,
      closeTimeout: 100,
      logger,
    });
    const error = thrown(() => client.recv({ timeout: 10_000 }));
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.sent?.code, 1011);
    assert.ok(
      logger.records.some(
        ([level, message]) => level === "warn" && message.includes("keepalive ping timeout"),
      ),
      JSON.stringify(logger.records),
    );
  });

  it("survives a logger that throws", async () => {
    await using peer = await Peer.start("mute");
    const failing = () => {
      throw new Error("broken logger");
    };
    using client = connect(peer.uri(), {
      pingInterval: 20,
      pingTimeout: 20,
      closeTimeout: 100,
      logger: { error: failing, warn: failing, info: failing, debug: failing },
    });
    assert.throws(() => client.recv({ timeout: 10_000 }), ConnectionClosedError);
  });

  it("times out in ping() when no pong comes", async () => {
    await using peer = await Peer.start("mute");
    using client = connect(peer.uri(), { closeTimeout: 100, logger: null });
    assert.throws(() => client.ping(undefined, { timeout: 50 }), TimeoutError);
    assert.throws(() => client.ping(undefined, { timeout: 0 }), TimeoutError);
  });

  it("blocks send() while the peer does not read, up to its timeout", async () => {
    await using peer = await Peer.start("mute");
    using client = connect(peer.uri(), {
      writeHighWaterMark: 1024,
      closeTimeout: 100,
      pingInterval: null,
      logger: null,
    });
    const chunk = new Uint8Array(1024 * 1024);
    let error: unknown = null;
    // Loopback buffers take a few MiB before writes stop draining.
    for (let sent = 0; error === null && sent < 256; sent++) {
      try {
        client.send(chunk, { timeout: 100 });
      } catch (caught) {
        error = caught;
      }
    }
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.message, "timed out waiting for sent messages to be written");
  });
});

describe("a worker script that cannot load", () => {
  it("fails connect() instead of blocking forever", async () => {
    // A copy of the module without worker.js next to it, as a bundler might leave it.
    const root = await mkdtemp(join(tmpdir(), "sync-broken-"));
    try {
      const built = fileURLToPath(new URL("../../src/", import.meta.url));
      await mkdir(join(root, "sync"));
      for (const file of await readdir(join(built, "sync"))) {
        if (file.endsWith(".js") && file !== "worker.js") {
          await copyFile(join(built, "sync", file), join(root, "sync", file));
        }
      }
      for (const sibling of ["core", "node"]) {
        await symlink(join(built, sibling), join(root, sibling));
      }
      const broken = (await import(
        pathToFileURL(join(root, "sync", "index.js")).href
      )) as typeof import("../../src/sync/index.js");
      const error = thrown(() => broken.connect("ws://127.0.0.1:1/"));
      assert.ok(error instanceof Error);
      assert.match(error.message, /^cannot load the worker script: /);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
