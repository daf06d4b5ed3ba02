import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import {
  type ClientCommand,
  DEFAULT_HOST,
  DEFAULT_PORT,
  parseCommand,
  parseHeader,
  parseSize,
  type ServeCommand,
  UsageError,
} from "../../src/cli/args.js";
import { connect, serve } from "../../src/index.js";

/** The client command for `uri` with no options, and `options` on top. */
function client(uri: string, options: Partial<ClientCommand> = {}): ClientCommand {
  return {
    kind: "client",
    uri,
    headers: [],
    subprotocols: [],
    origin: undefined,
    ca: [],
    insecure: false,
    proxy: undefined,
    unixSocket: undefined,
    compression: true,
    maxSize: undefined,
    ...options,
  };
}

/** The serve command with no options, and `options` on top. */
function server(options: Partial<ServeCommand> = {}): ServeCommand {
  return {
    kind: "serve",
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    path: undefined,
    tls: undefined,
    subprotocols: [],
    compression: true,
    maxSize: undefined,
    ...options,
  };
}

describe("parseCommand", () => {
  it("parses a URI as the client command", () => {
    assert.deepEqual(
      parseCommand(["ws://127.0.0.1:8001/path"]),
      client("ws://127.0.0.1:8001/path"),
    );
  });

  it("parses serve with defaults and options", () => {
    assert.deepEqual(parseCommand(["serve"]), server());
    assert.deepEqual(DEFAULT_HOST, "127.0.0.1");
    assert.deepEqual(DEFAULT_PORT, 8001);
    assert.deepEqual(
      parseCommand(["serve", "--host", "::1", "--port=0"]),
      server({ host: "::1", port: 0 }),
    );
    // As a URI writes it: the brackets are not part of the address.
    assert.deepEqual(
      parseCommand(["serve", "--host", "[::1]", "--port=0"]),
      server({ host: "::1", port: 0 }),
    );
    assert.deepEqual(
      parseCommand(["serve", "--host", "[example]", "--port=0"]),
      server({ host: "[example]", port: 0 }),
    );
    assert.deepEqual(parseCommand(["--port", "65535", "serve"]), server({ port: 65535 }));
  });

  it("parses the client's options, long and short, before or after the URI", () => {
    const uri = "wss://example.com/chat";
    assert.deepEqual(
      parseCommand([
        "-H",
        "Authorization: Bearer t0k3n",
        "--header=X-Empty:",
        "-H",
        "x-repeated:  a\t",
        "--header",
        "X-Repeated:b",
        "-s",
        "chat.v2",
        "--subprotocol",
        "chat.v1",
        "-o",
        "https://example.com",
        "--ca",
        "one.pem",
        "--ca=two.pem",
        "-k",
        uri,
        "--proxy",
        "http://user:pass@proxy.example:3128",
        "--no-compression",
        "--max-size",
        "64K",
      ]),
      client(uri, {
        headers: [
          ["Authorization", "Bearer t0k3n"],
          ["X-Empty", ""],
          ["x-repeated", "a"],
          ["X-Repeated", "b"],
        ],
        subprotocols: ["chat.v2", "chat.v1"],
        origin: "https://example.com",
        ca: ["one.pem", "two.pem"],
        insecure: true,
        proxy: "http://user:pass@proxy.example:3128",
        compression: false,
        maxSize: 65536,
      }),
    );
    assert.deepEqual(
      parseCommand(["--insecure", "--origin=null", "--unix-socket", "/tmp/s.sock", uri]),
      client(uri, { insecure: true, origin: "null", unixSocket: "/tmp/s.sock" }),
    );
    // The origin's form is the user's business, e.g. to try a server's check.
    assert.deepEqual(
      parseCommand(["-o", "http://caf\u00e9.example\tx", uri]),
      client(uri, { origin: "http://caf\u00e9.example\tx" }),
    );
  });

  it("takes `-` as an argument and `--` as the end of the options", () => {
    // As getopt does: `-` is a (bad) URI, which connecting reports.
    assert.deepEqual(parseCommand(["-"]), client("-"));
    assert.deepEqual(parseCommand(["-k", "--", "-k"]), client("-k", { insecure: true }));
    assert.deepEqual(parseCommand(["--", "serve"]), server());
    // As the reference page says: a group of short options, the last one taking a value.
    assert.deepEqual(
      parseCommand(["-ks", "chat", "ws://a"]),
      client("ws://a", { insecure: true, subprotocols: ["chat"] }),
    );
    assert.deepEqual(
      parseCommand(["-schat", "ws://a"]),
      client("ws://a", { subprotocols: ["chat"] }),
    );
  });

  it("reads `--proxy env` as the environment's proxy", () => {
    assert.deepEqual(
      parseCommand(["--proxy", "env", "ws://a/"]),
      client("ws://a/", { proxy: true }),
    );
    assert.deepEqual(
      parseCommand(["--proxy", "socks5h://127.0.0.1:1080", "ws://a/"]),
      client("ws://a/", { proxy: "socks5h://127.0.0.1:1080" }),
    );
  });

  it("parses the server's options", () => {
    assert.deepEqual(
      parseCommand(["serve", "--path", "/tmp/echo.sock", "--no-compression", "--max-size=none"]),
      server({ path: "/tmp/echo.sock", compression: false, maxSize: null }),
    );
    assert.deepEqual(
      parseCommand(["serve", "--port", "0", "--tls-cert", "c.pem", "--tls-key", "k.pem"]),
      server({ port: 0, tls: { cert: "c.pem", key: "k.pem" } }),
    );
    assert.deepEqual(
      parseCommand(["serve", "-s", "chat.v2", "--subprotocol=chat.v1"]),
      server({ subprotocols: ["chat.v2", "chat.v1"] }),
    );
  });

  it("parses --help, -h and --version, which win over the rest", () => {
    assert.deepEqual(parseCommand(["--help"]), { kind: "help" });
    assert.deepEqual(parseCommand(["-h"]), { kind: "help" });
    assert.deepEqual(parseCommand(["serve", "--help"]), { kind: "help" });
    assert.deepEqual(parseCommand(["--version"]), { kind: "version" });
  });

  it("rejects invalid command lines", () => {
    const cases: [string[], RegExp][] = [
      [[], /^missing a URI or a command$/],
      // parseArgs' errors, in the words of the others.
      [["--bogus"], /^unknown option --bogus$/],
      [["--bogus=1", "ws://a"], /^unknown option --bogus$/],
      [["-x"], /^unknown option -x$/],
      [["-kx", "ws://a"], /^unknown option -x$/],
      [["--bo\x1bgus"], /^unknown option --bo\\x1bgus$/],
      [["serve", "--port"], /^--port needs a value$/],
      [["serve", "--port", "65536"], /^invalid port: 65536$/],
      [
        ["serve", "--port", "-1"],
        /^--port needs a value; for one that starts with "-", write --port=VALUE$/,
      ],
      [["serve", "--port=-1"], /^invalid port: -1$/],
      [["serve", "--port", "80a"], /^invalid port: 80a$/],
      [["serve", "--port", ""], /^invalid port: $/],
      // The argument is quoted as escaped text, as elsewhere: no raw control characters.
      [["serve", "--port", "1\x1b[2J"], /^invalid port: 1\\x1b\[2J$/],
      [["serve", "extra"], /^unexpected argument: extra$/],
      [["ws://a", "ws://b"], /^unexpected argument: ws:\/\/b$/],
      [["ws://a", "ws://u:secret@b"], /^unexpected argument: ws:\/\/u:\*\*\*@b$/],
      [["ws://a", "ws://TOKEN@b"], /^unexpected argument: ws:\/\/\*\*\*@b$/],
      [["ws://a", "alice:secret@b"], /^unexpected argument: alice:\*\*\*@b$/],
      [["ws://a", "--port", "1"], /^--port only applies to serve$/],
      [["ws://a", "--host", "h"], /^--host only applies to serve$/],
      [["ws://a", "--path", "p"], /^--path only applies to serve$/],
      [["ws://a", "--tls-cert", "c"], /^--tls-cert only applies to serve$/],
      [["serve", "-H", "A: b"], /^--header doesn't apply to serve$/],
      [["serve", "-k"], /^--insecure doesn't apply to serve$/],
      [["serve", "-s", "a b"], /^invalid subprotocol: a b$/],
      [["serve", "--unix-socket", "p"], /^--unix-socket doesn't apply to serve$/],
      [["serve", "--path", "p", "--port", "1"], /^--path replaces --host and --port$/],
      [["serve", "--host", "h", "--path", "p"], /^--path replaces --host and --port$/],
      [["serve", "--tls-cert", "c"], /^--tls-cert needs --tls-key$/],
      [["serve", "--tls-key", "k"], /^--tls-key needs --tls-cert$/],
      [["serve", "--path", ""], /^--path needs a file name$/],
      // Not every interface, which is what an empty host listens on.
      [["serve", "--host", ""], /^--host needs a host name or address$/],
      [["serve", "--host="], /^--host needs a host name or address$/],
      [["ws://a", "--ca", "a.pem", "--ca", ""], /^--ca needs a file name$/],
      [["ws://a", "-H"], /^--header needs a value$/],
      [["ws://a", "-o", "-k"], /^--origin needs a value; for one that starts with "-", write/],
      [["ws://a", "-H", "NoColon"], /^invalid header: NoColon \(expected "Name: value"\)$/],
      [["ws://a", "-H", ": value"], /^invalid header: : value/],
      [["ws://a", "-H", "Bad Name: value"], /^invalid header: Bad Name: value/],
      [["ws://a", "-H", "X-A: a\rb"], /^invalid character in the value of header X-A$/],
      // Fields that only the handshake sets, which connect() refuses: exit 2
      // before connecting, naming the CLI's option rather than connect()'s.
      [
        ["ws://a", "-H", "Sec-WebSocket-Protocol: chat"],
        /^--header can't set Sec-WebSocket-Protocol: the handshake sets it; offer subprotocols with -s NAME$/,
      ],
      [
        ["ws://a", "-H", "sec-websocket-extensions: permessage-deflate"],
        /^--header can't set sec-websocket-extensions: the handshake sets it; it offers permessage-deflate unless --no-compression$/,
      ],
      [
        ["ws://a", "-H", "Upgrade: websocket"],
        /^--header can't set Upgrade: the handshake sets it$/,
      ],
      [["ws://a", "-H", "CONNECTION: close"], /^--header can't set CONNECTION: the handshake sets/],
      [["ws://a", "-H", "Sec-WebSocket-Key: x"], /^--header can't set Sec-WebSocket-Key: /],
      [["ws://a", "-H", "Sec-WebSocket-Version: 8"], /^--header can't set Sec-WebSocket-Ver/],
      [["ws://a", "-H", "X-A: caf\u00e9 \u2615"], /^invalid character in the value of header X-A$/],
      [["ws://a", "-o", ""], /^--origin needs an origin, e\.g\. https:\/\/example\.com$/],
      // One line, not split at the LF, and exit 2 rather than a failed connect().
      [["ws://a", "-o", "http://x\r\nInjected: 1"], /^invalid character in the value of --origin$/],
      [
        ["ws://a", "--origin", "http://caf\u00e9.\u2615"],
        /^invalid character in the value of --origin$/,
      ],
      [["ws://a", "-s", "chat v1"], /^invalid subprotocol: chat v1$/],
      [["ws://a", "-s", ""], /^invalid subprotocol: $/],
      [
        ["ws://a", "--proxy", "ftp://p:2121"],
        /^invalid --proxy: ftp:\/\/p:2121 isn't a valid URI: unsupported/,
      ],
      [["ws://a", "--proxy", "http://"], /^invalid --proxy: .*malformed proxy URL$/],
      [["ws://a", "--proxy", "http://p", "--unix-socket", "s"], /^--proxy and --unix-socket/],
      [["ws://a", "--max-size", "-1"], /^--max-size needs a value; for one that starts with "-"/],
      [["ws://a", "--max-size=-1"], /^invalid size: -1$/],
      [["serve", "--max-size", "1.5M"], /^invalid size: 1\.5M$/],
      [["ws://a", "--no-compression=yes"], /^--no-compression takes no value$/],
      [["ws://a", "--insecure=1"], /^--insecure takes no value$/],
      // parseArgs reads `-k=1` as the group `-k -= -1`, and `-=` is unknown.
      [["ws://a", "-k=1"], /^-k takes no value$/],
      [["ws://a", "-k="], /^-k takes no value$/],
      [["-h=1"], /^-h takes no value$/],
      [["ws://a", "-kk=1"], /^-k takes no value$/],
      [["ws://a", "-kq=1"], /^unknown option -q$/],
      [["ws://a", "-kq"], /^unknown option -q$/],
      [["ws://a", "-="], /^unknown option -=$/],
      [["ws://a", "-=1"], /^unknown option -=1$/],
      [["ws://a", "--="], /^unknown option --=$/],
      [["ws://a", "--=1"], /^unknown option --=1$/],
      [["ws://a", "--", "-k=1"], /^unexpected argument: -k=1$/],
      [["--"], /^missing a URI or a command$/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseCommand(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        JSON.stringify(argv),
      );
    }
  });
});

describe("headers that connect() refuses", () => {
  it("are usage errors, and only those", { timeout: 20_000 }, async () => {
    const names = [
      "Upgrade",
      "Connection",
      "Sec-WebSocket-Key",
      "Sec-WebSocket-Version",
      "Sec-WebSocket-Extensions",
      "Sec-WebSocket-Protocol",
      // connect() takes these: they replace the ones it would send.
      "Host",
      "Origin",
      "Authorization",
      "Sec-WebSocket-Accept",
    ];
    await using server = await serve(async () => {}, { host: "127.0.0.1", port: 0, logger: null });
    const uri = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    for (const name of names) {
      let refused: boolean;
      try {
        const ws = await connect(uri, { additionalHeaders: [[name, "x"]], logger: null });
        await ws.close();
        refused = false;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        refused = true;
      }
      const usageError = (() => {
        try {
          parseCommand(["ws://a", "-H", `${name}: x`]);
          return false;
        } catch (error) {
          return error instanceof UsageError;
        }
      })();
      assert.equal(usageError, refused, name);
    }
  });
});

describe("parseHeader", () => {
  it("splits at the first colon and trims whitespace around the value", () => {
    assert.deepEqual(parseHeader("Cookie: a=1; b=2"), ["Cookie", "a=1; b=2"]);
    assert.deepEqual(parseHeader("X-Time:12:30:00"), ["X-Time", "12:30:00"]);
    assert.deepEqual(parseHeader("X-Spaces: \t in  side \t"), ["X-Spaces", "in  side"]);
    assert.deepEqual(parseHeader("X-Latin1: caf\u00e9"), ["X-Latin1", "caf\u00e9"]);
  });
});

describe("parseSize", () => {
  it("takes bytes, K, M and G suffixes in either case, and 0 or none for no limit", () => {
    assert.equal(parseSize("1"), 1);
    assert.equal(parseSize("65536"), 65536);
    assert.equal(parseSize("64k"), 65536);
    assert.equal(parseSize("64K"), 65536);
    assert.equal(parseSize("16M"), 16 * 1024 * 1024);
    assert.equal(parseSize("2g"), 2 * 1024 ** 3);
    assert.equal(parseSize("0"), null);
    assert.equal(parseSize("0K"), null);
    assert.equal(parseSize("none"), null);
    assert.equal(parseSize("NONE"), null);
  });

  it("rejects anything else", () => {
    for (const text of ["", "K", "1KB", "1 K", "0x10", "1e3", "999999999999999G", "-1", "1T"]) {
      assert.throws(() => parseSize(text), UsageError, text);
    }
  });
});
