import assert from "node:assert/strict";
import { getEventListeners, once } from "node:events";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { after, describe, it, type TestContext } from "node:test";
import { inspect } from "node:util";
import {
  InvalidMessage,
  InvalidStatus,
  ProxyError,
  SecurityError,
  TimeoutError,
} from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { Response } from "../../src/core/response.js";
import { TLS_EXPECTED } from "../../src/core/tls-expected.js";
import type { ClientConnection } from "../../src/node/client.js";
import { silentLogger } from "../../src/node/logger.js";
import {
  type BackoffOptions,
  backoffDelay,
  isTransientError,
  RECONNECT_DEFAULTS,
  type ReconnectOptions,
  reconnect,
} from "../../src/node/reconnect.js";
import { type Handler, type Server, serve } from "../../src/node/server.js";
import { isSchemeMismatch } from "../../src/node/tls.js";
import { deferred, echo, startServer, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** Fast retries, so tests don't wait for the production delays. */
const FAST = { initialDelay: 5, maxDelay: 20, logger: null } as const;

/** The longest delay a Node timer waits, in ms: 2^31 − 1. */
const MAX_TIMER = 2_147_483_647;

/**
 * Backoff options that would defeat the backoff (Node's timers wait 1 ms for
 * NaN, a negative delay or one over {@link MAX_TIMER}), with the error that
 * names each; typed loosely, as JavaScript callers may pass anything.
 */
const BAD_BACKOFF: [BackoffOptions, { name: string; message: string }][] = [
  ...[-1000, -Number.MIN_VALUE, Number.NaN, MAX_TIMER + 1, Number.POSITIVE_INFINITY].map(
    (value): [BackoffOptions, { name: string; message: string }] => [
      { initialDelay: value, maxDelay: Number.POSITIVE_INFINITY },
      {
        name: "RangeError",
        message: `initialDelay must be from 0 to ${MAX_TIMER} ms; got ${value}`,
      },
    ],
  ),
  ...[999, 0, -1, Number.NaN, MAX_TIMER + 1, Number.NEGATIVE_INFINITY].map(
    (value): [BackoffOptions, { name: string; message: string }] => [
      { maxDelay: value },
      {
        name: "RangeError",
        // Measured against the default initialDelay, 1000.
        message: `maxDelay must be from initialDelay (1000) to ${MAX_TIMER} ms, or Infinity; got ${value}`,
      },
    ],
  ),
  [
    { initialDelay: 500, maxDelay: 499 },
    {
      name: "RangeError",
      message: `maxDelay must be from initialDelay (500) to ${MAX_TIMER} ms, or Infinity; got 499`,
    },
  ],
  ...[Number.NaN, 0.5, 0, -2, Number.POSITIVE_INFINITY].map(
    (value): [BackoffOptions, { name: string; message: string }] => [
      { backoffFactor: value },
      { name: "RangeError", message: `backoffFactor must be finite and at least 1; got ${value}` },
    ],
  ),
  [
    { initialDelay: "1000" as unknown as number },
    { name: "TypeError", message: 'initialDelay must be a number; got "1000"' },
  ],
  [
    { maxDelay: 60_000n as unknown as number },
    { name: "TypeError", message: "maxDelay must be a number; got a bigint" },
  ],
  [
    { backoffFactor: {} as unknown as number },
    { name: "TypeError", message: "backoffFactor must be a number; got an Object" },
  ],
];

/** The timers keeping the event loop alive: a loop that stopped must leave none of its own. */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
}

/**
 * Runs `loop`, which must throw once the signal is aborted, and returns what
 * it threw, failing if that takes more than 10 s: the delays the tests give
 * are a minute, so a loop that waits one out before noticing the abort fails
 * here instead of passing late. Checks that the loop left no timer, and no
 * listener on `signal`.
 */
async function thrownAfterAbort(signal: AbortSignal, loop: () => Promise<void>): Promise<unknown> {
  const timers = activeTimers();
  const error = await within(
    loop().then(
      () => assert.fail("the loop ended without throwing"),
      (e: unknown) => e,
    ),
    10_000,
    "the loop throwing after abort()",
  );
  assert.deepEqual(getEventListeners(signal, "abort"), []);
  assert.equal(activeTimers(), timers);
  return error;
}

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

  it("stops at once on a scheme that doesn't match the server", async () => {
    // A plain server for wss://, and one that answers ws:// with a TLS alert.
    let accepted = 0;
    const tlsLike = net.createServer((socket) => {
      accepted++;
      socket.on("error", () => {});
      // Reads the request away: a socket ends only once what it received was read.
      socket.resume();
      // RFC 8446 §5.1, §6: a fatal protocol_version alert record.
      socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]));
    });
    tlsLike.listen(0, "127.0.0.1");
    await once(tlsLike, "listening");
    const { server, port } = await startServer(echo, {
      processRequest: () => {
        accepted++;
        return undefined;
      },
    });
    await using _server = server;
    // A loop that retried would outlive a failed assertion: stopped in `finally`.
    const stop = new AbortController();
    try {
      const tlsPort = (tlsLike.address() as net.AddressInfo).port;
      for (const uri of [`ws://127.0.0.1:${tlsPort}/`, `wss://127.0.0.1:${port}/`]) {
        accepted = 0;
        const error = await within(
          (async () => {
            for await (const _ of reconnect(uri, {
              ...FAST,
              logger: silentLogger,
              signal: stop.signal,
            })) {
              assert.fail("no connection opens");
            }
          })().catch((e: unknown) => e),
          5_000,
          `reconnect(${uri})`,
        );
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.equal(isTransientError(error), false, error.message);
        // The wss:// attempt never reaches processRequest: the TLS handshake fails first.
        assert.ok(accepted <= 1, `${accepted} attempts for ${uri}`);
      }
    } finally {
      stop.abort();
      await new Promise((resolve) => tlsLike.close(resolve));
    }
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

  it("sends additionalHeaders given as an iterator on every attempt", async () => {
    const seen: (string | undefined)[] = [];
    const { server, uri } = await startServer(echo, {
      processRequest: (_ws, request) => {
        seen.push(request.headers.get("X-Token"));
        return undefined;
      },
    });
    await using _server = server;
    const headers = new Map([["X-Token", "abc"]]).entries();
    let attempts = 0;
    for await (const ws of reconnect(uri, { ...FAST, additionalHeaders: headers })) {
      await ws.close();
      if (++attempts === 2) break;
    }
    assert.deepEqual(seen, ["abc", "abc"]);
  });

  it("refuses options that would defeat the backoff, before connecting", async () => {
    let requests = 0;
    const { server, uri } = await startServer(echo, {
      processRequest: () => {
        requests++;
        return undefined;
      },
    });
    await using _server = server;
    const bad: [ReconnectOptions, { name: string; message: string }][] = [
      ...BAD_BACKOFF,
      [
        { shouldRetry: true as unknown as () => boolean },
        { name: "TypeError", message: "shouldRetry must be a function; got a boolean" },
      ],
    ];
    for (const [options, expected] of bad) {
      await assert.rejects(
        reconnect(uri, { ...options, logger: null }).next(),
        expected,
        inspect(options),
      );
    }
    // connect()'s own mistakes too, even with a shouldRetry that retries everything.
    const retryAll = { shouldRetry: () => true, logger: null };
    const mistakes: [string, ReconnectOptions, RegExp][] = [
      ["http://127.0.0.1/", {}, /^InvalidUri: /],
      [uri, { openTimeout: -1 }, /^RangeError: openTimeout must be/],
      [uri, { maxMessageSize: 0 }, /^RangeError: maxMessageSize must be/],
      [uri, { additionalHeaders: { Upgrade: "x" } }, /^TypeError: additionalHeaders can't set/],
    ];
    for (const [target, options, expected] of mistakes) {
      await assert.rejects(reconnect(target, { ...options, ...retryAll }).next(), (error) => {
        assert.match(`${(error as Error).name}: ${(error as Error).message}`, expected);
        return true;
      });
    }
    assert.equal(requests, 0);
  });

  it("doesn't wait to retry when the signal is aborted before the delay starts", async () => {
    const { server, uri } = await startServer(echo);
    await server.close();
    const controller = new AbortController();
    const error = await thrownAfterAbort(controller.signal, async () => {
      for await (const _ws of reconnect(uri, {
        initialDelay: 60_000,
        logger: null,
        signal: controller.signal,
        shouldRetry: () => {
          // Abort right before the loop waits: the signal doesn't fire again.
          controller.abort(new Error("stop"));
          return true;
        },
      })) {
        assert.fail("there is no server");
      }
    });
    assert.equal((error as Error).message, "stop");
  });
});

describe("reconnect() after a connection ends", () => {
  /**
   * The delays the loop announces, in order, for connections that each end as
   * `end` makes them, from a server whose handler is `handler`. Lifetimes are
   * 0 ms unless `end` advances the clock, and the random part of the delay is
   * at its largest: the delays are exact.
   */
  async function delaysAfter(
    t: TestContext,
    handler: Handler,
    end: (ws: ClientConnection, clock: { now: number }, iteration: number) => Promise<void>,
    connections = 4,
  ): Promise<number[]> {
    const clock = { now: 0 };
    t.mock.method(performance, "now", () => clock.now);
    t.mock.method(Math, "random", () => 1);
    const lines: string[] = [];
    const record = (message: string) => {
      lines.push(message);
    };
    const logger = { error: record, warn: record, info: record, debug: record };
    const { server, uri } = await startServer(handler);
    await using _server = server;
    let iteration = 0;
    for await (const ws of reconnect(uri, { initialDelay: 5, maxDelay: 40, logger })) {
      await end(ws, clock, iteration);
      if (++iteration === connections) break;
    }
    return lines.map((line) => {
      const delay = /reconnecting in (\d+) ms$/.exec(line)?.[1];
      assert.ok(delay !== undefined, line);
      return Number(delay);
    });
  }

  /** Waits for the connection to end, as an application reading until then does. */
  async function untilClosed(ws: ClientConnection): Promise<void> {
    await ws.closed;
  }

  it("waits a random, growing delay after abnormal closures (RFC 6455 §7.2.3)", async (t) => {
    // The server drops the TCP connection: 1006, no close frame.
    const dropping: Handler = async (ws) => {
      ws.terminate();
    };
    assert.deepEqual(await delaysAfter(t, dropping, untilClosed), [5, 10, 20]);
    for (const code of [1011, 1012, 1013, 1014]) {
      const closing: Handler = async (ws) => {
        await ws.close(code);
      };
      assert.deepEqual(
        await delaysAfter(t, closing, untilClosed, 6),
        [5, 10, 20, 40, 40],
        `${code}`,
      );
    }
  });

  it("waits after a server that accepts and closes at once, even normally", async (t) => {
    const closing: Handler = async () => {};
    assert.deepEqual(await delaysAfter(t, closing, untilClosed), [5, 10, 20]);
  });

  it("resets the delay once a connection lasted", async (t) => {
    const delays = await delaysAfter(
      t,
      async (ws) => {
        ws.terminate();
      },
      async (ws, clock, iteration) => {
        // The third connection lives 10 ms, as long as the delay before it.
        if (iteration === 2) clock.now += 10;
        await ws.closed;
      },
      5,
    );
    assert.deepEqual(delays, [5, 10, 5, 10]);
  });

  it("connects again at once after a normal closure of a connection that lasted", async (t) => {
    const closing: Handler = async (ws) => {
      await ws.recv().catch(() => {});
    };
    const delays = await delaysAfter(t, closing, async (ws, clock) => {
      clock.now += 5;
      await ws.send("bye");
      await ws.closed;
    });
    assert.deepEqual(delays, []);
  });

  it("connects again at once when the loop body ends the connection itself", async (t) => {
    const delays = await delaysAfter(t, echo, async (ws) => {
      await ws.send("one message");
      assert.equal(await ws.recv(), "one message");
    });
    assert.deepEqual(delays, []);
  });

  it("connects again at once when the loop body closes the connection itself", async (t) => {
    const delays = await delaysAfter(t, echo, async (ws) => {
      await ws.send("one message");
      assert.equal(await ws.recv(), "one message");
      await ws.close();
    });
    assert.deepEqual(delays, []);
  });

  it("retries when every address of a host with several refused", async () => {
    // A port nobody listens on: bound, then closed.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const attempts: unknown[] = [];
    const error = await (async () => {
      for await (const _ of reconnect(`ws://refused.test:${port}/`, {
        initialDelay: 1,
        logger: null,
        // Two addresses, as `localhost` has on a dual-stack machine: Node
        // tries both and reports an AggregateError.
        tcp: { lookup: twoLoopbackAddresses },
        shouldRetry: (error, attempt) => {
          attempts.push(error);
          return attempt < 3 && isTransientError(error);
        },
      })) {
        assert.fail("connected to a closed port");
      }
    })().catch((e: unknown) => e);
    assert.equal(attempts.length, 3);
    assert.ok(error instanceof AggregateError, String(error));
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.equal(isTransientError(error), true);
  });

  it("stops waiting after a closure when the signal is aborted", async () => {
    const controller = new AbortController();
    const { server, uri } = await startServer(async (ws) => {
      ws.terminate();
    });
    await using _server = server;
    const error = await (async () => {
      for await (const ws of reconnect(uri, {
        initialDelay: 60_000,
        signal: controller.signal,
        logger: {
          ...silentLogger,
          // Called as the loop starts waiting: abort then.
          info: () => setImmediate(() => controller.abort(new Error("stop"))),
        },
      })) {
        await ws.closed;
      }
    })().catch((e: unknown) => e);
    assert.equal((error as Error).message, "stop");
  });

  it("doesn't wait after a closure when the signal is aborted before the delay starts", async (t) => {
    // The largest delay, a minute, for a loop that would wait it out.
    t.mock.method(Math, "random", () => 1);
    const controller = new AbortController();
    const { server, uri } = await startServer(async (ws) => {
      ws.terminate();
    });
    await using _server = server;
    const error = await thrownAfterAbort(controller.signal, async () => {
      for await (const ws of reconnect(uri, {
        initialDelay: 60_000,
        signal: controller.signal,
        logger: {
          ...silentLogger,
          // Called right before the loop waits: the signal doesn't fire again.
          info: () => controller.abort(new Error("stop")),
        },
      })) {
        await ws.closed;
      }
    });
    assert.equal((error as Error).message, "stop");
  });

  it("stops at once when the signal was aborted while the loop body used the connection", async (t) => {
    t.mock.method(Math, "random", () => 1);
    const controller = new AbortController();
    const { server, uri } = await startServer(async (ws) => {
      ws.terminate();
    });
    await using _server = server;
    const announced: string[] = [];
    const error = await thrownAfterAbort(controller.signal, async () => {
      for await (const ws of reconnect(uri, {
        initialDelay: 60_000,
        signal: controller.signal,
        logger: { ...silentLogger, info: (message) => announced.push(message) },
      })) {
        controller.abort(new Error("stop"));
        // The server drops the connection: 1006, a setback, after which the
        // loop would wait.
        await ws.closed;
      }
    });
    assert.equal((error as Error).message, "stop");
    // Nor does it announce a reconnection that won't happen.
    assert.deepEqual(announced, []);
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

describe("backoffDelay() arguments", () => {
  it("refuses options that would defeat the backoff, naming the option and the value", () => {
    for (const [options, expected] of BAD_BACKOFF) {
      assert.throws(() => backoffDelay(1, options), expected, inspect(options));
    }
  });

  it("refuses an attempt that is not an integer from 1", () => {
    for (const attempt of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => backoffDelay(attempt), {
        name: "RangeError",
        message: `attempt must be an integer from 1; got ${attempt}`,
      });
    }
  });

  it("accepts the edges of each range", () => {
    const top = () => 1;
    // No delay at all, even once backoffFactor^(attempt − 1) overflows.
    assert.equal(backoffDelay(1, { initialDelay: 0 }, top), 0);
    assert.equal(backoffDelay(2000, { initialDelay: 0, maxDelay: 0 }, top), 0);
    // A constant delay, by backoffFactor or by maxDelay.
    assert.equal(backoffDelay(10, { initialDelay: 300, backoffFactor: 1 }, top), 300);
    assert.equal(backoffDelay(10, { initialDelay: 300, maxDelay: 300 }, top), 300);
    // Without a maxDelay, one larger initialDelay raises the default ceiling to itself.
    assert.equal(backoffDelay(1, { initialDelay: 120_000 }, top), 120_000);
    assert.equal(backoffDelay(5, { initialDelay: 120_000 }, top), 120_000);
    assert.equal(backoffDelay(5, { initialDelay: 20_000 }, top), RECONNECT_DEFAULTS.maxDelay);
    assert.equal(backoffDelay(2, { backoffFactor: 1.5 }, top), 1500);
    assert.equal(backoffDelay(1, { initialDelay: MAX_TIMER, maxDelay: MAX_TIMER }, top), MAX_TIMER);
  });

  it("never exceeds the longest delay a timer waits, even with an infinite maxDelay", () => {
    const unbounded = { maxDelay: Number.POSITIVE_INFINITY };
    // 1000 × 2^22 ms would be 4194304000 ms: setTimeout() would fire after 1 ms.
    assert.equal(
      backoffDelay(23, unbounded, () => 1),
      MAX_TIMER,
    );
    assert.equal(
      backoffDelay(23, unbounded, () => 0),
      MAX_TIMER / 2,
    );
    // 2^1999 overflows to Infinity.
    assert.equal(
      backoffDelay(2000, unbounded, () => 1),
      MAX_TIMER,
    );
    assert.equal(
      backoffDelay(22, unbounded, () => 1),
      1000 * 2 ** 21,
    );
  });
});

/** A DNS lookup that finds two loopback addresses for any host. */
const twoLoopbackAddresses: net.LookupFunction = (_host, options, callback) => {
  if (options.all) {
    callback(null, [
      { address: "127.0.0.1", family: 4 },
      { address: "127.0.0.2", family: 4 },
    ]);
  } else {
    callback(null, "127.0.0.1", 4);
  }
};

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
    // A server that closed or garbled its answer may be restarting.
    assert.equal(
      isTransientError(new InvalidMessage("did not receive a valid HTTP response")),
      true,
    );
    // Nor a 400 that says the server expects TLS; the hint alone doesn't make
    // a scheme mismatch of a status that is retried.
    const hinted = (code: number, hint?: string) =>
      new InvalidStatus(new Response(code, "", new Headers()), { hint });
    assert.equal(isSchemeMismatch(hinted(400, TLS_EXPECTED)), true);
    assert.equal(isTransientError(hinted(400, TLS_EXPECTED)), false);
    assert.equal(isSchemeMismatch(hinted(503, TLS_EXPECTED)), false);
    assert.equal(isTransientError(hinted(503, TLS_EXPECTED)), true);
    assert.equal(isSchemeMismatch(hinted(400, `not that: ${TLS_EXPECTED}`)), false);
    assert.equal(isSchemeMismatch(hinted(400)), false);
    assert.equal(hinted(400).hint, null);
    assert.equal(hinted(400, TLS_EXPECTED).hint, TLS_EXPECTED);
    // Every address of a host refused, reported together.
    assert.equal(isTransientError(new AggregateError([refused, refused], "")), true);
    assert.equal(isTransientError(new AggregateError([refused, new TypeError("bug")], "")), false);
    assert.equal(isTransientError(new AggregateError([], "")), false);
    assert.equal(isTransientError(new TypeError("bug")), false);
    assert.equal(isTransientError("not an error"), false);
  });
});
