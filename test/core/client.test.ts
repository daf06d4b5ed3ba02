import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ClientProtocol, type ClientProtocolOptions } from "../../src/core/client.js";
import {
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidStatus,
  InvalidUpgrade,
  NegotiationError,
} from "../../src/core/errors.js";
import type {
  ClientExtensionFactory,
  Extension,
  ExtensionParameter,
} from "../../src/core/extensions/base.js";
import { Frame } from "../../src/core/frame.js";
import { isValidKey } from "../../src/core/handshake.js";
import { Opcode } from "../../src/core/opcodes.js";
import { Response } from "../../src/core/response.js";
import { State } from "../../src/core/state.js";
import { parseUri } from "../../src/core/uri.js";
import { concat, hex, splits, toHex, utf8 } from "../helpers/bytes.js";
import { MASK } from "../helpers/protocol.js";
import {
  GO_BODY,
  NGINX_ANSWER,
  NGINX_BODY,
  TLS_EXPECTED_ANSWERS,
} from "../helpers/tls-expected.js";

// RFC 6455 §1.3
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const EOF = "";

/** An unmasked text frame "Hello", as a server sends it (RFC 6455 §5.7). */
const HELLO = hex("81 05 48 65 6c 6c 6f");

/** A client whose Sec-WebSocket-Key is RFC 6455 §1.3's, so that bytes match the RFC. */
function client(uri = "ws://example.com/chat", options: ClientProtocolOptions = {}) {
  const protocol = new ClientProtocol(uri, { maskKeyGenerator: () => MASK, ...options });
  return Object.assign(protocol, { key: KEY });
}

/** An HTTP head from its lines, CRLFs added. */
function head(...lines: string[]): Uint8Array {
  return utf8(`${lines.map((line) => `${line}\r\n`).join("")}\r\n`);
}

const SWITCHING = [
  "HTTP/1.1 101 Switching Protocols",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Accept: ${ACCEPT}`,
];

/** The 101 response to {@link client}, with extra header lines. */
function switching(...extra: string[]): Uint8Array {
  return head(...SWITCHING, ...extra);
}

/** What the protocol wrote, as hex chunks; "" stands for the half-close. */
function written(protocol: ClientProtocol): string[] {
  return protocol.dataToSend().map(toHex);
}

/** Why the handshake failed; a function, so that assertions don't narrow it for good. */
function failure(protocol: ClientProtocol): Error | null {
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

/** A factory offering `name` with `offer`; `answer` builds the extension from the response. */
function factory(
  name: string,
  offer: ExtensionParameter[] = [],
  answer: ClientExtensionFactory["processResponseParams"] = (params) =>
    new Rsv2Extension(name, params),
): ClientExtensionFactory {
  return { name, getRequestParams: () => offer, processResponseParams: answer };
}

describe("ClientProtocol", () => {
  describe("connect()", () => {
    it("builds the opening handshake request", () => {
      const request = client().connect();
      assert.equal(request.method, "GET");
      assert.equal(request.path, "/chat");
      assert.equal(request.version, "HTTP/1.1");
      assert.deepEqual(
        [...request.headers],
        [
          ["Host", "example.com"],
          ["Upgrade", "websocket"],
          ["Connection", "Upgrade"],
          ["Sec-WebSocket-Key", KEY],
          ["Sec-WebSocket-Version", "13"],
        ],
      );
    });

    it("requests the path and the query", () => {
      assert.equal(
        client("ws://example.com/chat?room=1&x=%20").connect().path,
        "/chat?room=1&x=%20",
      );
      assert.equal(client("ws://example.com").connect().path, "/");
    });

    const hosts: [string, string][] = [
      ["ws://example.com/", "example.com"],
      ["ws://example.com:80/", "example.com"],
      ["ws://example.com:8080/", "example.com:8080"],
      ["wss://example.com/", "example.com"],
      ["wss://example.com:443/", "example.com"],
      ["wss://example.com:80/", "example.com:80"],
      ["ws://EXAMPLE.com/", "example.com"],
      ["ws://127.0.0.1:8000/", "127.0.0.1:8000"],
      ["ws://[::1]/", "[::1]"],
      ["ws://[2001:db8::1]:8080/", "[2001:db8::1]:8080"],
      ["wss://[::1]:443/", "[::1]"],
    ];
    for (const [uri, host] of hosts) {
      it(`sends Host: ${host} for ${uri}`, () => {
        assert.equal(client(uri).connect().headers.get("Host"), host);
      });
    }

    it("accepts a parsed URI", () => {
      const protocol = new ClientProtocol(parseUri("ws://example.com:8080/chat"));
      const request = protocol.connect();
      assert.equal(request.path, "/chat");
      assert.equal(request.headers.get("Host"), "example.com:8080");
    });

    it("sends Authorization when the URI has user info, and not in Host", () => {
      const request = client("ws://user:pass@example.com/").connect();
      assert.deepEqual(request.headers.getAll("Authorization"), ["Basic dXNlcjpwYXNz"]);
      assert.equal(request.headers.get("Host"), "example.com");
    });

    it("sends percent-decoded, UTF-8 encoded credentials", () => {
      const request = client("ws://Aladdin:open%20sesame@example.com/").connect();
      assert.equal(request.headers.get("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
      const unicode = client("ws://caf%C3%A9:%E2%82%AC@example.com/").connect();
      // base64 of 63 61 66 c3 a9 3a e2 82 ac
      assert.equal(unicode.headers.get("Authorization"), "Basic Y2Fmw6k64oKs");
    });

    it("sends an empty password for a parsed URI that has none", () => {
      const uri = { ...parseUri("ws://example.com/"), username: "user", password: null };
      const request = new ClientProtocol(uri).connect();
      // base64 of "user:"
      assert.equal(request.headers.get("Authorization"), "Basic dXNlcjo=");
    });

    it("sends no Authorization without user info", () => {
      assert.equal(client().connect().headers.has("Authorization"), false);
    });

    it("sends Origin when given", () => {
      const request = client("ws://example.com/", { origin: "https://example.com" }).connect();
      assert.deepEqual(request.headers.getAll("Origin"), ["https://example.com"]);
      assert.equal(client().connect().headers.has("Origin"), false);
      assert.equal(
        client("ws://example.com/", { origin: null }).connect().headers.has("Origin"),
        false,
      );
    });

    it("offers the extensions of its factories, in order", () => {
      const extensions = [
        factory("x-test", [
          ["foo", "1"],
          ["bar", null],
        ]),
        factory("x-other"),
      ];
      const request = client("ws://example.com/", { extensions }).connect();
      assert.deepEqual(request.headers.getAll("Sec-WebSocket-Extensions"), [
        "x-test; foo=1; bar, x-other",
      ]);
    });

    it("offers its subprotocols, in order", () => {
      const request = client("ws://example.com/", {
        subprotocols: ["chat", "superchat"],
      }).connect();
      assert.deepEqual(request.headers.getAll("Sec-WebSocket-Protocol"), ["chat, superchat"]);
    });

    it("refuses subprotocols that are not an array of strings with a TypeError", () => {
      // A string alone would pass for the list of its characters.
      for (const [value, shown] of [
        ["chat", 'got "chat"'],
        [["chat", 1], "item 1 is 1"],
        [[null], "item 0 is null"],
        [new Set(["chat"]), "got a Set"],
      ] as const) {
        assert.throws(() => client("ws://example.com/", { subprotocols: value as never }), {
          name: "TypeError",
          message: `subprotocols must be an array of strings, such as ["chat"]; ${shown}`,
        });
      }
    });

    it("offers no extensions or subprotocols when it has none", () => {
      const headers = client("ws://example.com/", { extensions: [], subprotocols: [] }).connect()
        .headers;
      assert.equal(headers.has("Sec-WebSocket-Extensions"), false);
      assert.equal(headers.has("Sec-WebSocket-Protocol"), false);
    });

    it("uses a new random key for each connection", () => {
      const first = new ClientProtocol("ws://example.com/");
      const second = new ClientProtocol("ws://example.com/");
      assert.ok(isValidKey(first.key));
      assert.ok(isValidKey(second.key));
      assert.notEqual(first.key, second.key);
      assert.equal(first.connect().headers.get("Sec-WebSocket-Key"), first.key);
    });

    it("starts CONNECTING, with nothing to send and no events", () => {
      const protocol = client();
      assert.equal(protocol.state, State.CONNECTING);
      assert.equal(protocol.side, "client");
      assert.deepEqual(written(protocol), []);
      assert.deepEqual(protocol.eventsReceived(), []);
    });
  });

  describe("sendRequest()", () => {
    it("writes RFC 6455 §1.3's request", () => {
      const protocol = client("ws://server.example.com/chat", {
        origin: "http://example.com",
        subprotocols: ["chat", "superchat"],
      });
      protocol.sendRequest(protocol.connect());
      assert.deepEqual(written(protocol), [
        toHex(
          head(
            "GET /chat HTTP/1.1",
            "Host: server.example.com",
            "Origin: http://example.com",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: chat, superchat",
          ),
        ),
      ]);
      assert.equal(protocol.state, State.CONNECTING);
    });

    it("writes headers the I/O layer added", () => {
      const protocol = client("ws://example.com:8080/");
      const request = protocol.connect();
      request.headers.set("User-Agent", "websockets-ts/0.1.0");
      protocol.sendRequest(request);
      assert.deepEqual(written(protocol), [
        toHex(
          head(
            "GET / HTTP/1.1",
            "Host: example.com:8080",
            "Upgrade: websocket",
            "Connection: Upgrade",
            `Sec-WebSocket-Key: ${KEY}`,
            "Sec-WebSocket-Version: 13",
            "User-Agent: websockets-ts/0.1.0",
          ),
        ),
      ]);
    });
  });

  describe("receiving the response", () => {
    it("opens on a 101 response, however it is split", () => {
      for (const chunks of splits(switching())) {
        const protocol = client();
        for (const [i, chunk] of chunks.entries()) {
          assert.equal(protocol.state, State.CONNECTING, `before chunk ${i} of ${chunks.length}`);
          protocol.receiveData(chunk);
        }
        assert.equal(protocol.state, State.OPEN, `${chunks.length} chunks`);
        const events = protocol.eventsReceived();
        assert.equal(events.length, 1);
        const response = events[0];
        assert.ok(response instanceof Response);
        assert.equal(response.status, 101);
        assert.equal(response.reason, "Switching Protocols");
        assert.equal(response.headers.get("Sec-WebSocket-Accept"), ACCEPT);
        assert.deepEqual(written(protocol), []);
        assert.equal(protocol.handshakeExc, null);
        assert.equal(protocol.closeExpected(), false);
        assert.deepEqual(protocol.extensions, []);
        assert.equal(protocol.subprotocol, null);
      }
    });

    it("emits no event before the end of the response", () => {
      const protocol = client();
      const response = switching();
      protocol.receiveData(response.slice(0, -1));
      assert.deepEqual(protocol.eventsReceived(), []);
      assert.equal(protocol.state, State.CONNECTING);
    });

    it("accepts RFC 6455 §1.3's response, selecting the subprotocol", () => {
      const protocol = client("ws://server.example.com/chat", {
        subprotocols: ["chat", "superchat"],
      });
      protocol.receiveData(switching("Sec-WebSocket-Protocol: chat"));
      assert.equal(protocol.state, State.OPEN);
      assert.equal(protocol.subprotocol, "chat");
    });

    it("accepts Upgrade and Connection in any case and in lists", () => {
      const protocol = client();
      protocol.receiveData(
        head(
          "HTTP/1.1 101 Switching Protocols",
          "upgrade: WebSocket",
          "connection: keep-alive, UPGRADE",
          `sec-websocket-accept: ${ACCEPT}`,
        ),
      );
      assert.equal(protocol.state, State.OPEN);
    });

    it("parses frames that follow the response in the same chunk, however it is split", () => {
      for (const chunks of splits(concat([switching(), HELLO, HELLO]))) {
        const protocol = client();
        for (const chunk of chunks) protocol.receiveData(chunk);
        const [response, ...frames] = protocol.eventsReceived();
        assert.ok(response instanceof Response);
        assert.equal(frames.length, 2, `${chunks.length} chunks`);
        for (const frame of frames) {
          assert.ok(frame instanceof Frame);
          assert.equal(frame.opcode, Opcode.TEXT);
          assert.equal(toHex(frame.data), toHex(utf8("Hello")));
        }
      }
    });

    // RFC 9110 §15.2: 1xx responses before the final one are parsed and ignored.
    const EARLY_HINTS = head("HTTP/1.1 103 Early Hints", "Link: </app.css>; rel=preload");
    const CONTINUE = head("HTTP/1.1 100 Continue");

    it("skips interim 1xx responses before the 101, however they are split", () => {
      for (const chunks of splits(concat([EARLY_HINTS, CONTINUE, switching(), HELLO]))) {
        const protocol = client();
        for (const chunk of chunks) protocol.receiveData(chunk);
        assert.equal(protocol.state, State.OPEN, `${chunks.length} chunks`);
        assert.equal(protocol.handshakeExc, null);
        const [response, frame, ...rest] = protocol.eventsReceived();
        assert.ok(response instanceof Response);
        assert.equal(response.status, 101);
        assert.ok(frame instanceof Frame);
        assert.equal(toHex(frame.data), toHex(utf8("Hello")));
        assert.deepEqual(rest, []);
        assert.deepEqual(written(protocol), []);
      }
    });

    it("stays CONNECTING after an interim response, until the final one", () => {
      const protocol = client();
      protocol.receiveData(concat([EARLY_HINTS, hex("48 54 54 50")]));
      assert.equal(protocol.state, State.CONNECTING);
      assert.deepEqual(protocol.eventsReceived(), []);
      assert.equal(protocol.handshakeExc, null);
      protocol.receiveData(switching().subarray(4));
      assert.equal(protocol.state, State.OPEN);
    });

    it("sends masked frames once open", () => {
      const protocol = client();
      protocol.receiveData(switching());
      protocol.sendText("Hello");
      assert.deepEqual(written(protocol), ["8185" + "37fa213d" + "7f9f4d5158"]);
    });

    it("masks with a random key by default", () => {
      const protocol = new ClientProtocol("ws://example.com/", { state: State.OPEN });
      protocol.sendText("Hello");
      protocol.sendText("Hello");
      // Both frames may share one chunk: split them at their 11-byte boundary.
      const written = concat(protocol.dataToSend());
      assert.equal(written.length, 22);
      const first = written.subarray(0, 11);
      const second = written.subarray(11);
      for (const frame of [first, second]) {
        assert.equal(toHex(frame.subarray(0, 2)), "8185");
        const key = frame.subarray(2, 6);
        const payload = frame.subarray(6).map((byte, i) => byte ^ key[i % 4]!);
        assert.equal(toHex(payload), toHex(utf8("Hello")));
      }
      assert.notEqual(toHex(first.subarray(2, 6)), toHex(second.subarray(2, 6)));
    });
  });

  describe("handshake failures", () => {
    /**
     * Feeds `response` and checks what every failure has in common: the error
     * is recorded, the client half-closes, stays CONNECTING and ignores later
     * data, and closes once the server closes.
     */
    function fail(
      response: Uint8Array,
      options: ClientProtocolOptions = {},
    ): { error: Error; events: unknown[] } {
      const protocol = client("ws://example.com/chat", options);
      protocol.receiveData(response);
      const error = protocol.handshakeExc;
      assert.ok(error instanceof Error, "handshakeExc is set");
      assert.deepEqual(written(protocol), [EOF]);
      assert.equal(protocol.state, State.CONNECTING);
      assert.equal(protocol.closeExpected(), true);
      const events = protocol.eventsReceived();
      protocol.receiveData(HELLO);
      assert.deepEqual(protocol.eventsReceived(), []);
      protocol.receiveEof();
      assert.equal(protocol.state, State.CLOSED);
      assert.deepEqual(written(protocol), []);
      assert.equal(protocol.handshakeExc, error);
      return { error, events };
    }

    function assertError<T extends Error>(
      error: Error,
      type: abstract new (...args: never[]) => T,
      message: string,
    ): asserts error is T {
      assert.ok(error instanceof type, `${error} is a ${type.name}`);
      assert.equal(error.message, message);
    }

    it("rejects a status other than 101 with InvalidStatus", () => {
      const { error, events } = fail(
        utf8("HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nSorry, buddy."),
      );
      assertError(error, InvalidStatus, "server rejected WebSocket connection: HTTP 404");
      assert.equal(error.response.status, 404);
      assert.equal(events.length, 1);
      const response = events[0];
      assert.ok(response instanceof Response);
      assert.equal(response, error.response);
      assert.equal(response.text, "Sorry, buddy.");
    });

    it("rejects a status other than 101 whose body ends with the connection", () => {
      const protocol = client();
      protocol.receiveData(utf8("HTTP/1.1 503 Service Unavailable\r\n\r\nTry later"));
      assert.equal(failure(protocol), null);
      assert.deepEqual(protocol.eventsReceived(), []);
      protocol.receiveEof();
      assert.ok(failure(protocol) instanceof InvalidStatus);
      const [response] = protocol.eventsReceived();
      assert.ok(response instanceof Response);
      assert.equal(response.text, "Try later");
      assert.deepEqual(written(protocol), [EOF]);
      assert.equal(protocol.state, State.CLOSED);
    });

    it("rejects a final status other than 101 after an interim response", () => {
      const { error, events } = fail(
        concat([
          head("HTTP/1.1 103 Early Hints", "Link: </app.css>; rel=preload"),
          head("HTTP/1.1 403 Forbidden", "Content-Length: 0"),
        ]),
      );
      assertError(error, InvalidStatus, "server rejected WebSocket connection: HTTP 403");
      assert.equal(events.length, 1);
      assert.equal(events[0], error.response);
    });

    it("rejects a malformed response after an interim response with InvalidMessage", () => {
      const { error, events } = fail(concat([head("HTTP/1.1 100 Continue"), utf8("garbage\r\n")]));
      assertError(error, InvalidMessage, "did not receive a valid HTTP response");
      assert.deepEqual(events, []);
    });

    it("rejects a 101 in an HTTP/1.0 response with InvalidMessage", () => {
      const { error } = fail(head("HTTP/1.0 101 Switching Protocols", ...SWITCHING.slice(1)));
      assertError(error, InvalidMessage, "did not receive a valid HTTP response");
      assert.match(String(error.cause), /101 Switching Protocols in an HTTP\/1\.0 response/);
    });

    it("rejects a 200 response", () => {
      const { error } = fail(head("HTTP/1.1 200 OK", "Content-Length: 0"));
      assertError(error, InvalidStatus, "server rejected WebSocket connection: HTTP 200");
    });

    const headerFailures: [string, string[], typeof InvalidHeader, string][] = [
      [
        "a missing Upgrade",
        [SWITCHING[0]!, SWITCHING[2]!, SWITCHING[3]!],
        InvalidUpgrade,
        "missing Upgrade header",
      ],
      [
        "a wrong Upgrade",
        [SWITCHING[0]!, "Upgrade: h2c", SWITCHING[2]!, SWITCHING[3]!],
        InvalidUpgrade,
        "invalid Upgrade header: h2c",
      ],
      [
        // RFC 6455 §4.1: the client MUST fail the connection if "the |Upgrade|
        // header field contains a value that is not an ASCII case-insensitive
        // match for the value "websocket"".
        "an Upgrade list beside websocket",
        [SWITCHING[0]!, "Upgrade: h2c, websocket", SWITCHING[2]!, SWITCHING[3]!],
        InvalidUpgrade,
        "invalid Upgrade header: h2c, websocket",
      ],
      [
        "a missing Connection",
        [SWITCHING[0]!, SWITCHING[1]!, SWITCHING[3]!],
        InvalidUpgrade,
        "missing Connection header",
      ],
      [
        "a wrong Connection",
        [SWITCHING[0]!, SWITCHING[1]!, "Connection: close", SWITCHING[3]!],
        InvalidUpgrade,
        "invalid Connection header: close",
      ],
      [
        "a missing Sec-WebSocket-Accept",
        SWITCHING.slice(0, 3),
        InvalidHeader,
        "missing Sec-WebSocket-Accept header",
      ],
      [
        "a wrong Sec-WebSocket-Accept",
        [...SWITCHING.slice(0, 3), "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ=="],
        InvalidHeaderValue,
        "invalid Sec-WebSocket-Accept header: dGhlIHNhbXBsZSBub25jZQ==",
      ],
      [
        "multiple Sec-WebSocket-Accept",
        [...SWITCHING, `Sec-WebSocket-Accept: ${ACCEPT}`],
        InvalidHeader,
        "invalid Sec-WebSocket-Accept header: multiple values",
      ],
    ];
    for (const [name, lines, type, message] of headerFailures) {
      it(`rejects ${name} with ${type.name}`, () => {
        const { error, events } = fail(head(...lines));
        assertError(error, type, message);
        assert.equal(events.length, 1);
        assert.ok(events[0] instanceof Response);
      });
    }

    it("rejects an accept value computed for another key", () => {
      const protocol = new ClientProtocol("ws://example.com/");
      protocol.receiveData(switching());
      assert.ok(protocol.handshakeExc instanceof InvalidHeaderValue);
    });

    const malformed: [string, Uint8Array, string][] = [
      [
        "a header line without colon",
        head("HTTP/1.1 101 Switching Protocols", "Upgrade websocket"),
        "header line without colon",
      ],
      ["a bare LF", utf8("HTTP/1.1 101 Switching Protocols\n\n"), "line ends with a bare LF"],
      ["another protocol", utf8("SSH-2.0-OpenSSH_9.6\r\n"), "malformed status line"],
      ["an invalid status code", head("HTTP/1.1 99 Too Low"), "malformed status line"],
    ];
    for (const [name, data, cause] of malformed) {
      it(`rejects ${name} with InvalidMessage`, () => {
        const { error, events } = fail(data);
        assertError(error, InvalidMessage, "did not receive a valid HTTP response");
        assert.equal(error.status, 400);
        assert.ok(error.cause instanceof InvalidMessage);
        assert.ok(error.cause.message.startsWith(cause), error.cause.message);
        assert.deepEqual(events, []);
      });
    }

    it("applies its HTTP limits to the response", () => {
      const { error } = fail(switching(`X-Padding: ${"x".repeat(100)}`), {
        httpLimits: { maxLineLength: 64 },
      });
      assertError(error, InvalidMessage, "did not receive a valid HTTP response");
      assert.ok(error.cause instanceof InvalidMessage);
      assert.equal(error.cause.message, "header line too long");
    });

    const INVALID = "did not receive a valid HTTP response";
    // A TLS server closes so when it receives HTTP: only then a hint.
    const CLOSED_AT_ONCE = `${INVALID}: the server closed the connection without answering; if it expects TLS, use wss://`;
    for (const [name, data, uri, message] of [
      ["before any byte", new Uint8Array(0), "ws://example.com/chat", CLOSED_AT_ONCE],
      ["before any byte, over TLS", new Uint8Array(0), "wss://example.com/chat", INVALID],
      ["in the status line", utf8("HTTP/1.1 101 Switch"), "ws://example.com/chat", INVALID],
      ["in the headers", switching().slice(0, -2), "ws://example.com/chat", INVALID],
      [
        "after an interim response",
        head("HTTP/1.1 100 Continue"),
        "ws://example.com/chat",
        INVALID,
      ],
    ] as const) {
      it(`fails when the connection ends ${name}`, () => {
        const protocol = client(uri);
        protocol.receiveData(data);
        assert.equal(failure(protocol), null);
        protocol.receiveEof();
        const error = failure(protocol);
        assert.ok(error instanceof InvalidMessage);
        assert.equal(error.message, message);
        assert.ok(error.cause instanceof InvalidMessage);
        assert.equal(error.cause.message, "connection closed while reading HTTP response");
        assert.deepEqual(written(protocol), [EOF]);
        assert.deepEqual(protocol.eventsReceived(), []);
        assert.equal(protocol.state, State.CLOSED);
      });
    }
  });

  describe("a TLS answer to a ws:// client (RFC 8446 §5.1)", () => {
    // Records as a TLS server sends them: a fatal unexpected_message alert,
    // and the start of a ServerHello.
    const ALERT = hex("15 03 03 00 02 02 0a");
    const SERVER_HELLO = hex("16 03 03 00 7a 02 00 00 76 03 03");

    for (const [name, data] of [
      ["an alert", ALERT],
      ["a handshake record", SERVER_HELLO],
      ["an alert, one byte at a time", ALERT.subarray(0, 1)],
    ] as const) {
      it(`says the server answered with TLS on ${name}`, () => {
        const protocol = client("ws://example.com/chat");
        protocol.receiveData(data);
        const error = failure(protocol);
        assert.ok(error instanceof InvalidMessage, String(error));
        assert.equal(error.code, "ERR_INVALID_MESSAGE");
        assert.equal(
          error.message,
          "did not receive a valid HTTP response: the server answered with TLS; use wss://",
        );
        assert.equal(error.cause, undefined);
        assert.deepEqual(written(protocol), [EOF]);
        assert.deepEqual(protocol.eventsReceived(), []);
        // What follows is discarded.
        protocol.receiveData(head("HTTP/1.1 101 Switching Protocols"));
        assert.deepEqual(protocol.eventsReceived(), []);
        assert.equal(failure(protocol), error);
      });
    }

    it("looks at the first byte of the response only", () => {
      const protocol = client("ws://example.com/chat");
      protocol.receiveData(utf8("HTTP/1.1 101 Switching Protocols\r\nX: "));
      protocol.receiveData(ALERT);
      protocol.receiveData(utf8("\r\n"));
      protocol.receiveEof();
      const error = failure(protocol);
      assert.ok(error instanceof InvalidMessage, String(error));
      assert.equal(error.message, "did not receive a valid HTTP response");
    });

    it("gives no hint to a wss:// client, whose TLS is already under the response", () => {
      const protocol = client("wss://example.com/chat");
      protocol.receiveData(ALERT);
      protocol.receiveEof();
      const error = failure(protocol);
      assert.ok(error instanceof InvalidMessage, String(error));
      assert.equal(error.message, "did not receive a valid HTTP response");
    });
  });

  describe("a ws:// client's server that answers it expects TLS", () => {
    const HINTED =
      "server rejected WebSocket connection: HTTP 400: the server expects TLS; use wss:// (or TLS from a proxy in front of it)";

    /** Why a client of `uri` failed, once `chunks` and the end of the connection arrived. */
    function refusal(uri: string, chunks: Uint8Array[]) {
      const protocol = client(uri);
      for (const chunk of chunks) protocol.receiveData(chunk);
      protocol.receiveEof();
      const error = failure(protocol);
      assert.ok(error instanceof InvalidStatus, String(error));
      assert.deepEqual(protocol.eventsReceived(), [error.response]);
      assert.deepEqual(written(protocol), [EOF]);
      assert.equal(protocol.state, State.CLOSED);
      return error;
    }

    for (const [server, answer, body] of TLS_EXPECTED_ANSWERS) {
      it(`says so, as InvalidStatus, on ${server}'s answer in any chunks`, () => {
        for (const chunks of splits(utf8(answer))) {
          const error = refusal("ws://example.com/chat", chunks);
          assert.equal(error.code, "ERR_INVALID_STATUS");
          assert.equal(error.message, HINTED);
          assert.equal(error.response.status, 400);
          assert.equal(error.response.text, body);
          assert.equal(error.cause, undefined);
        }
      });
    }

    it("gives no hint to a wss:// client: the answer comes from behind its TLS server", () => {
      const error = refusal("wss://example.com/chat", [utf8(NGINX_ANSWER)]);
      assert.equal(error.message, "server rejected WebSocket connection: HTTP 400");
      assert.equal(error.response.text, NGINX_BODY);
    });

    it("gives no hint for another 400, or another status with the phrase", () => {
      for (const answer of [
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request",
        `HTTP/1.1 403 Forbidden\r\n\r\n${GO_BODY}`,
      ]) {
        const error = refusal("ws://example.com/chat", [utf8(answer)]);
        assert.match(error.message, /^server rejected WebSocket connection: HTTP 40[03]$/);
      }
    });
  });

  describe("extension negotiation", () => {
    function open(response: Uint8Array, extensions: ClientExtensionFactory[]): ClientProtocol {
      const protocol = client("ws://example.com/chat", { extensions });
      protocol.receiveData(response);
      return protocol;
    }

    it("accepts an extension the server selected and passes it the parameters", () => {
      const protocol = open(switching("Sec-WebSocket-Extensions: x-test; foo=1; bar"), [
        factory("x-test", [["foo", "1"]]),
      ]);
      assert.equal(protocol.state, State.OPEN);
      assert.equal(protocol.extensions.length, 1);
      const extension = protocol.extensions[0] as Rsv2Extension;
      assert.equal(extension.name, "x-test");
      assert.deepEqual(extension.params, [
        ["foo", "1"],
        ["bar", null],
      ]);
    });

    it("runs frames through the negotiated extension, which may use RSV2", () => {
      const protocol = open(
        concat([switching("Sec-WebSocket-Extensions: x-test"), hex("a1 05 48 65 6c 6c 6f")]),
        [factory("x-test")],
      );
      const [, frame] = protocol.eventsReceived();
      assert.ok(frame instanceof Frame);
      assert.equal(frame.rsv2, false);
      assert.equal(toHex(frame.data), toHex(utf8("Hello")));
      protocol.sendText("Hello");
      assert.deepEqual(written(protocol), ["a185" + "37fa213d" + "7f9f4d5158"]);
    });

    it("fails on RSV2 when no extension was negotiated", () => {
      const protocol = client("ws://example.com/chat", { extensions: [factory("x-test")] });
      protocol.receiveData(concat([switching(), hex("a1 05 48 65 6c 6c 6f")]));
      assert.equal(protocol.extensions.length, 0);
      const [response] = protocol.eventsReceived();
      assert.ok(response instanceof Response);
      assert.equal(protocol.state, State.CLOSING);
      // Close 1002 "reserved bits must be 0", masked.
      const payload = concat([hex("03 ea"), utf8("reserved bits must be 0")]);
      const masked = payload.map((byte, i) => byte ^ MASK[i % 4]!);
      assert.deepEqual(written(protocol), [toHex(concat([hex("88 99"), MASK, masked]))]);
    });

    it("accepts several extensions, in the server's order, each seeing the previous ones", () => {
      const seen: string[][] = [];
      const record =
        (name: string): ClientExtensionFactory["processResponseParams"] =>
        (params, accepted) => {
          seen.push(accepted.map((extension) => extension.name));
          return new Rsv2Extension(name, params);
        };
      const protocol = open(
        switching("Sec-WebSocket-Extensions: x-other", "Sec-WebSocket-Extensions: x-test"),
        [factory("x-test", [], record("x-test")), factory("x-other", [], record("x-other"))],
      );
      assert.deepEqual(
        protocol.extensions.map((extension) => extension.name),
        ["x-other", "x-test"],
      );
      assert.deepEqual(seen, [[], ["x-other"]]);
    });

    it("tries the next factory with the same name when one declines", () => {
      const declining = factory("x-test", [["mode", "a"]], () => {
        throw new NegotiationError("mode b isn't supported");
      });
      const accepting = factory("x-test", [["mode", "b"]]);
      const protocol = open(switching("Sec-WebSocket-Extensions: x-test; mode=b"), [
        declining,
        accepting,
      ]);
      assert.equal(protocol.state, State.OPEN);
      assert.deepEqual((protocol.extensions[0] as Rsv2Extension).params, [["mode", "b"]]);
    });

    it("stops at the first factory that accepts", () => {
      let calls = 0;
      const second = factory("x-test", [], () => {
        calls++;
        return new Rsv2Extension("x-test");
      });
      const protocol = open(switching("Sec-WebSocket-Extensions: x-test"), [
        factory("x-test"),
        second,
      ]);
      assert.equal(protocol.extensions.length, 1);
      assert.equal(calls, 0);
    });

    function failsWith(
      response: Uint8Array,
      extensions: ClientExtensionFactory[],
      type: abstract new (...args: never[]) => Error,
      message: string,
    ): Error {
      const protocol = open(response, extensions);
      const error = protocol.handshakeExc;
      assert.ok(error instanceof type, String(error));
      assert.equal(error.message, message);
      assert.deepEqual(protocol.extensions, []);
      assert.deepEqual(written(protocol), [EOF]);
      assert.equal(protocol.state, State.CONNECTING);
      return error;
    }

    it("rejects an extension when none was offered", () => {
      failsWith(
        switching("Sec-WebSocket-Extensions: x-test"),
        [],
        NegotiationError,
        "server selected an extension, but none was offered",
      );
    });

    it("rejects an extension that wasn't offered", () => {
      failsWith(
        switching("Sec-WebSocket-Extensions: x-other; a=1"),
        [factory("x-test")],
        NegotiationError,
        "unsupported extension: x-other; a=1",
      );
    });

    it("rejects an extension that every factory declines", () => {
      const declining = factory("x-test", [], () => {
        throw new NegotiationError("no");
      });
      const error = failsWith(
        switching("Sec-WebSocket-Extensions: x-test; foo"),
        [declining, declining],
        NegotiationError,
        "unsupported extension: x-test; foo",
      );
      assert.equal((error.cause as Error).message, "no");
    });

    it("rejects a malformed Sec-WebSocket-Extensions", () => {
      const error = failsWith(
        switching("Sec-WebSocket-Extensions: x-test;"),
        [factory("x-test")],
        InvalidHeader,
        "invalid Sec-WebSocket-Extensions header: expected token at 7 in x-test;",
      );
      assert.equal((error as InvalidHeader).header, "Sec-WebSocket-Extensions");
    });

    it("wraps an unexpected error of a factory in InvalidHandshake", () => {
      const bug = new TypeError("params is not iterable");
      const error = failsWith(
        switching("Sec-WebSocket-Extensions: x-test"),
        [
          factory("x-test", [], () => {
            throw bug;
          }),
        ],
        InvalidHandshake,
        "invalid response",
      );
      assert.equal(error.constructor, InvalidHandshake);
      assert.equal(error.cause, bug);
    });
  });

  describe("subprotocol negotiation", () => {
    function open(response: Uint8Array, subprotocols?: string[]): ClientProtocol {
      const protocol = client("ws://example.com/chat", subprotocols ? { subprotocols } : {});
      protocol.receiveData(response);
      return protocol;
    }

    it("accepts the subprotocol the server selected", () => {
      const protocol = open(switching("Sec-WebSocket-Protocol: superchat"), ["chat", "superchat"]);
      assert.equal(protocol.state, State.OPEN);
      assert.equal(protocol.subprotocol, "superchat");
    });

    it("accepts no subprotocol when the server selected none", () => {
      const protocol = open(switching(), ["chat", "superchat"]);
      assert.equal(protocol.state, State.OPEN);
      assert.equal(protocol.subprotocol, null);
    });

    it("with requireSubprotocol, fails when the server selected none of those offered", () => {
      const required = client("ws://example.com/chat", {
        subprotocols: ["chat"],
        requireSubprotocol: true,
      });
      required.receiveData(switching());
      const error = required.handshakeExc;
      assert.ok(error instanceof NegotiationError, String(error));
      assert.equal(error.message, "server selected none of the subprotocols offered");
      assert.notEqual(required.state, State.OPEN);
      assert.deepEqual(written(required), [EOF]);
      // Offering none, there is nothing to require.
      const offeredNone = client("ws://example.com/chat", { requireSubprotocol: true });
      offeredNone.receiveData(switching());
      assert.equal(offeredNone.state, State.OPEN);
      assert.equal(offeredNone.subprotocol, null);
    });

    const failures: [string, string[], string[] | undefined, string][] = [
      [
        "a subprotocol when none was offered",
        ["Sec-WebSocket-Protocol: chat"],
        undefined,
        "server selected a subprotocol, but none was offered",
      ],
      [
        "several subprotocols in one field",
        ["Sec-WebSocket-Protocol: chat, superchat"],
        ["chat", "superchat"],
        "multiple subprotocols: chat, superchat",
      ],
      [
        "several subprotocols in several fields",
        ["Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"],
        ["chat"],
        "multiple subprotocols: chat, chat",
      ],
      [
        "a subprotocol that wasn't offered",
        ["Sec-WebSocket-Protocol: other"],
        ["chat", "superchat"],
        "unsupported subprotocol: other",
      ],
    ];
    for (const [name, lines, subprotocols, message] of failures) {
      it(`rejects ${name}`, () => {
        const protocol = open(switching(...lines), subprotocols);
        const error = protocol.handshakeExc;
        assert.ok(error instanceof NegotiationError, String(error));
        assert.equal(error.message, message);
        assert.equal(protocol.subprotocol, null);
        assert.deepEqual(written(protocol), [EOF]);
      });
    }
  });
});

describe("ClientProtocol retention", () => {
  /** The response parser a client holds, which it should drop once done with it. */
  function parserOf(protocol: ClientProtocol): unknown {
    return (protocol as unknown as { responseParser: unknown }).responseParser;
  }

  it("releases the response parser once the handshake succeeds, and still reads frames", () => {
    const protocol = client();
    protocol.sendRequest(protocol.connect());
    assert.notEqual(parserOf(protocol), null);
    protocol.receiveData(concat([switching(), HELLO]));
    assert.equal(protocol.state, State.OPEN);
    assert.equal(parserOf(protocol), null);
    assert.equal(protocol.extensions.length, 0);
    assert.ok(Object.isFrozen(protocol.extensions));
    const [response, frame] = protocol.eventsReceived();
    assert.ok(response instanceof Response);
    assert.ok(frame instanceof Frame);
    assert.equal(frame.opcode, Opcode.TEXT);
  });

  it("releases the response parser when the handshake fails", () => {
    const invalid = client();
    invalid.receiveData(utf8("NOT HTTP\r\n\r\n"));
    assert.equal(parserOf(invalid), null);
    assert.ok(failure(invalid) instanceof InvalidMessage);
    const refused = client();
    refused.receiveData(head("HTTP/1.1 403 Forbidden", "Content-Length: 0"));
    assert.equal(parserOf(refused), null);
    assert.ok(failure(refused) !== null);
  });

  it("creates no response parser for a connection opened elsewhere", () => {
    assert.equal(parserOf(new ClientProtocol("ws://example.com/", { state: State.OPEN })), null);
  });
});
