/**
 * How the WHATWG WebSocket class reports failures: refused connections,
 * refused or broken handshakes, protocol errors, dropped connections,
 * close() while connecting. Each fires `error` then `close` (1006, not
 * clean), never an exception or an unhandled rejection.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { openAsBlob } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConnectionClosedError, ProtocolError, TimeoutError } from "../../src/core/errors.js";
import { Opcode } from "../../src/core/opcodes.js";
import { ErrorEvent, WebSocket } from "../../src/web/index.js";
import { acceptRaw, closePayload, type RawPeer, rawServer } from "../helpers/raw.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";
import { type Tracked, track } from "./track.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits for `close` and checks that the connection failed: error then close, 1006. */
async function assertFailed(ws: WebSocket, tracked: Tracked, log: string[]): Promise<ErrorEvent> {
  const event = await tracked.closed;
  assert.deepEqual([event.wasClean, event.code, event.reason], [false, 1006, ""]);
  assert.deepEqual(tracked.log, log);
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.equal(tracked.errors.length, 1);
  const error = tracked.errors[0]!;
  assert.ok(error instanceof ErrorEvent);
  assert.equal(error.type, "error");
  return error;
}

describe("WebSocket: failing to connect", () => {
  it("reports a refused connection with error then close", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${await closedPort()}`);
    const tracked = track(ws);
    let stateInError = -1;
    ws.onerror = () => {
      stateInError = ws.readyState;
    };
    const error = await assertFailed(ws, tracked, ["error", "close"]);
    assert.equal((error.error as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.match(error.message, /ECONNREFUSED/);
    // WHATWG: readyState is CLOSED before error fires.
    assert.equal(stateInError, WebSocket.CLOSED);
  });

  it("fails quietly without listeners", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${await closedPort()}`);
    await once(ws, "close");
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  it("reports a handshake the server refused", async () => {
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({ status: 404, body: "not here" }),
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    const error = await assertFailed(ws, tracked, ["error", "close"]);
    assert.match(error.message, /404/);
  });

  it("reports a server that selects a subprotocol that was not offered", async () => {
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        const head = await peer.readHead();
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? "";
        const { acceptKey } = await import("../../src/core/handshake.js");
        peer.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: other\r\n\r\n`,
        );
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, "mine");
      const tracked = track(ws);
      await assertFailed(ws, tracked, ["error", "close"]);
      assert.equal(ws.protocol, "");
    } finally {
      await raw.close();
    }
  });

  it("fails on a redirect, as browsers do, unless maxRedirects allows it", async () => {
    // WHATWG WebSockets: the handshake request's redirect mode is "error".
    const { server: target, uri: targetUri } = await startServer(echo);
    await using _target = target;
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({ status: 302, headers: { Location: targetUri } }),
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    const error = await assertFailed(ws, tracked, ["error", "close"]);
    assert.match(error.message, /302/);
    assert.equal(target.connections.size, 0);

    const followed = new WebSocket(uri, [], { maxRedirects: 1 });
    const trackedFollowed = track(followed);
    await trackedFollowed.opened;
    followed.close();
    await trackedFollowed.closed;
  });

  it("fails on a redirect when maxRedirects is given as undefined: the default here is 0", async () => {
    // connect()'s default follows redirects: undefined must not stand for that one.
    const { server: target, uri: targetUri } = await startServer(echo);
    await using _target = target;
    const { server, uri } = await startServer(echo, {
      processRequest: () => ({ status: 302, headers: { Location: targetUri } }),
    });
    await using _server = server;
    const ws = new WebSocket(uri, [], { maxRedirects: undefined });
    const tracked = track(ws);
    const error = await assertFailed(ws, tracked, ["error", "close"]);
    assert.match(error.message, /302/);
    assert.equal(target.connections.size, 0);
  });

  it("reports openTimeout, given as an option", async () => {
    const raw = await rawServer((peer: RawPeer) => {
      void peer.readHead();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { openTimeout: 50 });
      const tracked = track(ws);
      const error = await assertFailed(ws, tracked, ["error", "close"]);
      assert.ok(error.error instanceof TimeoutError);
    } finally {
      await raw.close();
    }
  });
});

describe("WebSocket: close() while connecting", () => {
  it("gives up at once, before any I/O", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${await closedPort()}`);
    const tracked = track(ws);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    ws.close(4000);
    const error = await assertFailed(ws, tracked, ["error", "close"]);
    assert.ok(error.error instanceof DOMException);
    assert.equal(error.error.name, "AbortError");
  });

  it("aborts a handshake in progress", async () => {
    const requested = deferred();
    const release = deferred();
    const { server, uri } = await startServer(echo, {
      processRequest: async () => {
        requested.resolve();
        await release.promise;
        return null;
      },
    });
    await using _server = server;
    try {
      const ws = new WebSocket(uri);
      const tracked = track(ws);
      await requested.promise;
      assert.equal(ws.readyState, WebSocket.CONNECTING);
      ws.close(1000, "never mind");
      assert.equal(ws.readyState, WebSocket.CLOSING);
      await assertFailed(ws, tracked, ["error", "close"]);
    } finally {
      release.resolve();
    }
  });
});

describe("WebSocket: failures after opening", () => {
  it("reports a dropped TCP connection", async () => {
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        peer.writeFrame(Opcode.TEXT, "last words");
        peer.socket.destroy();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      const error = await assertFailed(ws, tracked, ["open", "message", "error", "close"]);
      assert.equal((await tracked.nextMessage()).data, "last words");
      assert.ok(error.error instanceof ConnectionClosedError);
    } finally {
      await raw.close();
    }
  });

  it("fails on a protocol error: sends 1002, reports 1006", async () => {
    const sent = deferred<[number, string] | null>();
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        peer.writeFrame(Opcode.TEXT, "before");
        // 0x3 is a reserved opcode (RFC 6455 §5.2).
        peer.writeFrame(0x3 as Opcode, "reserved opcode");
        sent.resolve(closePayload(await peer.readUntilClose()));
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { compression: null });
      const tracked = track(ws);
      const error = await assertFailed(ws, tracked, ["open", "message", "error", "close"]);
      assert.equal((await sent.promise)?.[0], 1002);
      assert.ok(error.error instanceof ConnectionClosedError);
      assert.ok(error.error.cause instanceof ProtocolError, String(error.error.cause));
    } finally {
      await raw.close();
    }
  });

  it("fails on a message over maxMessageSize, given as an option: sends 1009", async () => {
    const closedWith = deferred<number | null>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("x".repeat(100));
      await ws.closed;
      closedWith.resolve(ws.closeCode);
    });
    await using _server = server;
    const ws = new WebSocket(uri, [], { maxMessageSize: 10 });
    const tracked = track(ws);
    await assertFailed(ws, tracked, ["open", "error", "close"]);
    assert.equal(await closedWith.promise, 1009);
  });

  it("reports an unanswered keepalive ping as a failure: sends 1011", async () => {
    const sent = deferred<[number, string] | null>();
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        // Never answers pings; echoes the close frame, then closes.
        const close = await peer.readUntilClose();
        sent.resolve(closePayload(close));
        if (close !== null) peer.writeFrame(close.opcode, close.data);
        peer.socket.end();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], {
        pingInterval: 20,
        pingTimeout: 20,
        logger: null,
      });
      const tracked = track(ws);
      await assertFailed(ws, tracked, ["open", "error", "close"]);
      assert.equal((await sent.promise)?.[0], 1011);
    } finally {
      await raw.close();
    }
  });

  it("fails the connection with 1011 when a Blob cannot be read", async (t) => {
    const directory = await mkdtemp(join(tmpdir(), "websockets-ts-web-"));
    t.after(() => rm(directory, { recursive: true, force: true }));
    const path = join(directory, "data.txt");
    await writeFile(path, "original");
    const blob = await openAsBlob(path);
    // A file-backed Blob cannot be read once its file changed.
    await writeFile(path, "changed since");
    const closedWith = deferred<number | null>();
    const received: unknown[] = [];
    const { server, uri } = await startServer(async (ws) => {
      try {
        for await (const message of ws) received.push(message);
      } catch {
        // Closed with 1011.
      }
      closedWith.resolve(ws.closeCode);
    });
    await using _server = server;
    const ws = new WebSocket(uri);
    const tracked = track(ws);
    await tracked.opened;
    ws.send("before");
    ws.send(blob);
    ws.send("after");
    const error = await assertFailed(ws, tracked, ["open", "error", "close"]);
    assert.ok(error.error instanceof DOMException);
    assert.equal(error.error.name, "NotReadableError");
    assert.equal(await closedWith.promise, 1011);
    assert.deepEqual(received, ["before"]);
  });

  it("reports a close that times out as a failure", async () => {
    const raw = await rawServer((peer: RawPeer) => {
      void (async () => {
        await acceptRaw(peer);
        // Reads the close frame and never answers it.
        await peer.readUntilClose();
      })();
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${raw.port}`, [], { closeTimeout: 50 });
      const tracked = track(ws);
      await tracked.opened;
      ws.close(1000);
      await assertFailed(ws, tracked, ["open", "error", "close"]);
    } finally {
      await raw.close();
    }
  });
});
