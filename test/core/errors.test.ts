import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import {
  ConcurrencyError,
  ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  DuplicateParameter,
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderFormat,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidOrigin,
  InvalidParameterName,
  InvalidParameterValue,
  InvalidState,
  InvalidStatus,
  InvalidUpgrade,
  InvalidUri,
  NegotiationError,
  PayloadTooBig,
  ProtocolError,
  ProxyError,
  SecurityError,
  TimeoutError,
  WebSocketError,
} from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { Response } from "../../src/core/response.js";

const OK = new Close(1000, "");
const GOING_AWAY = new Close(1001, "bye");
const TOO_BIG = new Close(1009, "");

/** A handshake response with `status` and nothing else. */
function statusResponse(status: number): Response {
  return new Response(status, "", new Headers());
}

describe("the error tree", () => {
  // [instance, code, ancestors it must be an instance of]
  const errors: [WebSocketError, string, (abstract new (...args: never[]) => Error)[]][] = [
    [new WebSocketError("x"), "ERR_WEBSOCKET", []],
    [new ConnectionClosed(null, null), "ERR_CONNECTION_CLOSED", [WebSocketError]],
    [
      new ConnectionClosedOK(OK, OK, true),
      "ERR_CONNECTION_CLOSED_OK",
      [ConnectionClosed, WebSocketError],
    ],
    [
      new ConnectionClosedError(null, null),
      "ERR_CONNECTION_CLOSED_ERROR",
      [ConnectionClosed, WebSocketError],
    ],
    [new InvalidHandshake("x"), "ERR_INVALID_HANDSHAKE", [WebSocketError]],
    [new SecurityError("x"), "ERR_SECURITY", [InvalidHandshake]],
    [new ProxyError("x"), "ERR_PROXY", [InvalidHandshake]],
    [new InvalidMessage("x"), "ERR_INVALID_MESSAGE", [InvalidHandshake]],
    [new InvalidStatus(statusResponse(404)), "ERR_INVALID_STATUS", [InvalidHandshake]],
    [new InvalidHeader("Host"), "ERR_INVALID_HEADER", [InvalidHandshake]],
    [
      new InvalidHeaderFormat("Upgrade", "expected token", "", 0),
      "ERR_INVALID_HEADER_FORMAT",
      [InvalidHeader, InvalidHandshake],
    ],
    [new InvalidHeaderValue("Upgrade", "h2c"), "ERR_INVALID_HEADER_VALUE", [InvalidHeader]],
    [new InvalidOrigin(null), "ERR_INVALID_ORIGIN", [InvalidHeader]],
    [new InvalidUpgrade("Upgrade", null), "ERR_INVALID_UPGRADE", [InvalidHeader]],
    [new NegotiationError("x"), "ERR_NEGOTIATION", [InvalidHandshake]],
    [new DuplicateParameter("p"), "ERR_DUPLICATE_PARAMETER", [NegotiationError]],
    [new InvalidParameterName("p"), "ERR_INVALID_PARAMETER_NAME", [NegotiationError]],
    [new InvalidParameterValue("p", "v"), "ERR_INVALID_PARAMETER_VALUE", [NegotiationError]],
    [new InvalidUri("http://x/", "scheme isn't ws or wss"), "ERR_INVALID_URI", [WebSocketError]],
    [new ProtocolError("x"), "ERR_PROTOCOL", [WebSocketError]],
    [new PayloadTooBig("x"), "ERR_PAYLOAD_TOO_BIG", [ProtocolError]],
    [new InvalidState("x"), "ERR_INVALID_STATE", [WebSocketError]],
    [new ConcurrencyError("x"), "ERR_CONCURRENCY", [WebSocketError]],
    [new TimeoutError("x"), "ERR_TIMEOUT", [WebSocketError]],
  ];

  for (const [error, code, ancestors] of errors) {
    const name = error.constructor.name;
    it(`${name} has code ${code} and name ${name}`, () => {
      assert.equal(error.code, code);
      assert.equal(error.name, name);
      assert.ok(error instanceof Error);
      assert.ok(error instanceof WebSocketError);
      for (const ancestor of ancestors) assert.ok(error instanceof ancestor, ancestor.name);
      assert.ok(String(error).startsWith(`${name}: `));
    });
  }

  it("gives every class a distinct code", () => {
    assert.equal(new Set(errors.map(([, code]) => code)).size, errors.length);
  });

  it("keeps the cause", () => {
    const cause = new Error("root");
    assert.equal(new WebSocketError("x", { cause }).cause, cause);
    assert.equal(new InvalidMessage("x", 400, { cause }).cause, cause);
    assert.equal(new ConnectionClosed(null, null, null, { cause }).cause, cause);
    assert.equal(new InvalidStatus(statusResponse(500), { cause }).cause, cause);
    assert.equal(new InvalidHeader("Host", null, { cause }).cause, cause);
    assert.equal(new ProtocolError("x", 1002, { cause }).cause, cause);
    assert.equal(new PayloadTooBig("x", { cause }).cause, cause);
  });
});

describe("ConnectionClosed", () => {
  it("describes a close frame received, then one sent", () => {
    const error = new ConnectionClosed(TOO_BIG, TOO_BIG, true);
    assert.equal(
      error.message,
      "received 1009 (message too big); then sent 1009 (message too big)",
    );
  });

  it("describes a close frame sent, then one received", () => {
    const error = new ConnectionClosed(GOING_AWAY, OK, false);
    assert.equal(error.message, "sent 1000 (OK); then received 1001 (going away) bye");
  });

  it("reads both close frames without an order as received first", () => {
    const error = new ConnectionClosed(OK, GOING_AWAY);
    assert.equal(error.rcvdThenSent, null);
    assert.equal(error.message, "received 1000 (OK); then sent 1001 (going away) bye");
  });

  it("describes a close frame sent without an answer", () => {
    const error = new ConnectionClosed(null, new Close(1002, "bad frame"));
    assert.equal(error.message, "sent 1002 (protocol error) bad frame; no close frame received");
  });

  it("describes a close frame received without an answer", () => {
    const error = new ConnectionClosed(new Close(4000, ""), null);
    assert.equal(error.message, "received 4000 (private use); no close frame sent");
  });

  it("describes a connection lost without close frames", () => {
    assert.equal(new ConnectionClosed(null, null).message, "no close frame received or sent");
  });

  it("keeps the close frames", () => {
    const error = new ConnectionClosedOK(GOING_AWAY, OK, false);
    assert.equal(error.rcvd, GOING_AWAY);
    assert.equal(error.sent, OK);
    assert.equal(error.rcvdThenSent, false);
  });

  it("reports the received close code and reason", () => {
    const error = new ConnectionClosedOK(GOING_AWAY, GOING_AWAY, true);
    assert.equal(error.closeCode, 1001);
    assert.equal(error.closeReason, "bye");
  });

  it("reports 1006 and no reason when no close frame was received", () => {
    const error = new ConnectionClosedError(null, TOO_BIG);
    assert.equal(error.closeCode, 1006);
    assert.equal(error.closeReason, "");
  });
});

describe("InvalidHandshake subclasses", () => {
  it("InvalidMessage carries the status to answer with, 400 by default", () => {
    assert.equal(new InvalidMessage("bad request line").status, 400);
    const error = new InvalidMessage("request line too long", 414);
    assert.equal(error.status, 414);
    assert.equal(error.message, "request line too long");
  });

  it("ProxyError carries the proxy's HTTP status when there is one", () => {
    assert.equal(new ProxyError("tunnel refused").status, null);
    assert.equal(new ProxyError("proxy authentication required", 407).status, 407);
    assert.equal(new ProxyError("tunnel refused").transient, false);
    const cause = new Error("down");
    const transient = new ProxyError("host unreachable", null, { transient: true, cause });
    assert.equal(transient.transient, true);
    assert.equal(transient.cause, cause);
  });

  it("InvalidStatus names the status and keeps the response", () => {
    const response = new Response(403, "Forbidden", new Headers({ "Retry-After": "30" }));
    const error = new InvalidStatus(response);
    // Typed as the Response it is: its headers need no cast.
    assert.equal(error.response.headers.get("retry-after"), "30");
    assert.equal(error.message, "server rejected WebSocket connection: HTTP 403");
    assert.equal(error.response, response);
  });

  it("InvalidStatus adds a hint after the status, if any", () => {
    const response = statusResponse(400);
    const cause = new Error("root");
    const hinted = new InvalidStatus(response, { hint: "the server expects TLS", cause });
    assert.equal(
      hinted.message,
      "server rejected WebSocket connection: HTTP 400: the server expects TLS",
    );
    assert.equal(hinted.cause, cause);
    assert.equal(hinted.code, "ERR_INVALID_STATUS");
    assert.equal(hinted.name, "InvalidStatus");
    assert.equal(hinted.hint, "the server expects TLS");
    for (const hint of [undefined, ""]) {
      const error = new InvalidStatus(response, { hint });
      assert.equal(error.message, "server rejected WebSocket connection: HTTP 400");
      assert.equal(error.hint, null);
      assert.ok(!("cause" in error));
    }
  });

  it("InvalidHeader describes a missing header", () => {
    const error = new InvalidHeader("Sec-WebSocket-Key");
    assert.equal(error.header, "Sec-WebSocket-Key");
    assert.equal(error.value, null);
    assert.equal(error.message, "missing Sec-WebSocket-Key header");
  });

  it("InvalidHeader describes an empty header", () => {
    const error = new InvalidHeader("Sec-WebSocket-Key", "");
    assert.equal(error.value, "");
    assert.equal(error.message, "empty Sec-WebSocket-Key header");
  });

  it("InvalidHeader describes an invalid header", () => {
    const error = new InvalidHeader("Sec-WebSocket-Accept", "multiple values");
    assert.equal(error.message, "invalid Sec-WebSocket-Accept header: multiple values");
  });

  it("InvalidHeader escapes the control characters of the value in its message, not in value", () => {
    const error = new InvalidHeader("Origin", "a\r\nX-Forged: 1\u009b");
    assert.equal(error.message, "invalid Origin header: a\\x0d\\x0aX-Forged: 1\\x9b");
    assert.equal(error.value, "a\r\nX-Forged: 1\u009b");
  });

  it("InvalidHeaderFormat says what went wrong and where", () => {
    const error = new InvalidHeaderFormat("Connection", "expected comma", "Upgrade;", 7);
    assert.equal(error.header, "Connection");
    assert.equal(error.error, "expected comma");
    assert.equal(error.headerValue, "Upgrade;");
    assert.equal(error.position, 7);
    assert.equal(error.message, "invalid Connection header: expected comma at 7 in Upgrade;");
  });

  it("InvalidHeaderValue quotes the value", () => {
    const error = new InvalidHeaderValue("Sec-WebSocket-Version", "8");
    assert.equal(error.message, "invalid Sec-WebSocket-Version header: 8");
  });

  it("InvalidOrigin describes a missing or refused Origin", () => {
    assert.equal(new InvalidOrigin(null).message, "missing Origin header");
    const error = new InvalidOrigin("https://evil.example");
    assert.equal(error.header, "Origin");
    assert.equal(error.value, "https://evil.example");
    assert.equal(error.message, "invalid Origin header: https://evil.example");
  });

  it("InvalidUpgrade describes Upgrade and Connection", () => {
    assert.equal(new InvalidUpgrade("Upgrade").message, "missing Upgrade header");
    assert.equal(
      new InvalidUpgrade("Connection", "close").message,
      "invalid Connection header: close",
    );
  });

  it("parameter errors name the parameter", () => {
    const duplicate = new DuplicateParameter("server_max_window_bits");
    assert.equal(duplicate.parameter, "server_max_window_bits");
    assert.equal(duplicate.message, "duplicate parameter: server_max_window_bits");

    const name = new InvalidParameterName("foo");
    assert.equal(name.parameter, "foo");
    assert.equal(name.message, "invalid parameter name: foo");

    const value = new InvalidParameterValue("client_max_window_bits", "16");
    assert.equal(value.parameter, "client_max_window_bits");
    assert.equal(value.value, "16");
    assert.equal(value.message, "invalid value for parameter client_max_window_bits: 16");

    const missing = new InvalidParameterValue("server_max_window_bits", null);
    assert.equal(missing.value, null);
    assert.equal(missing.message, "invalid value for parameter server_max_window_bits: null");
  });
});

describe("InvalidUri", () => {
  it("quotes the URI and says why it is invalid", () => {
    const error = new InvalidUri("ws://example.com/#top", "fragment isn't allowed");
    assert.equal(error.uri, "ws://example.com/#top");
    assert.equal(error.why, "fragment isn't allowed");
    assert.equal(error.message, "ws://example.com/#top isn't a valid URI: fragment isn't allowed");
  });

  it("keeps credentials out of its message and out of uri", () => {
    const error = new InvalidUri("wss://alice:s3cret@example.com:99999/", "port out of range");
    assert.equal(error.uri, "wss://alice:***@example.com:99999/");
    // What a logger that serializes an error's own properties writes.
    assert.doesNotMatch(JSON.stringify({ ...error, message: error.message }), /s3cret/);
    assert.equal(
      error.message,
      "wss://alice:***@example.com:99999/ isn't a valid URI: port out of range",
    );
    // A user name alone is likely a token.
    const token = new InvalidUri("wss://TOKEN@example.com/", "username provided without password");
    assert.equal(
      token.message,
      "wss://***@example.com/ isn't a valid URI: username provided without password",
    );
    // Typed without its scheme, as to the CLI: the user info is still found.
    const bare = new InvalidUri("alice:s3cret@example.com:8001", "scheme isn't ws or wss");
    assert.equal(bare.uri, "alice:***@example.com:8001");
    assert.equal(
      bare.message,
      "alice:***@example.com:8001 isn't a valid URI: scheme isn't ws or wss",
    );
  });
});

describe("ProtocolError", () => {
  it("closes with 1002 by default", () => {
    const error = new ProtocolError("reserved bits must be 0");
    assert.equal(error.closeCode, 1002);
    assert.equal(error.message, "reserved bits must be 0");
  });

  it("closes with the code given", () => {
    assert.equal(new ProtocolError("invalid UTF-8", 1007).closeCode, 1007);
  });

  it("PayloadTooBig closes with 1009", () => {
    const error = new PayloadTooBig("message longer than 1024 bytes");
    assert.equal(error.closeCode, 1009);
    assert.equal(error.message, "message longer than 1024 bytes");
  });
});
