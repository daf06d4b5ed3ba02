import assert from "node:assert/strict";
import { describe, it } from "node:test";
import vm from "node:vm";

import {
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidOrigin,
  InvalidState,
  InvalidStatus,
  InvalidUpgrade,
  NegotiationError,
} from "../../src/core/errors.js";
import type {
  Extension,
  ExtensionParameter,
  ServerExtensionFactory,
} from "../../src/core/extensions/base.js";
import { Frame } from "../../src/core/frame.js";
import { Headers } from "../../src/core/headers.js";
import { Opcode } from "../../src/core/opcodes.js";
import { Request } from "../../src/core/request.js";
import type { Response } from "../../src/core/response.js";
import {
  checkOriginsOption,
  MAX_EXTENSION_OFFERS_TRIED,
  ServerProtocol,
  type ServerProtocolOptions,
} from "../../src/core/server.js";
import { State } from "../../src/core/state.js";
import { concat, hex, splits, toHex, utf8 } from "../helpers/bytes.js";
import { fromPeer } from "../helpers/protocol.js";

const EOF = "";

// RFC 6455 §1.3
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const RFC_HEADERS: [string, string][] = [
  ["Host", "server.example.com"],
  ["Upgrade", "websocket"],
  ["Connection", "Upgrade"],
  ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
  ["Origin", "http://example.com"],
  ["Sec-WebSocket-Protocol", "chat, superchat"],
  ["Sec-WebSocket-Version", "13"],
];

/** An HTTP head from its lines, CRLFs added. */
function head(...lines: string[]): Uint8Array {
  return utf8(`${lines.map((line) => `${line}\r\n`).join("")}\r\n`);
}

/** The bytes of a request: RFC 6455 §1.3's unless told otherwise. */
function requestBytes(headers = RFC_HEADERS, requestLine = "GET /chat HTTP/1.1"): Uint8Array {
  return head(requestLine, ...headers.map(([name, value]) => `${name}: ${value}`));
}

const RFC_REQUEST = requestBytes();

/**
 * RFC 6455 §1.3's headers with `name` changed: removed when `values` is empty,
 * else replaced by one field per value, in place.
 */
function changed(name: string, ...values: string[]): [string, string][] {
  return RFC_HEADERS.flatMap(([n, v]): [string, string][] =>
    n === name ? values.map((value) => [n, value]) : [[n, v]],
  );
}

/** RFC 6455 §1.3's headers plus some. */
function plus(...extra: [string, string][]): [string, string][] {
  return [...RFC_HEADERS, ...extra];
}

/** The text frame "Hello" as a client sends it: masked. */
const HELLO = fromPeer("server", Opcode.TEXT, "Hello");

/** What the protocol wrote, as hex chunks; "" stands for the half-close. */
function written(protocol: ServerProtocol): string[] {
  return protocol.dataToSend().map(toHex);
}

/** Feeds `data` and returns the request it holds. */
function receiveRequest(server: ServerProtocol, data: Uint8Array): Request {
  server.receiveData(data);
  const events = server.eventsReceived();
  assert.equal(events.length, 1);
  const request = events[0];
  assert.ok(request instanceof Request);
  return request;
}

/** A new server's answer to `data`. */
function answer(data: Uint8Array, options: ServerProtocolOptions = {}): [ServerProtocol, Response] {
  const server = new ServerProtocol(options);
  return [server, server.accept(receiveRequest(server, data))];
}

/** Why the handshake failed; a function, so that assertions don't narrow it for good. */
function failure(protocol: ServerProtocol): Error | null {
  return protocol.handshakeExc;
}

/** An extension that claims RSV2: it sets it on frames it sends and clears it on frames it receives. */
class Rsv2Extension implements Extension {
  constructor(
    readonly name: string,
    readonly params: readonly ExtensionParameter[] = [],
  ) {}

  decode(frame: Frame): Frame {
    return new Frame(frame.opcode, frame.data, frame.fin, frame.rsv1, false, frame.rsv3);
  }

  encode(frame: Frame): Frame {
    return new Frame(frame.opcode, frame.data, frame.fin, frame.rsv1, true, frame.rsv3);
  }
}

/** A factory for `name`; `process` answers an offer (by default: accept, echoing its parameters). */
function factory(
  name: string,
  process: ServerExtensionFactory["processRequestParams"] = (params) => [
    [...params],
    new Rsv2Extension(name, params),
  ],
): ServerExtensionFactory {
  return { name, processRequestParams: process };
}

describe("ServerProtocol", () => {
  describe("receiving the request", () => {
    it("parses RFC 6455 §1.3's request, however it is split", () => {
      for (const chunks of splits(RFC_REQUEST)) {
        const server = new ServerProtocol();
        for (const [i, chunk] of chunks.entries()) {
          assert.deepEqual(server.eventsReceived(), [], `before chunk ${i} of ${chunks.length}`);
          server.receiveData(chunk);
        }
        const events = server.eventsReceived();
        assert.equal(events.length, 1, `${chunks.length} chunks`);
        const request = events[0];
        assert.ok(request instanceof Request);
        assert.equal(server.request, request);
        assert.equal(request.method, "GET");
        assert.equal(request.path, "/chat");
        assert.deepEqual([...request.headers], RFC_HEADERS);
        assert.equal(server.state, State.CONNECTING);
        assert.deepEqual(written(server), []);
        assert.equal(server.handshakeExc, null);
      }
    });

    it("starts CONNECTING, as the server side", () => {
      const server = new ServerProtocol();
      assert.equal(server.side, "server");
      assert.equal(server.state, State.CONNECTING);
      assert.equal(server.request, null);
      assert.equal(server.closeExpected(), false);
    });
  });

  describe("accept()", () => {
    it("answers RFC 6455 §1.3's request with 101", () => {
      const [server, response] = answer(RFC_REQUEST);
      assert.equal(response.status, 101);
      assert.equal(response.reason, "Switching Protocols");
      assert.deepEqual(
        [...response.headers],
        [
          ["Upgrade", "websocket"],
          ["Connection", "Upgrade"],
          ["Sec-WebSocket-Accept", ACCEPT],
        ],
      );
      assert.equal(response.body.length, 0);
      assert.equal(server.handshakeExc, null);
      assert.equal(server.subprotocol, null);
      assert.deepEqual(server.extensions, []);
      // accept() only builds the response.
      assert.equal(server.state, State.CONNECTING);
      assert.deepEqual(written(server), []);
    });

    it("accepts Upgrade and Connection in any case and in lists", () => {
      const headers = changed("Connection", "keep-alive, UPGRADE").map(
        ([name, value]): [string, string] =>
          name === "Upgrade" ? ["upgrade", "WebSocket"] : [name, value],
      );
      const [, response] = answer(requestBytes(headers));
      assert.equal(response.status, 101);
    });

    it("accepts a request built by hand", () => {
      const server = new ServerProtocol();
      const response = server.accept(new Request("/", new Headers(RFC_HEADERS)));
      assert.equal(response.status, 101);
      // The server only records a request it received.
      assert.equal(server.request, null);
    });
  });

  describe("sendResponse(101)", () => {
    it("writes the response and opens the connection", () => {
      const [server, response] = answer(RFC_REQUEST);
      server.sendResponse(response);
      assert.equal(server.state, State.OPEN);
      assert.deepEqual(written(server), [
        toHex(
          head(
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            `Sec-WebSocket-Accept: ${ACCEPT}`,
          ),
        ),
      ]);
    });

    it("writes RFC 6455 §1.3's response when it selects a subprotocol", () => {
      const [server, response] = answer(RFC_REQUEST, { subprotocols: ["chat"] });
      server.sendResponse(response);
      assert.deepEqual(written(server), [
        toHex(
          head(
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "Sec-WebSocket-Protocol: chat",
          ),
        ),
      ]);
    });

    it("parses frames that came with the request only after the 101", () => {
      for (const chunks of splits(concat([RFC_REQUEST, HELLO, HELLO]))) {
        const server = new ServerProtocol();
        for (const chunk of chunks) server.receiveData(chunk);
        const [request, ...rest] = server.eventsReceived();
        assert.ok(request instanceof Request);
        assert.deepEqual(rest, [], `${chunks.length} chunks`);
        server.sendResponse(server.accept(request));
        const frames = server.eventsReceived();
        assert.equal(frames.length, 2, `${chunks.length} chunks`);
        for (const frame of frames) {
          assert.ok(frame instanceof Frame);
          assert.equal(frame.opcode, Opcode.TEXT);
          assert.equal(toHex(frame.data), toHex(utf8("Hello")));
        }
      }
    });

    it("holds frames that arrive before the 101 is sent", () => {
      const server = new ServerProtocol();
      const request = receiveRequest(server, RFC_REQUEST);
      server.receiveData(HELLO);
      assert.deepEqual(server.eventsReceived(), []);
      server.sendResponse(server.accept(request));
      const [frame] = server.eventsReceived();
      assert.ok(frame instanceof Frame);
      assert.equal(toHex(frame.data), toHex(utf8("Hello")));
    });

    it("handles the end of the stream that came with the request after the 101", () => {
      const server = new ServerProtocol();
      const request = receiveRequest(server, RFC_REQUEST);
      server.receiveEof();
      assert.equal(server.state, State.CONNECTING);
      server.sendResponse(server.accept(request));
      // No close frame came: the connection is lost (1006) and the server closes TCP.
      const [response, eof] = written(server);
      assert.ok(response!.startsWith(toHex(utf8("HTTP/1.1 101 "))));
      assert.equal(eof, EOF);
      assert.equal(server.state, State.CLOSED);
      assert.equal(server.closeCode, 1006);
    });

    it("sends unmasked frames once open", () => {
      const [server, response] = answer(RFC_REQUEST);
      server.sendResponse(response);
      server.dataToSend();
      server.sendText("Hello");
      assert.deepEqual(written(server), ["810548656c6c6f"]);
    });

    it("can't send a second response", () => {
      const [server, response] = answer(RFC_REQUEST);
      server.sendResponse(response);
      assert.throws(() => server.sendResponse(response), {
        constructor: InvalidState,
        message: "handshake response already sent",
      });
      assert.throws(() => server.sendResponse(server.reject(500, "")), InvalidState);
      assert.equal(server.state, State.OPEN);
    });
  });

  describe("rejecting requests", () => {
    /**
     * Checks what every rejection has in common: the status, the reason, the
     * body, the headers of an error response, the recorded error, and the
     * bytes written by sendResponse, followed by the half-close.
     */
    function assertRejected(
      server: ServerProtocol,
      response: Response,
      status: number,
      reason: string,
      message: string,
      type: abstract new (...args: never[]) => Error,
      extra: [string, string][] = [],
      connection = "close",
    ): void {
      const body = `Failed to open a WebSocket connection: ${message}.\n`;
      assert.equal(response.status, status);
      assert.equal(response.reason, reason);
      assert.equal(response.text, body);
      assert.deepEqual(
        [...response.headers],
        [
          ["Connection", connection],
          ["Content-Length", String(utf8(body).length)],
          ["Content-Type", "text/plain; charset=utf-8"],
          ...extra,
        ],
      );
      const error = failure(server);
      assert.ok(error instanceof type, String(error));
      assert.equal(error.message, message);
      assert.equal(server.closeExpected(), true);

      server.sendResponse(response);
      assert.deepEqual(written(server), [toHex(response.serialize()), EOF]);
      assert.equal(failure(server), error, "sendResponse keeps the reason");
      assert.equal(server.state, State.CONNECTING);
      server.receiveData(HELLO);
      assert.deepEqual(server.eventsReceived(), []);
      server.receiveEof();
      assert.equal(server.state, State.CLOSED);
      assert.deepEqual(written(server), []);
    }

    it("rejects POST with 405 and Allow: GET", () => {
      const [server, response] = answer(requestBytes(RFC_HEADERS, "POST /chat HTTP/1.1"));
      assertRejected(
        server,
        response,
        405,
        "Method Not Allowed",
        "unsupported HTTP method: POST",
        InvalidMessage,
        [["Allow", "GET"]],
      );
      assert.equal((failure(server) as InvalidMessage).status, 405);
    });

    it("rejects a target that names no resource with 400 (RFC 6455 §4.2.1 item 1)", () => {
      for (const [target, shown] of [
        ["localhost:8001", "localhost:8001"],
        ["urn:chat", "urn:chat"],
        ["ftp://h/chat", "ftp://h/chat"],
        ["http:/chat", "http:/chat"],
        // The query stays out of the message, which logs repeat.
        ["mailto:a@b?token=secret", "mailto:a@b"],
      ]) {
        const [server, response] = answer(requestBytes(RFC_HEADERS, `GET ${target} HTTP/1.1`));
        assertRejected(
          server,
          response,
          400,
          "Bad Request",
          `invalid request target: ${JSON.stringify(shown)} names no resource of this server`,
          InvalidMessage,
        );
      }
    });

    it("accepts absolute-form targets of its schemes, with their resource name", () => {
      for (const target of [
        "http://h/chat",
        "HTTPS://h:443/chat?x=1",
        "ws://h",
        "wss://u@h/chat",
      ]) {
        const [server, response] = answer(requestBytes(RFC_HEADERS, `GET ${target} HTTP/1.1`));
        assert.equal(response.status, 101, target);
        assert.equal(server.request?.path, target);
      }
    });

    it("writes the exact bytes of a 405", () => {
      // RFC 9110 §15.5.6: a 405 response MUST carry Allow.
      const [server, response] = answer(requestBytes(RFC_HEADERS, "get /chat HTTP/1.1"));
      server.sendResponse(response);
      assert.deepEqual(written(server), [
        toHex(
          concat([
            head(
              "HTTP/1.1 405 Method Not Allowed",
              "Connection: close",
              "Content-Length: 69",
              "Content-Type: text/plain; charset=utf-8",
              "Allow: GET",
            ),
            utf8("Failed to open a WebSocket connection: unsupported HTTP method: get.\n"),
          ]),
        ),
        EOF,
      ]);
    });

    it("answers a HEAD request with the header fields of its response and no body", () => {
      // RFC 9110 §9.3.2: "The server MUST NOT send content in the response."
      const server = new ServerProtocol();
      receiveRequest(server, requestBytes([["Host", "example.com"]], "HEAD /healthz HTTP/1.1"));
      server.sendResponse(server.reject(200, "OK\n"));
      assert.deepEqual(written(server), [
        toHex(
          head(
            "HTTP/1.1 200 OK",
            "Connection: close",
            "Content-Length: 3",
            "Content-Type: text/plain; charset=utf-8",
          ),
        ),
        EOF,
      ]);
      // The handshake's own answer to HEAD: a 405 without its text.
      const [refused, response] = answer(requestBytes(RFC_HEADERS, "HEAD /chat HTTP/1.1"));
      refused.sendResponse(response);
      const [bytes] = written(refused);
      assert.ok(Buffer.from(bytes!, "hex").toString("latin1").endsWith("Allow: GET\r\n\r\n"));
    });

    it("rejects HTTP/1.0 with 505", () => {
      const [server, response] = answer(requestBytes(RFC_HEADERS, "GET /chat HTTP/1.0"));
      assertRejected(
        server,
        response,
        505,
        "HTTP Version Not Supported",
        "unsupported HTTP version: HTTP/1.0",
        InvalidMessage,
      );
    });

    const badRequests: [string, [string, string][], string, typeof InvalidHeader][] = [
      [
        "a missing Sec-WebSocket-Key",
        changed("Sec-WebSocket-Key"),
        "missing Sec-WebSocket-Key header",
        InvalidHeader,
      ],
      [
        "an empty Sec-WebSocket-Key",
        changed("Sec-WebSocket-Key", ""),
        "empty Sec-WebSocket-Key header",
        InvalidHeaderValue,
      ],
      [
        "a Sec-WebSocket-Key that isn't base64",
        changed("Sec-WebSocket-Key", "not a key!"),
        "invalid Sec-WebSocket-Key header: not a key!",
        InvalidHeaderValue,
      ],
      [
        "a Sec-WebSocket-Key of 15 bytes",
        changed("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"),
        "invalid Sec-WebSocket-Key header: AAAAAAAAAAAAAAAAAAAA",
        InvalidHeaderValue,
      ],
      [
        "multiple Sec-WebSocket-Key",
        changed("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA=="),
        "invalid Sec-WebSocket-Key header: multiple values",
        InvalidHeader,
      ],
      [
        "a missing Sec-WebSocket-Version",
        changed("Sec-WebSocket-Version"),
        "missing Sec-WebSocket-Version header",
        InvalidHeader,
      ],
      [
        "multiple Sec-WebSocket-Version",
        changed("Sec-WebSocket-Version", "13", "13"),
        "invalid Sec-WebSocket-Version header: multiple values",
        InvalidHeader,
      ],
      [
        "a malformed Connection",
        changed("Connection", "Upgrade;"),
        "invalid Connection header: expected comma at 7 in Upgrade;",
        InvalidHeader,
      ],
    ];
    for (const [name, headers, message, type] of badRequests) {
      it(`rejects ${name} with 400`, () => {
        const [server, response] = answer(requestBytes(headers));
        assertRejected(server, response, 400, "Bad Request", message, type);
        assert.ok(!(failure(server) instanceof InvalidUpgrade));
      });
    }

    it("rejects a request without Host with 400", () => {
      const server = new ServerProtocol();
      const response = server.accept(new Request("/chat", new Headers(changed("Host"))));
      assertRejected(server, response, 400, "Bad Request", "missing Host header", InvalidHeader);
    });

    it("rejects a request with multiple Host with 400", () => {
      const server = new ServerProtocol();
      const headers = new Headers(changed("Host", "a.example", "b.example"));
      const response = server.accept(new Request("/chat", headers));
      assertRejected(
        server,
        response,
        400,
        "Bad Request",
        "invalid Host header: multiple values",
        InvalidHeader,
      );
    });

    it('rejects a Host that is not uri-host [ ":" port ] with 400 (RFC 9112 §3.2)', () => {
      for (const host of [
        "a b",
        "x/y?z",
        "<script>",
        "user@host",
        "h:80:80",
        "h:x",
        "[::1",
        "%zz",
      ]) {
        const server = new ServerProtocol();
        const response = server.accept(new Request("/chat", new Headers(changed("Host", host))));
        assertRejected(
          server,
          response,
          400,
          "Bad Request",
          `invalid Host header: ${host}`,
          InvalidHeaderValue,
        );
      }
    });

    it("accepts a Host of any valid form", () => {
      for (const host of [
        "",
        "example.com",
        "example.com.",
        "EXAMPLE.com:8080",
        "127.0.0.1:1",
        "[::1]",
        "[::ffff:127.0.0.1]:443",
        "[v1.fe80::a+en1]",
        "my_host-1.internal:",
        "caf%C3%A9.example",
        "a!$&'()*+,;=~b",
      ]) {
        const server = new ServerProtocol();
        const response = server.accept(new Request("/chat", new Headers(changed("Host", host))));
        assert.equal(response.status, 101, host);
      }
    });

    const upgradeRequired: [string, [string, string][], string][] = [
      ["a missing Upgrade", changed("Upgrade"), "missing Upgrade header"],
      ["a wrong Upgrade", changed("Upgrade", "h2c"), "invalid Upgrade header: h2c"],
      ["a missing Connection", changed("Connection"), "missing Connection header"],
      [
        "a wrong Connection",
        changed("Connection", "keep-alive"),
        "invalid Connection header: keep-alive",
      ],
    ];
    for (const [name, headers, message] of upgradeRequired) {
      it(`rejects ${name} with 426, Upgrade: websocket and Connection: Upgrade`, () => {
        const [server, response] = answer(requestBytes(headers));
        assertRejected(
          server,
          response,
          426,
          "Upgrade Required",
          message,
          InvalidUpgrade,
          [["Upgrade", "websocket"]],
          "Upgrade, close",
        );
      });
    }

    it("rejects version 8 with 426 and Sec-WebSocket-Version: 13", () => {
      const [server, response] = answer(requestBytes(changed("Sec-WebSocket-Version", "8")));
      assertRejected(
        server,
        response,
        426,
        "Upgrade Required",
        "invalid Sec-WebSocket-Version header: 8",
        InvalidHeaderValue,
        [
          ["Upgrade", "websocket"],
          ["Sec-WebSocket-Version", "13"],
        ],
        "Upgrade, close",
      );
    });

    it("writes the exact bytes of a 426", () => {
      const [server, response] = answer(requestBytes(changed("Sec-WebSocket-Version", "8")));
      server.sendResponse(response);
      assert.deepEqual(written(server), [
        toHex(
          concat([
            head(
              "HTTP/1.1 426 Upgrade Required",
              "Connection: Upgrade, close",
              "Content-Length: 80",
              "Content-Type: text/plain; charset=utf-8",
              "Upgrade: websocket",
              "Sec-WebSocket-Version: 13",
            ),
            utf8(
              "Failed to open a WebSocket connection: invalid Sec-WebSocket-Version header: 8.\n",
            ),
          ]),
        ),
        EOF,
      ]);
    });

    describe("origins", () => {
      function origin(
        origins: ServerProtocolOptions["origins"],
        ...values: string[]
      ): [ServerProtocol, Response] {
        return answer(requestBytes(changed("Origin", ...values)), { origins });
      }

      it("accepts any origin, or none, by default", () => {
        assert.equal(origin(undefined, "https://evil.example")[1].status, 101);
        assert.equal(origin(undefined)[1].status, 101);
        assert.equal(origin(null, "https://evil.example")[1].status, 101);
      });

      it("accepts an allowed origin", () => {
        const origins = ["https://example.com", "http://example.com"];
        assert.equal(origin(origins, "http://example.com")[1].status, 101);
      });

      it("compares origins exactly", () => {
        const [server, response] = origin(["https://example.com"], "https://EXAMPLE.com");
        assertRejected(
          server,
          response,
          403,
          "Forbidden",
          "invalid Origin header: https://EXAMPLE.com",
          InvalidOrigin,
        );
      });

      it("rejects an origin not in the list with 403", () => {
        const [server, response] = origin(["https://example.com"], "http://example.com");
        assertRejected(
          server,
          response,
          403,
          "Forbidden",
          "invalid Origin header: http://example.com",
          InvalidOrigin,
        );
      });

      it("rejects a missing Origin with 403 unless null is allowed", () => {
        const [server, response] = origin(["https://example.com"]);
        assertRejected(server, response, 403, "Forbidden", "missing Origin header", InvalidOrigin);
        assert.equal(origin(["https://example.com", null])[1].status, 101);
        assert.equal(origin([null], "https://example.com")[1].status, 403);
      });

      it("matches origins against regular expressions", () => {
        const rules = [/^https:\/\/([a-z]+\.)?example\.com$/];
        assert.equal(origin(rules, "https://example.com")[1].status, 101);
        assert.equal(origin(rules, "https://chat.example.com")[1].status, 101);
        assert.equal(origin(rules, "https://example.com.evil.example")[1].status, 403);
        assert.equal(origin(rules)[1].status, 403);
        assert.equal(origin([...rules, null])[1].status, 101);
      });

      it("rejects multiple Origin with 400", () => {
        const [server, response] = origin(
          ["https://example.com"],
          "https://example.com",
          "https://example.com",
        );
        assertRejected(
          server,
          response,
          400,
          "Bad Request",
          "invalid Origin header: multiple values",
          InvalidHeader,
        );
        assert.ok(!(failure(server) instanceof InvalidOrigin));
      });
    });

    describe("malformed requests", () => {
      /**
       * Feeds `data` and checks that the error response was written at once,
       * before the half-close, and that the server closes when the client does.
       */
      function assertAnswered(
        data: Uint8Array,
        status: number,
        reason: string,
        message: string,
        options: ServerProtocolOptions = {},
      ): void {
        const server = new ServerProtocol(options);
        server.receiveData(data);
        const error = failure(server);
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.equal(error.status, status);
        assert.equal(error.message, message);
        assert.deepEqual(server.eventsReceived(), []);
        assert.equal(server.request, null);
        const body = `Failed to open a WebSocket connection: ${message}.\n`;
        assert.deepEqual(written(server), [
          toHex(
            concat([
              head(
                `HTTP/1.1 ${status} ${reason}`,
                "Connection: close",
                `Content-Length: ${utf8(body).length}`,
                "Content-Type: text/plain; charset=utf-8",
              ),
              utf8(body),
            ]),
          ),
          EOF,
        ]);
        assert.equal(server.state, State.CONNECTING);
        server.receiveData(RFC_REQUEST);
        assert.deepEqual(server.eventsReceived(), []);
        assert.deepEqual(written(server), []);
        server.receiveEof();
        assert.equal(server.state, State.CLOSED);
        assert.deepEqual(written(server), []);
        assert.throws(() => server.sendResponse(server.reject(400, "")), InvalidState);
      }

      it("answers an over-long request line with 414", () => {
        assertAnswered(
          utf8(`GET /${"a".repeat(8192)}`),
          414,
          "URI Too Long",
          "request line too long",
        );
      });

      it("answers an over-long header line with 431", () => {
        assertAnswered(
          concat([RFC_REQUEST.slice(0, -2), utf8(`Cookie: ${"a".repeat(100)}\r\n\r\n`)]),
          431,
          "Request Header Fields Too Large",
          "header line too long",
          { httpLimits: { maxLineLength: 100 } },
        );
      });

      it("answers too many headers with 431", () => {
        const extra = Array.from({ length: 128 }, (_, i): [string, string] => [`X-${i}`, "1"]);
        assertAnswered(
          requestBytes(plus(...extra)),
          431,
          "Request Header Fields Too Large",
          "too many headers",
        );
      });

      it("answers garbage with 400", () => {
        assertAnswered(
          utf8("SSH-2.0-OpenSSH_9.6\r\n"),
          400,
          "Bad Request",
          'malformed request line: "SSH-2.0-OpenSSH_9.6"',
        );
      });

      it("answers a POST with a body with 405 and Allow: GET, reading none of it", () => {
        const server = new ServerProtocol();
        const request = requestBytes(
          [...RFC_HEADERS, ["Content-Length", "5"]],
          "POST /chat HTTP/1.1",
        );
        server.receiveData(concat([request, utf8("hello")]));
        const error = failure(server);
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.equal(error.status, 405);
        assert.equal(error.message, "unsupported HTTP method: POST");
        const [response, eof] = written(server);
        const text = Buffer.from(response!, "hex").toString("latin1");
        assert.match(text, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
        assert.match(text, /\r\nAllow: GET\r\n\r\n/);
        assert.equal(eof, EOF);
        assert.deepEqual(server.eventsReceived(), []);
      });

      it("answers an absolute-form target without host with 400", () => {
        assertAnswered(
          requestBytes(RFC_HEADERS, "GET http:///chat HTTP/1.1"),
          400,
          "Bad Request",
          'invalid request target: "http:///chat" has no host',
        );
      });

      it("lets completeResponse add fields to its answer, before it is written", () => {
        const seen: number[] = [];
        const server = new ServerProtocol({
          completeResponse: (response) => {
            seen.push(response.status);
            response.headers.set("Date", "Thu, 01 Jan 1970 00:00:00 GMT");
          },
        });
        server.receiveData(utf8("GET /chat HTTP/9.9\r\n"));
        assert.deepEqual(seen, [505]);
        const [response] = written(server);
        const text = Buffer.from(response!, "hex").toString("latin1");
        assert.match(text, /\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n/);
        // Not for the responses the caller sends, nor when the client is gone.
        const accepted = new ServerProtocol({ completeResponse: () => seen.push(0) });
        receiveRequest(accepted, RFC_REQUEST);
        accepted.sendResponse(accepted.accept(accepted.request!));
        const gone = new ServerProtocol({ completeResponse: () => seen.push(0) });
        gone.receiveData(utf8("GET /chat HTTP/1.1\r\n"));
        gone.receiveEof();
        assert.deepEqual(seen, [505]);
      });

      it("answers a request without Host with 400", () => {
        assertAnswered(requestBytes(changed("Host")), 400, "Bad Request", "missing Host header");
      });

      it("answers an unknown HTTP version with 505", () => {
        assertAnswered(
          requestBytes(RFC_HEADERS, "GET /chat HTTP/2.0"),
          505,
          "HTTP Version Not Supported",
          "unsupported HTTP version: HTTP/2.0",
        );
      });

      for (const [name, data] of [
        ["before any byte", new Uint8Array(0)],
        ["in the request line", utf8("GET /chat HT")],
        ["in the headers", RFC_REQUEST.slice(0, -2)],
      ] as const) {
        it(`half-closes without answering when the connection ends ${name}`, () => {
          const server = new ServerProtocol();
          server.receiveData(data);
          assert.equal(failure(server), null);
          server.receiveEof();
          const error = failure(server);
          assert.ok(error instanceof InvalidMessage, String(error));
          assert.equal(error.message, "connection closed while reading HTTP request");
          assert.deepEqual(written(server), [EOF]);
          assert.deepEqual(server.eventsReceived(), []);
          assert.equal(server.state, State.CLOSED);
        });
      }
    });

    describe("server errors", () => {
      const body = "Failed to open a WebSocket connection.\nSee server log for more information.\n";

      function assertInternalError(server: ServerProtocol, response: Response): Error {
        assert.equal(response.status, 500);
        assert.equal(response.reason, "Internal Server Error");
        assert.equal(response.text, body);
        assert.equal(response.headers.get("Content-Length"), String(body.length));
        const error = failure(server);
        assert.ok(error instanceof Error);
        assert.ok(!(error instanceof InvalidHandshake));
        assert.equal(server.subprotocol, null);
        assert.deepEqual(server.extensions, []);
        server.sendResponse(response);
        assert.deepEqual(written(server), [toHex(response.serialize()), EOF]);
        return error;
      }

      it("answers 500 when selectSubprotocol returns one the client didn't offer", () => {
        const [server, response] = answer(RFC_REQUEST, { selectSubprotocol: () => "other" });
        const error = assertInternalError(server, response);
        assert.equal(
          error.message,
          "selectSubprotocol returned other, which the client did not offer",
        );
      });

      it("answers 500 when selectSubprotocol throws", () => {
        const bug = new RangeError("boom");
        const [server, response] = answer(RFC_REQUEST, {
          selectSubprotocol: () => {
            throw bug;
          },
        });
        assert.equal(assertInternalError(server, response), bug);
      });

      it("answers 500 when something other than an Error is thrown", () => {
        const [server, response] = answer(RFC_REQUEST, {
          selectSubprotocol: () => {
            throw "boom";
          },
        });
        const error = assertInternalError(server, response);
        assert.equal(error.message, "boom");
        assert.equal(error.cause, "boom");
      });

      it("answers 500 when an extension factory throws something other than NegotiationError", () => {
        const bug = new TypeError("params is not iterable");
        const [server, response] = answer(
          requestBytes(plus(["Sec-WebSocket-Extensions", "x-test"])),
          {
            extensions: [
              factory("x-test", () => {
                throw bug;
              }),
            ],
          },
        );
        assert.equal(assertInternalError(server, response), bug);
      });
    });
  });

  describe("subprotocol negotiation", () => {
    function negotiate(
      offered: string[],
      options: ServerProtocolOptions,
    ): [ServerProtocol, Response] {
      const headers = changed("Sec-WebSocket-Protocol", ...offered);
      return answer(requestBytes(headers), options);
    }

    it("selects none when the server has none", () => {
      const [server, response] = negotiate(["chat"], {});
      assert.equal(response.status, 101);
      assert.equal(response.headers.has("Sec-WebSocket-Protocol"), false);
      assert.equal(server.subprotocol, null);
    });

    it("selects the server's preferred subprotocol among those offered", () => {
      const [server, response] = negotiate(["chat, superchat"], {
        subprotocols: ["superchat", "chat"],
      });
      assert.equal(response.status, 101);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Protocol"), ["superchat"]);
      assert.equal(server.subprotocol, "superchat");
    });

    it("reads offers from several fields", () => {
      const [server] = negotiate(["chat", "superchat"], { subprotocols: ["other", "superchat"] });
      assert.equal(server.subprotocol, "superchat");
    });

    it("rejects a client that offers none with 400", () => {
      const [server, response] = negotiate([], { subprotocols: ["chat"] });
      assert.equal(response.status, 400);
      assert.equal(response.text, "Failed to open a WebSocket connection: missing subprotocol.\n");
      assert.ok(failure(server) instanceof NegotiationError);
      assert.equal(server.subprotocol, null);
    });

    it("rejects a client that offers none the server supports with 400", () => {
      const [server, response] = negotiate(["v1.chat"], { subprotocols: ["v2.chat", "v3.chat"] });
      assert.equal(response.status, 400);
      assert.equal(
        response.text,
        "Failed to open a WebSocket connection: invalid subprotocol; expected one of v2.chat, v3.chat.\n",
      );
      assert.ok(failure(server) instanceof NegotiationError);
    });

    it("rejects a malformed Sec-WebSocket-Protocol with 400", () => {
      const [server, response] = negotiate(["chat,,super chat"], { subprotocols: ["chat"] });
      assert.equal(response.status, 400);
      assert.ok(failure(server) instanceof InvalidHeader);
    });

    it("lets selectSubprotocol choose among the offers, given the request", () => {
      const calls: [readonly string[], Request][] = [];
      const server = new ServerProtocol({
        subprotocols: ["chat"],
        selectSubprotocol: (offered, request) => {
          calls.push([offered, request]);
          return offered.at(-1) ?? null;
        },
      });
      const request = receiveRequest(server, RFC_REQUEST);
      const response = server.accept(request);
      assert.deepEqual(calls, [[["chat", "superchat"], request]]);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Protocol"), ["superchat"]);
      assert.equal(server.subprotocol, "superchat");
    });

    it("sends no Sec-WebSocket-Protocol when selectSubprotocol returns null", () => {
      const [server, response] = negotiate(["chat"], {
        subprotocols: ["chat"],
        selectSubprotocol: () => null,
      });
      assert.equal(response.status, 101);
      assert.equal(response.headers.has("Sec-WebSocket-Protocol"), false);
      assert.equal(server.subprotocol, null);
    });

    it("calls selectSubprotocol even when the client offers none", () => {
      let seen: readonly string[] | null = null;
      const [, response] = negotiate([], {
        selectSubprotocol: (offered) => {
          seen = offered;
          return null;
        },
      });
      assert.equal(response.status, 101);
      assert.deepEqual(seen, []);
    });
  });

  describe("extension negotiation", () => {
    function negotiate(
      offers: string[],
      extensions: ServerExtensionFactory[],
    ): [ServerProtocol, Response] {
      const headers = plus(
        ...offers.map((offer): [string, string] => ["Sec-WebSocket-Extensions", offer]),
      );
      return answer(requestBytes(headers), { extensions });
    }

    it("accepts an offered extension and answers with its parameters", () => {
      const [server, response] = negotiate(["x-test; foo=1; bar"], [factory("x-test")]);
      assert.equal(response.status, 101);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), ["x-test; foo=1; bar"]);
      assert.equal(server.extensions.length, 1);
      const extension = server.extensions[0] as Rsv2Extension;
      assert.equal(extension.name, "x-test");
      assert.deepEqual(extension.params, [
        ["foo", "1"],
        ["bar", null],
      ]);
    });

    it("runs frames through the negotiated extension, which may use RSV2", () => {
      const [server, response] = negotiate(["x-test"], [factory("x-test")]);
      server.sendResponse(response);
      server.dataToSend();
      // "Hello" with RSV2, masked with 37 fa 21 3d.
      server.receiveData(hex("a1 85 37 fa 21 3d 7f 9f 4d 51 58"));
      const [frame] = server.eventsReceived();
      assert.ok(frame instanceof Frame);
      assert.equal(frame.rsv2, false);
      assert.equal(toHex(frame.data), toHex(utf8("Hello")));
      server.sendText("Hello");
      assert.deepEqual(written(server), ["a10548656c6c6f"]);
    });

    it("ignores offers when it supports no extension", () => {
      const [server, response] = negotiate(["x-test"], []);
      assert.equal(response.status, 101);
      assert.equal(response.headers.has("Sec-WebSocket-Extensions"), false);
      assert.deepEqual(server.extensions, []);
    });

    it("ignores offers of extensions it doesn't support", () => {
      const [server, response] = negotiate(["x-unknown, x-other; a"], [factory("x-test")]);
      assert.equal(response.status, 101);
      assert.equal(response.headers.has("Sec-WebSocket-Extensions"), false);
      assert.deepEqual(server.extensions, []);
    });

    it("ignores a request without Sec-WebSocket-Extensions", () => {
      const [server, response] = negotiate([], [factory("x-test")]);
      assert.equal(response.headers.has("Sec-WebSocket-Extensions"), false);
      assert.deepEqual(server.extensions, []);
    });

    it("tries the next factory with the same name when one declines", () => {
      const declining = factory("x-test", () => {
        throw new NegotiationError("not this one");
      });
      const accepting = factory("x-test", () => [[["mode", "b"]], new Rsv2Extension("x-test")]);
      const [server, response] = negotiate(["x-test"], [declining, accepting]);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), ["x-test; mode=b"]);
      assert.equal(server.extensions.length, 1);
    });

    it("declines an offer that every factory declines", () => {
      const declining = factory("x-test", () => {
        throw new NegotiationError("no");
      });
      const [server, response] = negotiate(["x-test"], [declining]);
      assert.equal(response.status, 101);
      assert.equal(response.headers.has("Sec-WebSocket-Extensions"), false);
      assert.deepEqual(server.extensions, []);
    });

    it("accepts the first of several offers of one extension that it can honour", () => {
      // The factory declines a second instance of itself, like permessage-deflate.
      const once = factory("x-test", (params, accepted) => {
        if (accepted.some((extension) => extension.name === "x-test")) {
          throw new NegotiationError("already accepted");
        }
        if (params.some(([name]) => name === "foo")) throw new NegotiationError("foo unsupported");
        return [[...params], new Rsv2Extension("x-test", params)];
      });
      const [server, response] = negotiate(["x-test; foo, x-test; bar", "x-test"], [once]);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), ["x-test; bar"]);
      assert.deepEqual(
        server.extensions.map((extension) => (extension as Rsv2Extension).params),
        [[["bar", null]]],
      );
    });

    it("puts no further offer of an accepted extension to its factory", () => {
      let calls = 0;
      const counting = factory("x-test", (params) => {
        calls++;
        return [[...params], new Rsv2Extension("x-test", params)];
      });
      const [server, response] = negotiate(["x-test; a=1, x-test; a=2", "x-test; a=3"], [counting]);
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), ["x-test; a=1"]);
      assert.equal(server.extensions.length, 1);
      assert.equal(calls, 1);
    });

    it(`puts at most ${MAX_EXTENSION_OFFERS_TRIED} offers to the factories`, () => {
      let calls = 0;
      const picky = factory("x-test", (params) => {
        calls++;
        if (params.length > 0) throw new NegotiationError("declined");
        return [[], new Rsv2Extension("x-test", params)];
      });
      // Hundreds of offers the factory declines, each with a thrown error:
      // only the first few are tried, and the acceptable one after them is not.
      const offers = Array.from({ length: 500 }, () => "x-test; no").join(", ");
      const [server, response] = negotiate([offers, "x-test"], [picky]);
      assert.equal(response.status, 101);
      assert.equal(calls, MAX_EXTENSION_OFFERS_TRIED);
      assert.equal(response.headers.has("Sec-WebSocket-Extensions"), false);
      assert.equal(server.extensions.length, 0);
      // Offers of extensions without a factory cost no tries.
      calls = 0;
      const unknown = Array.from({ length: 100 }, () => "x-unknown").join(", ");
      const [, accepting] = negotiate([unknown, "x-test"], [picky]);
      assert.deepEqual(accepting.headers.getAll("Sec-WebSocket-Extensions"), ["x-test"]);
      assert.equal(calls, 1);
    });

    it("accepts several extensions in the client's order, each seeing the previous ones", () => {
      const seen: string[][] = [];
      const record = (name: string) =>
        factory(name, (params, accepted) => {
          seen.push(accepted.map((extension) => extension.name));
          return [[...params], new Rsv2Extension(name, params)];
        });
      const [server, response] = negotiate(
        ["x-other; a=1", "x-test"],
        [record("x-test"), record("x-other")],
      );
      assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), [
        "x-other; a=1, x-test",
      ]);
      assert.deepEqual(
        server.extensions.map((extension) => extension.name),
        ["x-other", "x-test"],
      );
      assert.deepEqual(seen, [[], ["x-other"]]);
    });

    it("rejects a malformed Sec-WebSocket-Extensions with 400", () => {
      const [server, response] = negotiate(["x-test; =1"], [factory("x-test")]);
      assert.equal(response.status, 400);
      assert.ok(failure(server) instanceof InvalidHeader);
    });

    it("negotiates nothing when the subprotocol negotiation fails", () => {
      const headers = plus(["Sec-WebSocket-Extensions", "x-test"]);
      const [server, response] = answer(requestBytes(headers), {
        extensions: [factory("x-test")],
        subprotocols: ["other"],
      });
      assert.equal(response.status, 400);
      assert.deepEqual(server.extensions, []);
    });
  });

  describe("reject()", () => {
    it("builds a plain text error response", () => {
      const server = new ServerProtocol();
      const response = server.reject(401, "Unauthorized.\n");
      assert.equal(
        toHex(response.serialize()),
        toHex(
          utf8(
            "HTTP/1.1 401 Unauthorized\r\n" +
              "Connection: close\r\n" +
              "Content-Length: 14\r\n" +
              "Content-Type: text/plain; charset=utf-8\r\n" +
              "\r\n" +
              "Unauthorized.\n",
          ),
        ),
      );
      // reject() only builds the response.
      assert.equal(server.handshakeExc, null);
      assert.deepEqual(written(server), []);
    });

    it("counts Content-Length in bytes of UTF-8", () => {
      const response = new ServerProtocol().reject(503, "Désolé ☕");
      assert.equal(response.headers.get("Content-Length"), "12");
      assert.equal(toHex(response.body), toHex(utf8("Désolé ☕")));
    });

    it("leaves the reason empty for a status it doesn't know", () => {
      const response = new ServerProtocol().reject(418, "");
      assert.equal(response.reason, "");
      assert.deepEqual(response.headers.getAll("Content-Length"), ["0"]);
      assert.equal(toHex(response.serialize().subarray(0, 15)), toHex(utf8("HTTP/1.1 418 \r\n")));
    });
  });

  describe("sendResponse() with another status", () => {
    it("records InvalidStatus, half-closes, discards data and closes on EOF", () => {
      const server = new ServerProtocol();
      const request = receiveRequest(server, concat([RFC_REQUEST, HELLO]));
      assert.equal(server.accept(request).status, 101);
      const response = server.reject(401, "Unauthorized.\n");
      server.sendResponse(response);
      const error = failure(server);
      assert.ok(error instanceof InvalidStatus, String(error));
      assert.equal(error.response, response);
      assert.equal(error.message, "server rejected WebSocket connection: HTTP 401");
      assert.equal(server.closeExpected(), true);
      assert.deepEqual(written(server), [toHex(response.serialize()), EOF]);
      assert.equal(server.state, State.CONNECTING);
      server.receiveData(HELLO);
      assert.deepEqual(server.eventsReceived(), []);
      server.receiveEof();
      assert.equal(server.state, State.CLOSED);
      assert.deepEqual(written(server), []);
    });

    it("closes at once when the client already half-closed", () => {
      const server = new ServerProtocol();
      receiveRequest(server, RFC_REQUEST);
      server.receiveEof();
      server.sendResponse(server.reject(503, ""));
      assert.ok(failure(server) instanceof InvalidStatus);
      assert.equal(server.state, State.CLOSED);
      assert.equal(written(server).at(-1), EOF);
    });
  });
});

describe("ServerProtocol retention", () => {
  /** The request parser a server holds, which it should drop once done with it. */
  function parserOf(server: ServerProtocol): unknown {
    return (server as unknown as { requestParser: unknown }).requestParser;
  }

  it("releases the request parser once the request is parsed, keeping the request", () => {
    const server = new ServerProtocol();
    assert.notEqual(parserOf(server), null);
    const request = receiveRequest(server, RFC_REQUEST);
    assert.equal(parserOf(server), null);
    server.sendResponse(server.accept(request));
    assert.equal(server.state, State.OPEN);
    assert.equal(server.request, request);
    assert.equal(server.request?.path, "/chat");
    assert.equal(server.request?.headers.get("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
    // Frames still parse without the request parser.
    server.receiveData(fromPeer("server", Opcode.TEXT, "hi"));
    const [frame] = server.eventsReceived();
    assert.ok(frame instanceof Frame);
    assert.equal(new TextDecoder().decode(frame.data), "hi");
  });

  it("doesn't parse a second request from bytes that arrive before the answer", () => {
    const server = new ServerProtocol();
    const request = receiveRequest(server, RFC_REQUEST);
    server.receiveData(fromPeer("server", Opcode.BINARY, "x"));
    assert.deepEqual(server.eventsReceived(), []);
    server.sendResponse(server.accept(request));
    const [frame] = server.eventsReceived();
    assert.ok(frame instanceof Frame);
    assert.equal(frame.opcode, Opcode.BINARY);
  });

  it("releases the request parser after a malformed request", () => {
    const server = new ServerProtocol();
    server.receiveData(utf8("NOT HTTP\r\n\r\n"));
    assert.equal(parserOf(server), null);
    assert.ok(failure(server) instanceof InvalidMessage);
    server.receiveData(RFC_REQUEST);
    assert.deepEqual(server.eventsReceived(), []);
  });

  it("creates no request parser for a connection opened elsewhere", () => {
    const server = new ServerProtocol({ state: State.OPEN });
    assert.equal(parserOf(server), null);
  });

  it("shares a frozen empty extension list until some are negotiated", () => {
    const [plain] = answer(RFC_REQUEST);
    assert.equal(plain.extensions.length, 0);
    assert.ok(Object.isFrozen(plain.extensions));
    const [other] = answer(RFC_REQUEST);
    assert.equal(other.extensions, plain.extensions);
    const [negotiated] = answer(requestBytes(plus(["Sec-WebSocket-Extensions", "x-test"])), {
      extensions: [factory("x-test")],
    });
    assert.equal(negotiated.extensions.length, 1);
    assert.ok(!Object.isFrozen(negotiated.extensions));
  });

  it("returns shared frozen arrays when there is nothing to return", () => {
    const server = new ServerProtocol();
    const events = server.eventsReceived();
    const writes = server.dataToSend();
    assert.deepEqual(events, []);
    assert.deepEqual(writes, []);
    assert.ok(Object.isFrozen(events) && Object.isFrozen(writes));
    assert.equal(server.eventsReceived(), events);
    assert.equal(server.dataToSend(), writes);
    assert.throws(() => (events as unknown[]).push(1), TypeError);
    assert.throws(() => (writes as unknown[]).push(1), TypeError);
    // What arrives later comes in arrays of its own, not in the shared ones.
    const request = receiveRequest(server, RFC_REQUEST);
    server.sendResponse(server.accept(request));
    const response = server.dataToSend();
    assert.equal(response.length, 1);
    assert.ok(!Object.isFrozen(response));
    assert.deepEqual(events, []);
    assert.deepEqual(writes, []);
  });

  it("keeps long values and targets intact whether the head arrives whole or in pieces", () => {
    const long = "a-rather-long-value-that-is-copied";
    const data = requestBytes(plus(["X-Long", long]), "GET /a/long/request/target?x=1 HTTP/1.1");
    for (const chunks of [[data], [...data].map((byte) => Uint8Array.of(byte))]) {
      const server = new ServerProtocol();
      for (const chunk of chunks) server.receiveData(chunk);
      const [request] = server.eventsReceived();
      assert.ok(request instanceof Request);
      assert.equal(request.path, "/a/long/request/target?x=1");
      assert.equal(request.method, "GET");
      assert.equal(request.version, "HTTP/1.1");
      assert.equal(request.headers.get("x-long"), long);
      assert.equal(request.headers.get("Host"), "server.example.com");
      assert.equal(request.headers.get("Origin"), "http://example.com");
    }
  });
});

describe("checkOriginsOption", () => {
  const EXPECTED =
    'origins must be an array of origins (strings such as "https://example.com", regular expressions, or null for no Origin header)';

  it("takes undefined, null and arrays of strings, regular expressions and null", () => {
    checkOriginsOption(undefined);
    checkOriginsOption(null);
    checkOriginsOption([]);
    checkOriginsOption(["https://example.com", /^https:\/\/[a-z]+\.example\.com$/, null]);
    // A regular expression of another realm (a vm context) works with new RegExp() too.
    checkOriginsOption([vm.runInNewContext("/^https:\\/\\/a\\.example$/")]);
  });

  it("refuses a single origin and other values with a TypeError naming them", () => {
    const cases: [unknown, string][] = [
      ["https://example.com", `${EXPECTED}; got "https://example.com"`],
      [/example/, `${EXPECTED}; got a RegExp`],
      [new Set(["https://example.com"]), `${EXPECTED}; got a Set`],
      [["https://example.com", 42], `${EXPECTED}; item 1 is 42`],
      [[undefined], `${EXPECTED}; item 0 is undefined`],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => checkOriginsOption(value), { name: "TypeError", message });
    }
  });
});
