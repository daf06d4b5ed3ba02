import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Headers } from "../../src/core/headers.js";
import { Response } from "../../src/core/response.js";
import { assertInvalid, bytes, parseResponse, RFC_RESPONSE, text } from "../helpers/http.js";

describe("Response", () => {
  it("serializes the status line, headers as given, and the body", () => {
    const body = bytes("Not found.\n");
    const response = new Response(404, "Not Found", new Headers([["Content-Length", "11"]]), body);
    assert.equal(
      text(response.serialize()),
      "HTTP/1.1 404 Not Found\r\nContent-Length: 11\r\n\r\nNot found.\n",
    );
  });

  it("round-trips RFC 6455 §1.3's response", () => {
    const response = parseResponse(RFC_RESPONSE)!;
    assert.equal(text(response.serialize()), RFC_RESPONSE);
  });

  it("round-trips a response with a body", () => {
    const body = new Uint8Array([0x00, 0xff, 0x0d, 0x0a]);
    const response = new Response(500, "", new Headers({ "Content-Length": "4" }), body);
    const parsed = parseResponse(response.serialize());
    assert.equal(parsed?.status, 500);
    assert.equal(parsed.reason, "");
    assert.deepEqual(parsed.body, body);
  });

  it("decodes the body as UTF-8 in text", () => {
    const response = new Response(200, "OK", new Headers(), new Uint8Array([0xc3, 0xa9, 0xff]));
    assert.equal(response.text, "\u00e9\ufffd");
    assert.equal(new Response(200, "OK", new Headers()).text, "");
  });

  it("rejects status codes outside 100–599 and reasons with control characters", () => {
    for (const status of [99, 600, 101.5, Number.NaN]) {
      assertInvalid(() => new Response(status, "X", new Headers()), 400, "invalid status code");
    }
    assertInvalid(
      () => new Response(200, "OK\r\nX: y", new Headers()),
      400,
      "invalid reason phrase",
    );
  });
});
