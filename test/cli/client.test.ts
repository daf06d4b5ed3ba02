import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import {
  bodyExcerpt,
  type CliStreams,
  connectHint,
  describeError,
  formatMessage,
  MAX_BODY_EXCERPT,
  runClient,
} from "../../src/cli/client.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { TLS_EXPECTED } from "../../src/core/tls-expected.js";
import { parseUri } from "../../src/core/uri.js";
import {
  type Handler,
  Headers,
  InvalidStatus,
  InvalidUri,
  Response,
  serve,
} from "../../src/index.js";
import { certificateError, notTlsError } from "../../src/node/tls.js";
import { acceptRaw, closePayload, type RawPeer, rawServer } from "../helpers/raw.js";
import { deferred } from "../helpers/server.js";
import { NGINX_BODY } from "../helpers/tls-expected.js";

const TIMEOUT = { timeout: 20_000 };

/**
 * In-memory streams for a command; `stdin` claims to be a terminal when `tty`
 * is set, and `stdout` when `ttyOut` is.
 */
function streams(tty: boolean, ttyOut = false) {
  const stdin = Object.assign(new PassThrough({ encoding: "utf8" }), { isTTY: tty });
  const stdout = Object.assign(new PassThrough({ encoding: "utf8" }), { isTTY: ttyOut });
  const stderr = new PassThrough({ encoding: "utf8" });
  let out = "";
  const waiters = new Set<() => void>();
  stdout.on("data", (chunk: string) => {
    out += chunk;
    for (const waiter of [...waiters]) waiter();
  });
  let err = "";
  stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  const io: CliStreams = { stdin, stdout, stderr };
  return {
    io,
    stdin,
    stdout: () => out,
    stderr: () => err,
    /** Resolves once stdout contains `text`. */
    waitFor(text: string): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (!out.includes(text)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The ETX byte a terminal in raw mode sends for Ctrl-C. */
const CTRL_C = "\x03";

async function withServer(handler: Handler, run: (uri: string) => Promise<void>): Promise<void> {
  await using server = await serve(handler, { host: "127.0.0.1", port: 0, logger: null });
  await run(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

const echo: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

describe("formatMessage", () => {
  it("prints text after `< `, escaped", () => {
    assert.equal(formatMessage("Hello!"), "< Hello!");
    assert.equal(formatMessage("\x1b[2J"), "< \\x1b[2J");
  });

  it("prints binary as hex, honouring the view's offset", () => {
    assert.equal(formatMessage(Buffer.from("0aff", "hex")), "< (binary) 0aff");
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    assert.equal(formatMessage(view), "< (binary) 0203");
    assert.equal(formatMessage(new Uint8Array(0)), "< (binary) ");
  });
});

describe("describeError", () => {
  it("lists the errors of an AggregateError, e.g. one per address tried", () => {
    const error = new AggregateError([new Error("connect A"), new Error("connect B")], "");
    assert.equal(describeError(error), "connect A; connect B");
  });

  it("names --ca, not connect()'s tls.ca option, for a certificate signed by an unknown CA", () => {
    const refused = Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    const error = certificateError(refused, parseUri("wss://localhost:8443/"));
    assert.ok(error !== null);
    assert.match(error.message, /tls\.ca/);
    const described = describeError(error);
    assert.match(described, /pass the certificate of the CA that signed it with --ca FILE$/);
    assert.doesNotMatch(described, /tls\.ca/);
  });

  it("quotes the body of a refused handshake after its status", () => {
    const refused = (body: string) =>
      new InvalidStatus(
        new Response(400, "Bad Request", new Headers(), new TextEncoder().encode(body)),
      );
    assert.equal(
      describeError(refused("Failed to open a WebSocket connection: missing subprotocol.\n")),
      'server rejected WebSocket connection: HTTP 400: "Failed to open a WebSocket connection: ' +
        'missing subprotocol."',
    );
    // Nothing to quote: the status alone, as before.
    assert.equal(describeError(refused("")), "server rejected WebSocket connection: HTTP 400");
    assert.equal(describeError(refused("\r\n")), "server rejected WebSocket connection: HTTP 400");
  });

  it("quotes no body when the status's hint says the server expects TLS", () => {
    const page = new Response(
      400,
      "Bad Request",
      new Headers(),
      new TextEncoder().encode(NGINX_BODY),
    );
    assert.equal(
      describeError(new InvalidStatus(page, { hint: TLS_EXPECTED })),
      "server rejected WebSocket connection: HTTP 400: the server expects TLS; use wss:// (or TLS from a proxy in front of it)",
    );
    // The first line of nginx's page, which says nothing.
    assert.equal(
      describeError(new InvalidStatus(page)),
      'server rejected WebSocket connection: HTTP 400: "<html>"',
    );
  });

  it("drops whitespace at the end, as of OpenSSL's messages", () => {
    const openssl =
      "write EPROTO 80AC8171517F0000:error:0A00010B:SSL routines:ssl3_get_record:" +
      "wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n";
    assert.equal(describeError(new Error(openssl)), openssl.slice(0, -1));
  });

  it("falls back on the error's name, or its string", () => {
    assert.equal(describeError(new TypeError("")), "TypeError");
    assert.equal(describeError(new Error("refused")), "refused");
    assert.equal(describeError("plain"), "plain");
  });
});

describe("connectHint", () => {
  const invalid = (uri: string) => connectHint(uri, new InvalidUri(uri, "whatever"), {});

  it("suggests ws:// for a URI typed without a scheme", () => {
    assert.equal(invalid("127.0.0.1:8001"), "Did you mean ws://127.0.0.1:8001?");
    assert.equal(invalid("localhost"), "Did you mean ws://localhost?");
    assert.equal(invalid("example.com/chat?room=1"), "Did you mean ws://example.com/chat?room=1?");
    assert.equal(invalid("[::1]:8001"), "Did you mean ws://[::1]:8001?");
    assert.equal(invalid("alice:s3cret@h:8001"), "Did you mean ws://alice:***@h:8001?");
  });

  it("suggests ws:// for http:// and wss:// for https://", () => {
    assert.equal(invalid("http://h:8001/"), "Did you mean ws://h:8001/?");
    assert.equal(invalid("HTTPS://alice:s3cret@h/"), "Did you mean wss://alice:***@h/?");
  });

  it("suggests nothing that isn't a valid URI, or for a word or another scheme", () => {
    for (const uri of [
      "serv", // More likely `serve` mistyped than a host.
      "ftp://h/",
      "ws:/h",
      "ws:h",
      "wss://TOKEN@h/", // Invalid for another reason than its scheme.
      "h:99999",
      "TOKEN@h", // ws://TOKEN@h isn't valid either.
      "h:",
      "a b.example",
      "http://h/#fragment",
    ]) {
      assert.equal(invalid(uri), undefined, uri);
    }
    // The Location of a redirect: not the URI the user can change.
    const location = new InvalidUri("http://h/", "scheme isn't ws or wss");
    assert.equal(connectHint("ws://127.0.0.1/", location, {}), undefined);
  });

  it("suggests ws:// when the answer to the TLS handshake isn't TLS", () => {
    const written = Object.assign(new Error("write EPROTO …:wrong version number:…\n"), {
      code: "EPROTO",
    });
    const read = Object.assign(new Error("ssl3_get_record"), {
      code: "ERR_SSL_WRONG_VERSION_NUMBER",
    });
    const hint = "Is it a plain ws:// server? Try ws://alice:***@h:8443/x instead.";
    const uri = "wss://alice:s3cret@h:8443/x";
    assert.equal(connectHint(uri, written, {}), hint);
    assert.equal(connectHint(uri, read, {}), hint);
    assert.equal(connectHint(uri, new AggregateError([new Error("other"), read]), {}), hint);
    // connect()'s error, which says so, and OpenSSL's other way of saying it.
    assert.equal(connectHint(uri, notTlsError(written), {}), hint);
    const tooLong = Object.assign(new Error("ssl3_get_record"), {
      code: "ERR_SSL_PACKET_LENGTH_TOO_LONG",
    });
    assert.equal(connectHint(uri, tooLong, {}), hint);
    // Not for ws://, another TLS error, or through a proxy, whose TLS may be the one.
    assert.equal(connectHint("ws://h/", written, {}), undefined);
    assert.equal(connectHint(uri, new Error("certificate has expired"), {}), undefined);
    assert.equal(connectHint(uri, written, { proxy: "https://proxy:3128" }), undefined);
    assert.equal(connectHint(uri, written, { proxy: true }), undefined);
  });
});

describe("bodyExcerpt", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it("gives the first line that isn't blank, trimmed", () => {
    assert.equal(bodyExcerpt(utf8("missing subprotocol\nmore")), "missing subprotocol");
    assert.equal(bodyExcerpt(utf8("\r\n \t\r\n  why \r\nmore")), "why");
    assert.equal(bodyExcerpt(utf8("\ufeffone\rtwo")), "one");
    assert.equal(bodyExcerpt(utf8("")), "");
    assert.equal(bodyExcerpt(utf8(" \r\n\t\n")), "");
  });

  it("decodes UTF-8, with U+FFFD for invalid bytes, and leaves controls to escape", () => {
    assert.equal(bodyExcerpt(utf8("caf\u00e9 \u2615")), "caf\u00e9 \u2615");
    assert.equal(bodyExcerpt(Uint8Array.of(0x66, 0xff, 0x6f)), "f\ufffdo");
    assert.equal(bodyExcerpt(utf8("\x1b[2Jx\x00")), "\x1b[2Jx\x00");
  });

  it(`cuts after ${MAX_BODY_EXCERPT} characters, not within one`, () => {
    assert.equal(MAX_BODY_EXCERPT, 200);
    const fits = "\u00e9".repeat(200);
    assert.equal(bodyExcerpt(utf8(fits)), fits);
    assert.equal(bodyExcerpt(utf8(`${fits}x`)), `${fits}\u2026`);
    // Characters outside the BMP: by code point, no half of a surrogate pair.
    const emoji = "\u{1f600}".repeat(201);
    assert.equal(bodyExcerpt(utf8(emoji)), `${"\u{1f600}".repeat(200)}\u2026`);
    // A large body is read in part only: the line looks cut, not complete.
    assert.equal(bodyExcerpt(utf8(`${"\n".repeat(4094)}a\u00e9 and more`)), "a\u2026");
  });
});

describe("runClient", () => {
  it("stops reading messages while stdout doesn't drain", TIMEOUT, async () => {
    const serverClosed = deferred();
    const handler: Handler = async (ws) => {
      for (const text of ["a", "b", "c"]) await ws.send(text);
      await ws.close(1000);
      serverClosed.resolve();
    };
    await withServer(handler, async (uri) => {
      const cli = streams(false);
      // A stdout whose buffer is full, as a pipe or socket nobody reads.
      let full = true;
      const stdout = cli.io.stdout;
      const write = stdout.write.bind(stdout) as (chunk: string) => boolean;
      stdout.write = ((chunk: string) => {
        write(chunk);
        return !full;
      }) as typeof stdout.write;
      const running = runClient(uri, { streams: cli.io });
      // The connection closes meanwhile: the Node layer answers the close frame by itself.
      await serverClosed.promise;
      await cli.waitFor("< a\n");
      assert.equal(cli.stdout(), `Connected to ${uri}.\n< a\n`, "waiting for 'drain'");
      full = false;
      stdout.emit("drain");
      assert.equal(await running, 0);
      assert.equal(
        cli.stdout(),
        `Connected to ${uri}.\n< a\n< b\n< c\nConnection closed: 1000 (OK).\n`,
      );
    });
  });

  it(
    "shows a `> ` prompt when stdin and stdout are terminals, redrawn below messages",
    TIMEOUT,
    async () => {
      await withServer(echo, async (uri) => {
        const cli = streams(true, true);
        const running = runClient(uri, { streams: cli.io });
        // readline moves the cursor around the prompt: \x1b[1G\x1b[0J> \x1b[3G.
        await cli.waitFor(`Connected to ${uri}.\n`);
        await cli.waitFor("> ");
        cli.stdin.write("hi\n");
        // The line being typed is cleared, the message printed, the prompt redrawn.
        await cli.waitFor("\r\x1b[K< hi\n");
        cli.stdin.end();
        assert.equal(await running, 0);
        assert.match(
          cli.stdout(),
          /\r\x1b\[K< hi\n(\x1b\[\d*[GJ])*> (\x1b\[\d*G)?\r\x1b\[KConnection closed: 1000 \(OK\)\.\n$/,
        );
      });
    },
  );

  it(
    "writes no prompt into stdout that is not a terminal, even when stdin is",
    TIMEOUT,
    async () => {
      await withServer(echo, async (uri) => {
        // `websockets-ts ws://… > file`, typed at a terminal.
        const cli = streams(true, false);
        const running = runClient(uri, { streams: cli.io });
        await cli.waitFor(`Connected to ${uri}.\n`);
        cli.stdin.write("hi\n");
        await cli.waitFor("< hi\n");
        cli.stdin.end();
        assert.equal(await running, 0);
        // It used to be `> > < hi`.
        assert.equal(cli.stdout(), `Connected to ${uri}.\n< hi\nConnection closed: 1000 (OK).\n`);
      });
    },
  );

  it(
    "hands Ctrl-C read from a terminal to onInterrupt, to count as the first SIGINT",
    TIMEOUT,
    async () => {
      let serverCloseCode!: Promise<number | null>;
      await withServer(
        async (ws) => {
          serverCloseCode = ws.closed.then(() => ws.closeCode);
          await echo(ws);
        },
        async (uri) => {
          const cli = streams(true, true);
          const stop = new AbortController();
          let interrupts = 0;
          const onInterrupt = (): void => {
            interrupts++;
            stop.abort();
          };
          const running = runClient(uri, { streams: cli.io, signal: stop.signal, onInterrupt });
          await cli.waitFor("> ");
          // readline reads the terminal in raw mode: Ctrl-C arrives as a byte, not as SIGINT.
          cli.stdin.write(CTRL_C);
          assert.equal(await running, 0);
          assert.equal(interrupts, 1);
          assert.equal(await serverCloseCode, 1000);
        },
      );
    },
  );

  it("closes with 1000 on Ctrl-C read from a terminal without onInterrupt", TIMEOUT, async () => {
    let serverCloseCode!: Promise<number | null>;
    await withServer(
      async (ws) => {
        serverCloseCode = ws.closed.then(() => ws.closeCode);
        await echo(ws);
      },
      async (uri) => {
        const cli = streams(true, true);
        const running = runClient(uri, { streams: cli.io });
        await cli.waitFor("> ");
        cli.stdin.write(CTRL_C);
        assert.equal(await running, 0);
        assert.equal(await serverCloseCode, 1000);
      },
    );
  });

  it("shows no prompt when stdin is not a terminal", TIMEOUT, async () => {
    await withServer(echo, async (uri) => {
      const cli = streams(false);
      const running = runClient(uri, { streams: cli.io });
      cli.stdin.end("one\ntwo");
      assert.equal(await running, 0);
      assert.doesNotMatch(cli.stdout(), /> /);
      assert.match(cli.stdout(), /\nConnection closed: 1000 \(OK\)\.\n$/);
    });
  });

  it(
    "prints the echo of every line of stdin before the closing handshake ends",
    TIMEOUT,
    async () => {
      await withServer(echo, async (uri) => {
        const cli = streams(false);
        // Read at once once connected: the lines and the end of stdin in one chunk.
        cli.stdin.end("one\ntwo\nthree\n");
        assert.equal(await runClient(uri, { streams: cli.io }), 0);
        assert.equal(
          cli.stdout(),
          `Connected to ${uri}.\n< one\n< two\n< three\nConnection closed: 1000 (OK).\n`,
        );
      });
    },
  );

  it(
    "closes at once when the signal aborts while it waits for the pong at the end of stdin",
    TIMEOUT,
    async () => {
      const pinged = deferred();
      const received = deferred<Frame[]>();
      /** Reads frames, answering no ping, until the close frame, which it echoes. */
      const unresponsive = async (peer: RawPeer): Promise<void> => {
        await acceptRaw(peer);
        const frames: Frame[] = [];
        for (;;) {
          const frame = await peer.readFrame();
          if (frame === null) break;
          frames.push(frame);
          if (frame.opcode === Opcode.PING) pinged.resolve();
          if (frame.opcode === Opcode.CLOSE) {
            peer.writeFrame(Opcode.CLOSE, frame.data);
            peer.socket.end();
            break;
          }
        }
        received.resolve(frames);
      };
      await using server = await rawServer((peer) => void unresponsive(peer));
      const cli = streams(false);
      const stop = new AbortController();
      cli.stdin.end("hi\n");
      const running = runClient(`ws://127.0.0.1:${server.port}/`, {
        streams: cli.io,
        signal: stop.signal,
      });
      await pinged.promise;
      stop.abort();
      assert.equal(await running, 0);
      const frames = await received.promise;
      assert.deepEqual(
        frames.map((frame) => frame.opcode),
        [Opcode.TEXT, Opcode.PING, Opcode.CLOSE],
      );
      assert.deepEqual(closePayload(frames[2]!), [1000, ""]);
      assert.match(cli.stdout(), /\nConnection closed: 1000 \(OK\)\.\n$/);
    },
  );

  it("closes with 1000 when the signal aborts", TIMEOUT, async () => {
    let serverCloseCode!: Promise<number | null>;
    await withServer(
      async (ws) => {
        serverCloseCode = ws.closed.then(() => ws.closeCode);
        await echo(ws);
      },
      async (uri) => {
        const cli = streams(false);
        const stop = new AbortController();
        const running = runClient(uri, { streams: cli.io, signal: stop.signal });
        await cli.waitFor("Connected to ");
        stop.abort();
        assert.equal(await running, 0);
        assert.equal(await serverCloseCode, 1000);
      },
    );
  });

  it(
    "reports a message over the size limit that arrives after its close frame",
    TIMEOUT,
    async () => {
      // Answers the ping that follows the line, then, once the client's close
      // frame has arrived, sends a message over its limit and closes.
      const lateMessage = async (peer: RawPeer): Promise<void> => {
        await acceptRaw(peer);
        for (;;) {
          const frame = await peer.readFrame();
          if (frame === null) return;
          if (frame.opcode === Opcode.PING) peer.writeFrame(Opcode.PONG, frame.data);
          if (frame.opcode === Opcode.CLOSE) {
            peer.writeFrame(Opcode.TEXT, "big");
            peer.writeFrame(Opcode.CLOSE, frame.data);
            peer.socket.end();
            return;
          }
        }
      };
      await using server = await rawServer((peer) => void lateMessage(peer));
      const cli = streams(false);
      cli.stdin.end("big\n");
      const uri = `ws://127.0.0.1:${server.port}/`;
      assert.equal(await runClient(uri, { streams: cli.io, connect: { maxMessageSize: 2 } }), 1);
      // The close frame sent says 1000; the failure that followed, 1009, used to go unreported.
      assert.equal(
        cli.stdout(),
        `Connected to ${uri}.\nConnection closed: sent 1000 (OK), then failed with ` +
          "1009 (message too big) message exceeds limit of 2 bytes; no close frame received.\n",
      );
    },
  );

  it("returns 1 when the connection closes with an error", TIMEOUT, async () => {
    await withServer(
      async () => {
        throw new Error("handler failed");
      },
      async (uri) => {
        const cli = streams(false);
        assert.equal(await runClient(uri, { streams: cli.io }), 1);
        assert.match(cli.stdout(), /\nConnection closed: 1011 \(internal error\)\.\n$/);
      },
    );
  });

  it("prints the URI without its password once connected", TIMEOUT, async () => {
    await withServer(echo, async (uri) => {
      const cli = streams(false);
      cli.stdin.end();
      const withPassword = uri.replace("ws://", "ws://alice:s3cret@");
      assert.equal(await runClient(withPassword, { streams: cli.io }), 0);
      assert.equal(
        cli.stdout(),
        `${uri.replace("ws://", "Connected to ws://alice:***@")}.\nConnection closed: 1000 (OK).\n`,
      );
    });
  });

  it("prints the URI without a token given as user name once connected", TIMEOUT, async () => {
    await withServer(echo, async (uri) => {
      const cli = streams(false);
      cli.stdin.end();
      // `TOKEN:`, with an empty password, as some APIs take a token.
      const withToken = uri.replace("ws://", "ws://SECRETTOKEN:@");
      assert.equal(await runClient(withToken, { streams: cli.io }), 0);
      assert.equal(
        cli.stdout(),
        `${uri.replace("ws://", "Connected to ws://***:***@")}.\nConnection closed: 1000 (OK).\n`,
      );
    });
  });

  it("prints the URI without its password when connecting fails", TIMEOUT, async () => {
    const cli = streams(false);
    // The error quotes the URI as given.
    assert.equal(await runClient("ws://alice:s3cret@127.0.0.1:99999/", { streams: cli.io }), 1);
    assert.equal(
      cli.stderr(),
      "Failed to connect to ws://alice:***@127.0.0.1:99999/: " +
        "ws://alice:***@127.0.0.1:99999/ isn't a valid URI: port out of range.\n",
    );
  });

  it("prints a URI with a user name only without it", TIMEOUT, async () => {
    const cli = streams(false);
    // A token given as the user name: parseUri() refuses it, and the error quotes the URI.
    assert.equal(await runClient("wss://SECRETTOKEN@127.0.0.1:1/", { streams: cli.io }), 1);
    assert.equal(
      cli.stderr(),
      "Failed to connect to wss://***@127.0.0.1:1/: " +
        "wss://***@127.0.0.1:1/ isn't a valid URI: username provided without password.\n",
    );
  });

  it("prints a URI typed without its scheme without its password", TIMEOUT, async () => {
    const cli = streams(false);
    assert.equal(await runClient("alice:s3cret@127.0.0.1:1/", { streams: cli.io }), 1);
    assert.ok(!cli.stderr().includes("s3cret"), cli.stderr());
    assert.match(
      cli.stderr(),
      /^Failed to connect to alice:\*\*\*@127\.0\.0\.1:1\/: alice:\*\*\*@127\.0\.0\.1:1\/ isn't a valid URI: scheme isn't ws or wss\.\n/,
    );
  });

  it("redacts and escapes the Location of a redirect it can't follow", TIMEOUT, async () => {
    let location = "";
    const redirect = async (peer: RawPeer) => {
      await peer.readHead();
      // latin1: a header value may hold obs-text, which includes the C1 CSI 0x9b.
      peer.write(
        Buffer.from(
          `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`,
          "latin1",
        ),
      );
      peer.socket.end();
    };
    await using server = await rawServer((peer) => void redirect(peer));
    const uri = `ws://127.0.0.1:${server.port}/`;
    const cases: [location: string, printed: string][] = [
      // Not a URL at all (port out of range): the error quotes it as sent.
      [
        "ws://user:SECRET@h:99999/\x9b2J",
        `ws://***@h:99999/\\x9b2J isn't a valid URI: invalid redirect location from ${uri}`,
      ],
      // A URL, but not a WebSocket URI: the error quotes it as resolved.
      // Not followed by a hint: the URI given was a ws:// one.
      [
        "ftp://user:SECRET@h/",
        `ftp://***@h/ isn't a valid URI: invalid redirect location from ${uri}: scheme isn't ws, wss, http or https`,
      ],
      [
        "ws://SECRET@h/\x9b2J",
        `ws://***@h/%C2%9B2J isn't a valid URI: invalid redirect location from ${uri}: username provided without password`,
      ],
    ];
    for (const [sent, printed] of cases) {
      location = sent;
      const cli = streams(false);
      assert.equal(await runClient(uri, { streams: cli.io }), 1);
      assert.equal(cli.stderr(), `Failed to connect to ${uri}: ${printed}.\n`, sent);
    }
  });

  it("escapes what it quotes of the body of a refused handshake", TIMEOUT, async () => {
    await using server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      logger: null,
      processRequest: () => ({ status: 403, body: "\x1b]0;owned\x07\x9b2J denied\r\nsecond" }),
    });
    const uri = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const cli = streams(false);
    assert.equal(await runClient(uri, { streams: cli.io }), 1);
    assert.equal(
      cli.stderr(),
      `Failed to connect to ${uri}: server rejected WebSocket connection: HTTP 403: ` +
        '"\\x1b]0;owned\\x07\\x9b2J denied".\n',
    );
  });

  it("returns 1 and writes to stderr when connecting fails", TIMEOUT, async () => {
    const cli = streams(false);
    assert.equal(await runClient("ws://", { streams: cli.io }), 1);
    assert.equal(cli.stdout(), "");
    assert.match(cli.stderr(), /^Failed to connect to ws:\/\/: ws:\/\/ isn't a valid URI: .*\.\n$/);
  });

  it("names the proxy a connection failed through, without its credentials", TIMEOUT, async () => {
    // Port 1 of loopback: nothing listens there, so connecting to the "proxy" is refused.
    const cli = streams(false);
    const connect = { proxy: "http://user:SECRET@127.0.0.1:1" };
    assert.equal(await runClient("ws://127.0.0.1:2/", { streams: cli.io, connect }), 1);
    assert.equal(
      cli.stderr(),
      "Failed to connect to ws://127.0.0.1:2/ through the proxy http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1.\n",
    );
    // Not without a proxy.
    const direct = streams(false);
    assert.equal(await runClient("ws://127.0.0.1:1/", { streams: direct.io, connect: {} }), 1);
    assert.equal(
      direct.stderr(),
      "Failed to connect to ws://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1.\n",
    );
  });
});
