/**
 * socks5Connect() on its own, against a SOCKS5 proxy the test plays byte by
 * byte on a loopback connection: the greeting, credentials and CONNECT
 * request it writes (RFC 1928, RFC 1929), the replies it accepts, and the
 * errors it raises for the others. test/node/proxy.test.ts tunnels whole
 * connections through a SOCKS5 proxy.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as dns from "node:dns";
import { lookup } from "node:dns/promises";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { ProxyError } from "../../src/core/errors.js";
import { parseUri, type WebSocketUri } from "../../src/core/uri.js";
import type { TcpOptions } from "../../src/node/client.js";
import { ipv6Bytes, socks5Connect } from "../../src/node/proxy-socks.js";
import { type LoopbackPair, loopbackPair } from "../helpers/pair.js";
import { deferred, unhandledRejections, within } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const PROXY = new URL("socks5://proxy.test:1080");
const REMOTE_DNS = new URL("socks5h://proxy.test:1080");

/** A reply of RFC 1928 §6 with REP `reply`, bound to 0.0.0.0:0. */
const reply = (rep: number) => [5, rep, 0, 1, 0, 0, 0, 0, 0, 0];
const SUCCEEDED = reply(0);

/** Starts socks5Connect() on the pair's client end; the promise is observed at once. */
function start(
  pair: LoopbackPair,
  uri: string | WebSocketUri = "ws://192.0.2.7:8080/",
  proxy = PROXY,
  signal = new AbortController().signal,
  tcp?: TcpOptions,
): Promise<net.Socket> {
  const target = typeof uri === "string" ? parseUri(uri) : uri;
  const tunnel = socks5Connect(pair.client, target, proxy, signal, tcp);
  tunnel.catch(() => {});
  return tunnel;
}

/** Reads `bytes.length` bytes on the proxy's side and checks they are `bytes`. */
async function expectBytes(pair: LoopbackPair, bytes: readonly number[], what: string) {
  assert.deepEqual([...(await pair.read(bytes.length))], bytes, what);
}

/** The CONNECT request to 192.0.2.7:8080, the default target of {@link start}. */
const CONNECT_IPV4 = [5, 1, 0, 1, 192, 0, 2, 7, 0x1f, 0x90];

/** The rejection of `tunnel`, checked to be a ProxyError. */
async function proxyError(tunnel: Promise<unknown>): Promise<ProxyError> {
  const error = await tunnel.then(
    () => assert.fail("expected a ProxyError"),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ProxyError, String(error));
  assert.equal(error.code, "ERR_PROXY");
  assert.equal(error.status, null);
  return error;
}

/** Resumes a paused socket and resolves with the next chunk it emits. */
async function nextChunk(socket: net.Socket): Promise<string> {
  const data = once(socket, "data");
  socket.resume();
  const [chunk] = (await data) as [Buffer];
  return chunk.toString("latin1");
}

describe("socks5Connect()", () => {
  it("greets without credentials, asks to CONNECT to an IPv4 address, and hands the socket back paused", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair);
    // RFC 1928 §3: version 5, one method, "no authentication required".
    await expectBytes(pair, [5, 1, 0], "greeting");
    pair.server.write(Buffer.from([5, 0]));
    // RFC 1928 §4: version, CONNECT, reserved, IPv4, address, port 8080 in network order.
    await expectBytes(pair, CONNECT_IPV4, "request");
    // The server's first bytes may come right behind the reply.
    pair.server.write(Buffer.concat([Buffer.from(SUCCEEDED), Buffer.from("server first")]));
    const socket = await tunnel;
    assert.equal(socket, pair.client);
    assert.equal(socket.isPaused(), true);
    assert.equal(await nextChunk(socket), "server first");
    socket.write("through");
    assert.equal((await pair.read(7)).toString(), "through");
  });

  it("sends IPv6 addresses as such, and host names as names with socks5h", async () => {
    const cases: [string, URL, number[]][] = [
      ["ws://[2001:db8::1]:443/", PROXY, [4, ...ipv6Bytes("2001:db8::1"), 1, 0xbb]],
      ["wss://example.com/", REMOTE_DNS, [3, 11, ...Buffer.from("example.com"), 1, 0xbb]],
      // An address stays an address, even when the proxy resolves names.
      ["ws://192.0.2.7:65535/", REMOTE_DNS, [1, 192, 0, 2, 7, 0xff, 0xff]],
      ["ws://[::1]:4660/", REMOTE_DNS, [4, ...ipv6Bytes("::1"), 0x12, 0x34]],
    ];
    for (const [uri, proxy, address] of cases) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, uri, proxy);
      await expectBytes(pair, [5, 1, 0], "greeting");
      pair.server.write(Buffer.from([5, 0]));
      await expectBytes(pair, [5, 1, 0, ...address], uri);
      pair.server.write(Buffer.from(SUCCEEDED));
      await tunnel;
    }
  });

  it("resolves the host name itself with socks5", async () => {
    // net.connect() asks for addresses of configured families only (see below).
    const hints = process.platform === "win32" ? 0 : dns.ADDRCONFIG;
    const { address } = await lookup("localhost", { hints });
    const expected = net.isIPv4(address)
      ? [1, ...address.split(".").map(Number)]
      : [4, ...ipv6Bytes(address)];
    await using pair = await loopbackPair();
    const tunnel = start(pair, "ws://localhost:80/");
    await expectBytes(pair, [5, 1, 0], "greeting");
    pair.server.write(Buffer.from([5, 0]));
    await expectBytes(pair, [5, 1, 0, ...expected, 0, 80], "request");
    pair.server.write(Buffer.from(SUCCEEDED));
    await tunnel;
  });

  it("looks the host name up with tcp's lookup, family and hints, as net.connect() does", async () => {
    const given: [string, dns.LookupOptions][] = [];
    const lookup: net.LookupFunction = (hostname, options, callback) => {
      given.push([hostname, { ...options }]);
      if (options.family === 6) callback(null, "2001:db8::7", 6);
      else callback(null, "192.0.2.7", 4);
    };
    const cases: [TcpOptions, number[]][] = [
      [{ lookup }, [1, 192, 0, 2, 7]],
      [{ lookup, family: 4 }, [1, 192, 0, 2, 7]],
      [{ lookup, family: 6 }, [4, ...ipv6Bytes("2001:db8::7")]],
      [{ lookup, family: 6, hints: dns.V4MAPPED }, [4, ...ipv6Bytes("2001:db8::7")]],
      // net.connect() takes the family by name too, from JavaScript.
      [{ lookup, family: "IPv6" as unknown as number }, [4, ...ipv6Bytes("2001:db8::7")]],
    ];
    for (const [tcp, address] of cases) {
      await using pair = await loopbackPair();
      given.length = 0;
      const tunnel = start(pair, "ws://feed.example.invalid:8080/", PROXY, undefined, tcp);
      await expectBytes(pair, [5, 1, 0], "greeting");
      pair.server.write(Buffer.from([5, 0]));
      const what = `request with family ${tcp.family}, hints ${tcp.hints}`;
      // A wrong address is shorter or longer: the read would wait for ever.
      await within(expectBytes(pair, [5, 1, 0, ...address, 0x1f, 0x90], what), 5_000, what);
      pair.server.write(Buffer.from(SUCCEEDED));
      await tunnel;
      // The options net.connect() hands the same lookup for a direct
      // connection; it asks for all addresses when it may try several
      // (autoSelectFamily), which a CONNECT request can't name.
      const direct = net.connect({
        ...tcp,
        host: "feed.example.invalid",
        port: 9,
        autoSelectFamily: false,
      });
      direct.on("error", () => {});
      direct.destroy();
      assert.equal(given.length, 2);
      assert.deepEqual(given[0], given[1], `family ${tcp.family}, hints ${tcp.hints}`);
      assert.equal(given[0]![0], "feed.example.invalid");
    }
  });

  it("looks the host name up for tcp.family without a lookup function", async () => {
    for (const family of [4, 6] as const) {
      // What localhost is in this family here: /etc/hosts may have no ::1,
      // and then the tunnel fails as a direct connection would.
      const expected = await lookup("localhost", { family }).then(
        ({ address }) =>
          family === 4 ? [1, ...address.split(".").map(Number)] : [4, ...ipv6Bytes(address)],
        (error: NodeJS.ErrnoException) => error.code ?? String(error),
      );
      await using pair = await loopbackPair();
      const tunnel = start(pair, "ws://localhost:80/", PROXY, undefined, { family });
      await expectBytes(pair, [5, 1, 0], "greeting");
      pair.server.write(Buffer.from([5, 0]));
      if (typeof expected === "string") {
        await within(assert.rejects(tunnel, { code: expected }), 5_000, `family ${family}`);
        continue;
      }
      const what = `request for family ${family}`;
      await within(expectBytes(pair, [5, 1, 0, ...expected, 0, 80], what), 5_000, what);
      pair.server.write(Buffer.from(SUCCEEDED));
      await tunnel;
    }
  });

  it("takes the first address of a tcp.lookup that answers a list, as for all: true", async () => {
    // Node's net.connect() asks for all of them with autoSelectFamily: a
    // lookup written for that may always answer so.
    const lookup: net.LookupFunction = (_host, _options, callback) =>
      callback(null, [
        { address: "192.0.2.7", family: 4 },
        { address: "192.0.2.8", family: 4 },
      ]);
    await using pair = await loopbackPair();
    const tunnel = start(pair, "ws://feed.example.invalid/", PROXY, undefined, { lookup });
    await expectBytes(pair, [5, 1, 0], "greeting");
    pair.server.write(Buffer.from([5, 0]));
    const what = "request for the first address";
    await within(expectBytes(pair, [5, 1, 0, 1, 192, 0, 2, 7, 0, 80], what), 5_000, what);
    pair.server.write(Buffer.from(SUCCEEDED));
    await tunnel;
  });

  it("rejects with tcp.lookup's error, or a TypeError for what isn't an address", async () => {
    const failure = Object.assign(new Error("getaddrinfo ENOTFOUND feed.example.invalid"), {
      code: "ENOTFOUND",
    });
    const answers: [net.LookupFunction, (error: unknown) => boolean][] = [
      [(_host, _options, callback) => callback(failure, "", 0), (error) => error === failure],
      [
        (_host, _options, callback) => callback(null, "feed.example", 4),
        (error) =>
          error instanceof TypeError &&
          error.message ===
            'tcp.lookup answered "feed.example" for feed.example.invalid, not an IP address',
      ],
      [
        // A list, as for `all: true`, but empty.
        (_host, _options, callback) => callback(null, []),
        (error) =>
          error instanceof TypeError && /^tcp\.lookup answered an Array for /.test(error.message),
      ],
    ];
    for (const [lookup, check] of answers) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, "ws://feed.example.invalid/", PROXY, undefined, { lookup });
      await pair.read(3);
      pair.server.write(Buffer.from([5, 0]));
      // Were the answer taken, the tunnel would wait for the proxy's reply.
      await within(assert.rejects(tunnel, check), 5_000, "the tunnel's rejection");
    }
    await using pair = await loopbackPair();
    const notAFunction = { lookup: "8.8.8.8" } as unknown as TcpOptions;
    const tunnel = start(pair, "ws://feed.example.invalid/", PROXY, undefined, notAFunction);
    await pair.read(3);
    pair.server.write(Buffer.from([5, 0]));
    await within(
      assert.rejects(tunnel, {
        name: "TypeError",
        message: 'tcp.lookup must be a function; got "8.8.8.8"',
      }),
      5_000,
      "the tunnel's rejection",
    );
  });

  it("skips the bound address of each type, keeping the bytes that follow it", async () => {
    const bound = [
      [1, 10, 0, 0, 1],
      [4, ...new Array(16).fill(0xab)],
      [3, 9, ...Buffer.from("proxy.lan")],
    ];
    for (const address of bound) {
      await using pair = await loopbackPair();
      const tunnel = start(pair);
      await expectBytes(pair, [5, 1, 0], "greeting");
      pair.server.write(Buffer.from([5, 0]));
      await expectBytes(pair, CONNECT_IPV4, "request");
      // The port's bytes are "\r\n": they must not end up in the tunnel.
      pair.server.write(Buffer.from([5, 0, 0, ...address, 13, 10, ...Buffer.from("after")]));
      assert.equal(await nextChunk(await tunnel), "after", `address type ${address[0]}`);
    }
  });

  it("authenticates with the proxy URL's credentials, percent-decoded, as UTF-8", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair, undefined, new URL("socks5://%C3%A9l%C3%A8ve:p%40ss@proxy.test"));
    // Both "no authentication" and "username/password" are offered.
    await expectBytes(pair, [5, 2, 0, 2], "greeting");
    pair.server.write(Buffer.from([5, 2]));
    const username = [...Buffer.from("élève")];
    // RFC 1929 §2: version 1, ULEN, UNAME, PLEN, PASSWD.
    await expectBytes(pair, [1, 7, ...username, 4, ...Buffer.from("p@ss")], "credentials");
    pair.server.write(Buffer.from([1, 0]));
    await expectBytes(pair, CONNECT_IPV4, "request");
    pair.server.write(Buffer.from(SUCCEEDED));
    await tunnel;
  });

  it("sends a password alone, and goes on without credentials when the proxy wants none", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair, undefined, new URL("socks5://:tok3n@proxy.test"));
    await expectBytes(pair, [5, 2, 0, 2], "greeting");
    pair.server.write(Buffer.from([5, 2]));
    await expectBytes(pair, [1, 0, 5, ...Buffer.from("tok3n")], "credentials");
    pair.server.write(Buffer.from([1, 0]));
    await expectBytes(pair, CONNECT_IPV4, "request");
    pair.server.write(Buffer.from(SUCCEEDED));
    await tunnel;

    await using open = await loopbackPair();
    const unauthenticated = start(open, undefined, new URL("socks5://user:pw@proxy.test"));
    await expectBytes(open, [5, 2, 0, 2], "greeting");
    open.server.write(Buffer.from([5, 0]));
    await expectBytes(open, CONNECT_IPV4, "request without credentials first");
    open.server.write(Buffer.from(SUCCEEDED));
    await unauthenticated;
  });

  it("reports rejected credentials, and credentials too long to send", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair, undefined, new URL("socks5://user:secret@proxy.test:1080"));
    await expectBytes(pair, [5, 2, 0, 2], "greeting");
    pair.server.write(Buffer.from([5, 2]));
    await pair.read(2 + 4 + 1 + 6);
    pair.server.write(Buffer.from([1, 1]));
    const rejected = await proxyError(tunnel);
    assert.equal(
      rejected.message,
      "SOCKS5 proxy socks5://proxy.test:1080 rejected the credentials",
    );
    assert.equal(rejected.transient, false);

    for (const userinfo of [`${"u".repeat(256)}:pw`, `user:${"%C3%A9".repeat(128)}`]) {
      await using long = await loopbackPair();
      const failed = start(long, undefined, new URL(`socks5://${userinfo}@proxy.test:1080`));
      await expectBytes(long, [5, 2, 0, 2], "greeting");
      long.server.write(Buffer.from([5, 2]));
      const error = await proxyError(failed);
      assert.equal(
        error.message,
        "SOCKS5 proxy socks5://proxy.test:1080 credentials are longer than 255 bytes",
      );
      // Nothing was sent past the greeting.
      long.client.end();
      assert.equal((await long.readToEnd()).length, 0);
    }
  });

  it("reports a proxy that accepts none of the methods offered", async () => {
    for (const [proxy, why] of [
      ["socks5://proxy.test:1080", "requires authentication; put the credentials in the proxy URL"],
      ["socks5://u:p@proxy.test:1080", "accepted none of the authentication methods offered"],
    ] as const) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, undefined, new URL(proxy));
      await pair.read(proxy.includes("@") ? 4 : 3);
      pair.server.write(Buffer.from([5, 0xff]));
      const error = await proxyError(tunnel);
      assert.equal(error.message, `SOCKS5 proxy socks5://proxy.test:1080 ${why}`);
      assert.equal(error.transient, false);
    }
  });

  it("reports a method that wasn't offered, and answers that aren't SOCKS5", async () => {
    const fails = async (answers: number[][], why: string) => {
      await using pair = await loopbackPair();
      const tunnel = start(pair);
      await pair.read(3);
      pair.server.write(Buffer.from(answers[0]!));
      if (answers.length > 1) {
        await pair.read(CONNECT_IPV4.length);
        pair.server.write(Buffer.from(answers[1]!));
      }
      const error = await proxyError(tunnel);
      assert.equal(error.message, `SOCKS5 proxy socks5://proxy.test:1080 ${why}`);
    };
    // Username/password (2) and GSSAPI (1) weren't offered without credentials.
    await fails([[5, 2]], "selected an authentication method that wasn't offered: 2");
    await fails([[5, 1]], "selected an authentication method that wasn't offered: 1");
    await fails([[4, 0]], "answered with an invalid version");
    await fails(
      [
        [5, 0],
        [4, ...SUCCEEDED.slice(1)],
      ],
      "answered with an invalid version",
    );
    await fails(
      [
        [5, 0],
        [5, 0, 0, 2, 0, 0],
      ],
      "answered with an invalid address type: 2",
    );
  });

  it("reports the proxy's failure to connect, transient when the server may come back", async () => {
    // RFC 1928 §6; 9 is unassigned.
    const meanings = new Map([
      [1, ["general SOCKS server failure", true]],
      [2, ["connection not allowed by ruleset", false]],
      [5, ["connection refused", true]],
      [7, ["command not supported", false]],
      [9, ["error 9", false]],
    ] as const);
    for (const [rep, [meaning, transient]] of meanings) {
      await using pair = await loopbackPair();
      const tunnel = start(pair, "ws://example.com/", REMOTE_DNS);
      await pair.read(3);
      pair.server.write(Buffer.from([5, 0]));
      await pair.read(4 + 1 + 11 + 2);
      pair.server.write(Buffer.from(reply(rep)));
      const error = await proxyError(tunnel);
      assert.equal(
        error.message,
        `SOCKS5 proxy socks5h://proxy.test:1080 failed to connect to example.com:80: ${meaning}`,
      );
      assert.equal(error.transient, transient, meaning);
    }
  });

  it("refuses to send a host name over 255 bytes", async () => {
    const host = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
    const uri: WebSocketUri = {
      secure: false,
      host,
      port: 80,
      path: "/",
      username: null,
      password: null,
    };
    await using pair = await loopbackPair();
    const tunnel = start(pair, uri, REMOTE_DNS);
    await pair.read(3);
    pair.server.write(Buffer.from([5, 0]));
    const error = await proxyError(tunnel);
    assert.equal(
      error.message,
      "SOCKS5 proxy socks5h://proxy.test:1080 can't resolve a host name longer than 255 bytes",
    );
  });

  it("reports a proxy that hangs up in the middle of a reply as transient", async () => {
    await using pair = await loopbackPair();
    const tunnel = start(pair, undefined, new URL("socks5://user:secret@proxy.test:1080"));
    await pair.read(4);
    pair.server.end(Buffer.from([5]));
    const error = await proxyError(tunnel);
    assert.equal(
      error.message,
      "SOCKS5 proxy socks5://proxy.test:1080 closed the connection before the tunnel was open",
    );
    assert.equal(error.transient, true);
  });

  it("rejects with the signal's reason and destroys the socket when aborted", async () => {
    await using pair = await loopbackPair();
    const controller = new AbortController();
    const tunnel = start(pair, undefined, PROXY, controller.signal);
    await pair.read(3);
    const reason = new Error("given up");
    controller.abort(reason);
    await assert.rejects(tunnel, (error) => error === reason);
    assert.equal(pair.client.destroyed, true);
  });
  it("stops waiting for tcp.lookup when aborted, and drops its late answer", async () => {
    await using pair = await loopbackPair();
    const controller = new AbortController();
    let answer: (() => void) | null = null;
    const asked = deferred();
    const lookup: net.LookupFunction = (_host, _options, callback) => {
      answer = () => callback(null, "192.0.2.7", 4);
      asked.resolve();
    };
    const tunnel = start(pair, "ws://slow.example.invalid/", PROXY, controller.signal, { lookup });
    await pair.read(3);
    pair.server.write(Buffer.from([5, 0]));
    await asked.promise;
    const reason = new Error("given up");
    controller.abort(reason);
    await within(
      assert.rejects(tunnel, (error) => error === reason),
      5_000,
      "the rejection on abort",
    );
    assert.equal(pair.client.destroyed, true);
    // The answer after the abort goes nowhere: no request, no error.
    answer!();
    pair.server.end();
    assert.equal((await pair.readToEnd()).length, 0);
  });

  it("rejects with the error a tcp.lookup throws", async () => {
    await using pair = await loopbackPair();
    const thrown = new RangeError("no lookups today");
    const lookup: net.LookupFunction = () => {
      throw thrown;
    };
    const tunnel = start(pair, "ws://feed.example.invalid/", PROXY, undefined, { lookup });
    await pair.read(3);
    pair.server.write(Buffer.from([5, 0]));
    await within(
      assert.rejects(tunnel, (error) => error === thrown),
      5_000,
      "the tunnel's rejection",
    );
  });
});

describe("ipv6Bytes()", () => {
  const hex = (address: string) => Buffer.from(ipv6Bytes(address)).toString("hex");

  it("encodes IPv6 addresses", () => {
    assert.equal(hex("::1"), "00000000000000000000000000000001");
    assert.equal(hex("2001:db8::8:800:200c:417a"), "20010db80000000000080800200c417a");
    assert.equal(hex("::ffff:192.0.2.1"), "00000000000000000000ffffc0000201");
    assert.equal(hex("fe80::"), "fe800000000000000000000000000000");
    assert.equal(hex("1:2:3:4:5:6:7:8"), "00010002000300040005000600070008");
  });

  it("encodes the unspecified address, zone identifiers and embedded IPv4", () => {
    assert.equal(hex("::"), "00000000000000000000000000000000");
    // RFC 4007 §11: the zone identifier is local to the host; it isn't sent.
    assert.equal(hex("fe80::1%eth0"), "fe800000000000000000000000000001");
    assert.equal(hex("::1.2.3.4"), "00000000000000000000000001020304");
    assert.equal(hex("64:ff9b::192.0.2.33"), "0064ff9b0000000000000000c0000221");
    assert.equal(hex("2001:DB8::A"), "20010db800000000000000000000000a");
  });
});
