import assert from "node:assert/strict";
import type * as net from "node:net";
import { after, describe, it } from "node:test";
import { InvalidStatus, ProxyError, SecurityError, TimeoutError } from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { Response } from "../../src/core/http11.js";
import type { ClientConnection } from "../../src/node/client.js";
import {
  backoffDelay,
  isTransientError,
  RECONNECT_DEFAULTS,
  reconnect,
} from "../../src/node/reconnect.js";
import { type Handler, type Server, serve } from "../../src/node/server.js";
import { deferred, echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Fast retries, so tests don't wait for the production delays. */
const FAST = { initialDelay: 5, maxDelay: 20, logger: null } as const;

describe("reconnect()", () => {
  it("reconnects after the server restarts on the same port", async () => {
    const greet =
      (generation: number): Handler =>
      async (ws) => {
        await ws.send(`generation ${generation}`);
        await ws.closed;
      };
    let server: Server = await serve(greet(1), { host: "127.0.0.1", port: 0, logger: null });
    const port = (server.address() as net.AddressInfo).port;
    const failures: number[] = [];
    let restarted: Promise<Server> | null = null;
    const greetings: string[] = [];
    try {
      for await (const ws of reconnect(`ws://127.0.0.1:${port}/`, {
        ...FAST,
        shouldRetry: (error, attempt) => {
          failures.push(attempt);
          // Come back only after the client has failed twice.
          if (attempt === 2) {
            restarted = serve(greet(2), { host: "127.0.0.1", port, logger: null });
          }
          return isTransientError(error);
        },
      })) {
        greetings.push(await ws.recvText());
        if (greetings.length === 2) break;
        await server.close();
        await ws.closed;
        assert.equal(ws.closeCode, 1001);
      }
    } finally {
      await server.close();
      if (restarted !== null) server = await restarted;
      await server.close();
    }
    assert.deepEqual(greetings, ["generation 1", "generation 2"]);
    assert.deepEqual(failures.slice(0, 2), [1, 2]);
  });

  it("retries 503 and stops on an error that won't go away", async () => {
    let requests = 0;
    const { server, uri } = await startServer(echo, {
      processRequest: () => {
        requests++;
        if (requests <= 2) return { status: 503 };
        if (requests === 4) return { status: 403 };
        return undefined;
      },
    });
    await using _server = server;
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const ws of reconnect(uri, {
        ...FAST,
        shouldRetry: (e, attempt) => {
          seen.push([e instanceof InvalidStatus ? e.response.status : e, attempt]);
          return isTransientError(e);
        },
      })) {
        await ws.send("ping");
        assert.equal(await ws.recv(), "ping");
      }
    })().catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 403);
    // The third request got in; the fourth, after the loop body, was refused.
    assert.deepEqual(seen, [
      [503, 1],
      [503, 2],
      [403, 1],
    ]);
  });

  it("closes the connection when the loop is left", async () => {
    const closed = deferred<number | null>();
    const { server, uri } = await startServer(async (ws) => {
      await ws.closed;
      closed.resolve(ws.closeCode);
    });
    await using _server = server;
    let connection: ClientConnection | null = null;
    for await (const ws of reconnect(uri, FAST)) {
      connection = ws;
      break;
    }
    assert.equal(await closed.promise, 1000);
    assert.equal(connection?.closeCode, 1000);
  });

  it("stops waiting when the signal is aborted", async () => {
    const { server, uri } = await startServer(echo);
    await server.close();
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ws of reconnect(uri, {
        initialDelay: 60_000,
        logger: null,
        signal: controller.signal,
        shouldRetry: () => {
          // Abort while the loop waits to retry.
          setImmediate(() => controller.abort(new Error("stop")));
          return true;
        },
      })) {
        assert.fail("there is no server");
      }
    })().catch((e: unknown) => e);
    assert.equal((error as Error).message, "stop");
  });
});

describe("backoffDelay()", () => {
  it("grows exponentially up to the maximum, with jitter between half and all", () => {
    const options = { initialDelay: 100, maxDelay: 1000, backoffFactor: 3 };
    assert.equal(
      backoffDelay(1, options, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(1, options, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(2, options, () => 1),
      300,
    );
    assert.equal(
      backoffDelay(3, options, () => 1),
      900,
    );
    assert.equal(
      backoffDelay(4, options, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(50, options, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(1, {}, () => 1),
      RECONNECT_DEFAULTS.initialDelay,
    );
    assert.equal(
      backoffDelay(100, {}, () => 1),
      RECONNECT_DEFAULTS.maxDelay,
    );
    for (let attempt = 1; attempt < 10; attempt++) {
      const delay = backoffDelay(attempt, options);
      assert.ok(delay >= 50 && delay <= 1000);
    }
  });
});

describe("isTransientError()", () => {
  it("retries network errors, timeouts and unavailable servers only", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), {
      code: "ECONNREFUSED",
      syscall: "connect",
    });
    const status = (code: number) => new InvalidStatus(new Response(code, "", new Headers()));
    assert.equal(isTransientError(refused), true);
    assert.equal(isTransientError(new TimeoutError("timed out")), true);
    for (const code of [500, 502, 503, 504]) assert.equal(isTransientError(status(code)), true);
    for (const code of [400, 401, 403, 404, 501])
      assert.equal(isTransientError(status(code)), false);
    assert.equal(isTransientError(new SecurityError("untrusted")), false);
    // A reset Node reports without a system call, as during a TLS handshake.
    const reset = Object.assign(new Error("Client network socket disconnected"), {
      code: "ECONNRESET",
    });
    assert.equal(isTransientError(reset), true);
    assert.equal(isTransientError(new ProxyError("proxy refused", 502)), true);
    assert.equal(isTransientError(new ProxyError("proxy refused", 407)), false);
    assert.equal(isTransientError(new ProxyError("server down", null, { transient: true })), true);
    assert.equal(isTransientError(new ProxyError("not allowed by ruleset")), false);
    assert.equal(isTransientError(new TypeError("bug")), false);
    assert.equal(isTransientError("not an error"), false);
  });
});
