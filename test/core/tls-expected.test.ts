import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Headers } from "../../src/core/headers.js";
import { Response } from "../../src/core/response.js";
import { expectsTls, TLS_EXPECTED_PHRASES } from "../../src/core/tls-expected.js";
import { utf8 } from "../helpers/bytes.js";
import { TLS_EXPECTED_ANSWERS } from "../helpers/tls-expected.js";

function response(status: number, body: string | Uint8Array): Response {
  return new Response(status, "", new Headers(), typeof body === "string" ? utf8(body) : body);
}

describe("expectsTls()", () => {
  for (const [server, , body] of TLS_EXPECTED_ANSWERS) {
    it(`recognises ${server}'s 400 to plain HTTP on its TLS port`, () => {
      assert.equal(expectsTls(response(400, body)), true);
    });
  }

  it("knows one phrase per server, each of them in that server's answer", () => {
    assert.equal(TLS_EXPECTED_PHRASES.length, TLS_EXPECTED_ANSWERS.length);
    for (const phrase of TLS_EXPECTED_PHRASES) {
      const holders = TLS_EXPECTED_ANSWERS.filter(([, , body]) => body.includes(phrase));
      assert.equal(holders.length, 1, phrase);
    }
  });

  it("wants status 400", () => {
    for (const status of [200, 403, 404, 426, 497, 500]) {
      assert.equal(expectsTls(response(status, TLS_EXPECTED_ANSWERS[0]![2])), false, `${status}`);
    }
  });

  it("wants one of the phrases, exactly as servers spell them", () => {
    for (const body of [
      "",
      "Bad Request\n",
      "Failed to open a WebSocket connection: missing subprotocol.\n",
      "the plain http request was sent to https port", // Another case.
      "The plain HTTP request was sent to HTTPS", // Cut short.
      "Client sent an HTTP request to an\r\nHTTPS server.", // Another line.
    ]) {
      assert.equal(expectsTls(response(400, body)), false, JSON.stringify(body));
    }
  });

  it("finds a phrase among bytes that aren't UTF-8 or text at all", () => {
    const phrase = utf8(TLS_EXPECTED_PHRASES[1]!);
    const body = new Uint8Array(phrase.length + 4);
    body.set([0xff, 0x00, 0xc3, 0x28]);
    body.set(phrase, 4);
    assert.equal(expectsTls(response(400, body)), true);
  });

  it("reads the first 4096 bytes of the body only", () => {
    const phrase = TLS_EXPECTED_PHRASES[0]!;
    const end = "x".repeat(4096 - phrase.length);
    assert.equal(expectsTls(response(400, `${end}${phrase}`)), true);
    // One byte later, the phrase is cut at the end of what is read.
    assert.equal(expectsTls(response(400, `${end}x${phrase}`)), false);
    assert.equal(expectsTls(response(400, `${"x".repeat(1 << 20)}${phrase}`)), false);
  });
});
