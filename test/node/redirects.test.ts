import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type * as net from "node:net";
import { after, describe, it } from "node:test";
import { InvalidStatus, InvalidUri, SecurityError } from "../../src/core/errors.js";
import type { Request } from "../../src/core/request.js";
import { connect } from "../../src/node/client.js";
import { serve } from "../../src/node/server.js";
import { echo, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

/** A server that records the requests it accepts. */
async function target() {
  const requests: Request[] = [];
  const started = await startServer(echo, {
    processRequest: (_connection, request) => {
      requests.push(request);
      return undefined;
    },
  });
  return { ...started, requests };
}

/** A server that redirects every request to `location(path)` with `status`. */
async function redirector(location: (path: string) => string, status = 302) {
  return startServer(echo, {
    processRequest: (_connection, request) => ({
      status,
      headers: { Location: location(request.path) },
    }),
  });
}

describe("redirects", () => {
  it("follows 301, 302, 303, 307 and 308 to another server", async () => {
    const end = await target();
    await using _end = end.server;
    for (const status of [301, 302, 303, 307, 308]) {
      const start = await redirector((path) => `${end.uri}/moved${path}`, status);
      await using _start = start.server;
      await using ws = await connect(`${start.uri}/chat?x=1`);
      await ws.send("hello");
      assert.equal(await ws.recv(), "hello");
      assert.equal(ws.request.path, "/moved/chat?x=1");
    }
    assert.equal(end.requests.length, 5);
  });

  it("resolves a relative Location and keeps credentials on the same origin", async () => {
    const requests: Request[] = [];
    const { server, port } = await startServer(echo, {
      processRequest: (_connection, request) => {
        requests.push(request);
        if (request.path === "/old") return { status: 307, headers: { Location: "new?v=2" } };
        return undefined;
      },
    });
    await using _server = server;
    await using ws = await connect(`ws://user:pass@127.0.0.1:${port}/old`, {
      additionalHeaders: { Cookie: "session=1" },
    });
    assert.equal(ws.request.path, "/new?v=2");
    const [first, second] = requests;
    assert.equal(second?.headers.get("Authorization"), first?.headers.get("Authorization"));
    assert.match(second?.headers.get("Authorization") ?? "", /^Basic /);
    assert.equal(second?.headers.get("Cookie"), "session=1");
  });

  it("drops a fragment from the Location", async () => {
    const end = await target();
    await using _end = end.server;
    for (const location of [`${end.uri}/next#top`, `${end.uri}/next?q=1#`]) {
      const start = await redirector(() => location);
      await using _start = start.server;
      await using ws = await connect(`${start.uri}/start`);
      assert.equal(ws.request.path, location.includes("?") ? "/next?q=1" : "/next");
      await ws.send("no fragment");
      assert.equal(await ws.recv(), "no fragment");
    }
    assert.deepEqual(
      end.requests.map((request) => request.path),
      ["/next", "/next?q=1"],
    );
  });

  it("drops Authorization, Cookie and a Host given on a redirect to another origin", async () => {
    const end = await target();
    await using _end = end.server;
    const start = await redirector(() => `${end.uri}/`);
    await using _start = start.server;
    await using _ws = await connect(`ws://user:pass@127.0.0.1:${start.port}/`, {
      additionalHeaders: {
        Cookie: "session=1",
        Authorization: "Bearer t",
        "X-Trace": "abc",
        Host: "first.example",
      },
    });
    const headers = end.requests[0]!.headers;
    assert.equal(headers.has("Authorization"), false);
    assert.equal(headers.has("Cookie"), false);
    assert.deepEqual(headers.getAll("Host"), [`127.0.0.1:${end.port}`]);
    assert.equal(headers.get("X-Trace"), "abc");
    assert.equal(headers.get("Host"), `127.0.0.1:${end.port}`);
  });

  it("reads http:// and https:// locations as ws:// and wss://", async () => {
    const end = await target();
    await using _end = end.server;
    const start = await redirector(() => `http://127.0.0.1:${end.port}/web`);
    await using _start = start.server;
    await using ws = await connect(start.uri);
    assert.equal(ws.request.path, "/web");
  });

  it("stops after maxRedirects", async () => {
    const { server, uri } = await startServer(echo, {
      processRequest: (_connection, request) => ({
        status: 302,
        headers: { Location: `/${Number(request.path.slice(1)) + 1}` },
      }),
    });
    await using _server = server;
    const tooMany = await connect(`${uri}/0`).catch((e: unknown) => e);
    assert.ok(tooMany instanceof SecurityError);
    assert.equal(tooMany.message, "more than 10 redirects");
    assert.ok(tooMany.cause instanceof InvalidStatus);
    const fewer = await connect(`${uri}/0`, { maxRedirects: 2 }).catch((e: unknown) => e);
    assert.ok(fewer instanceof SecurityError);
    assert.equal(fewer.message, "more than 2 redirects");
    const none = await connect(`${uri}/0`, { maxRedirects: 0 }).catch((e: unknown) => e);
    assert.ok(none instanceof InvalidStatus);
    assert.equal(none.response.status, 302);
  });

  it("refuses a maxRedirects that the count can't reach, before connecting", async () => {
    let requests = 0;
    const { server, uri } = await startServer(echo, {
      processRequest: () => {
        requests++;
        return { status: 302, headers: { Location: "/again" } };
      },
    });
    await using _server = server;
    for (const maxRedirects of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, "3"]) {
      const error = await connect(uri, { maxRedirects: maxRedirects as number }).catch(
        (e: unknown) => e,
      );
      // A string isn't a number at all: a TypeError.
      assert.ok(
        typeof maxRedirects === "string"
          ? error instanceof TypeError && !(error instanceof RangeError)
          : error instanceof RangeError,
        String(maxRedirects),
      );
      assert.match(
        (error as Error).message,
        /^maxRedirects must be a whole number of redirects from 0; got /,
      );
    }
    assert.equal(requests, 0);
  });

  it("refuses a redirect from wss:// to ws://", async () => {
    const fixtures = new URL("../../../test/fixtures/tls/", import.meta.url);
    const end = await target();
    await using _end = end.server;
    const secure = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      logger: null,
      tls: {
        key: readFileSync(new URL("localhost-key.pem", fixtures)),
        cert: readFileSync(new URL("localhost.pem", fixtures)),
      },
      processRequest: () => ({ status: 301, headers: { Location: `${end.uri}/plain` } }),
    });
    await using _secure = secure;
    const port = (secure.address() as net.AddressInfo).port;
    const error = await connect(`wss://localhost:${port}/`, {
      tls: { ca: readFileSync(new URL("ca.pem", fixtures)) },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof SecurityError, String(error));
    assert.match(
      error.message,
      /^refusing to follow a redirect from wss:\/\/localhost:\d+\/ to ws:/,
    );
    assert.equal(end.requests.length, 0);
  });

  it("fails on a redirect without a valid Location", async () => {
    const noLocation = await startServer(echo, { processRequest: () => ({ status: 302 }) });
    await using _noLocation = noLocation.server;
    const error = await connect(noLocation.uri).catch((e: unknown) => e);
    assert.ok(error instanceof InvalidStatus);
    assert.equal(error.response.status, 302);
    const invalid = await redirector(() => "ftp://example.com/");
    // The Location's query, where tokens travel, is redacted as in traces.
    const tokened = await redirector(() => "ftp://example.com/?token=SECRET");
    await using _tokened = tokened.server;
    const tokenError = await connect(tokened.uri).catch((e: unknown) => e);
    assert.ok(tokenError instanceof InvalidUri);
    assert.match(
      tokenError.message,
      /^ftp:\/\/example\.com\/\?token=\[redacted\] isn't a valid URI/,
    );
    assert.doesNotMatch(`${tokenError.message} ${tokenError.uri}`, /SECRET/);
    await using _invalid = invalid.server;
    // Where the URI came from, and what a Location may say: the application never wrote it.
    await assert.rejects(connect(invalid.uri), {
      name: "InvalidUri",
      message:
        /^ftp:\/\/example\.com\/ isn't a valid URI: invalid redirect location from ws:\/\/127\.0\.0\.1:\d+\/: scheme isn't ws, wss, http or https$/,
    });
    // Not a URL at all: named with the redirect too.
    const unparsable = await redirector(() => "http://[::1");
    await using _unparsable = unparsable.server;
    await assert.rejects(connect(unparsable.uri), {
      name: "InvalidUri",
      message:
        /^http:\/\/\[::1 isn't a valid URI: invalid redirect location from ws:\/\/127\.0\.0\.1:\d+\/$/,
    });
    // A user name without a password: refused by parseUri(), with the redirect named.
    const userOnly = await redirector(() => "ws://user@127.0.0.1:1/");
    await using _userOnly = userOnly.server;
    const userOnlyError = await connect(userOnly.uri).catch((e: unknown) => e);
    assert.ok(userOnlyError instanceof InvalidUri);
    assert.match(
      userOnlyError.message,
      /: invalid redirect location from ws:\/\/127\.0\.0\.1:\d+\/: /,
    );
  });
});
