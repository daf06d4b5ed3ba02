/** The suite's own permessage-deflate: negotiation checks and the message codec. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import {
  acceptOffer,
  agreementHeader,
  MessageCodec,
  NegotiationViolation,
  offerHeader,
  parseOffers,
  parseResponse,
  settingsFor,
} from "../../compliance/deflate.js";

describe("negotiation", () => {
  it("writes Autobahn's offers", () => {
    assert.equal(
      offerHeader([{}]),
      "permessage-deflate; client_no_context_takeover; client_max_window_bits",
    );
    assert.equal(
      offerHeader([{ requestNoContextTakeover: true, requestMaxWindowBits: 8 }, {}]),
      "permessage-deflate; client_no_context_takeover; client_max_window_bits; " +
        "server_no_context_takeover; server_max_window_bits=8, " +
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
    );
  });

  it("parses a client's offers and accepts one as Autobahn does", () => {
    const [offer] = parseOffers("permessage-deflate; client_max_window_bits, x-other");
    assert.deepEqual(offer, {
      clientNoContextTakeover: false,
      clientMaxWindowBits: true,
      serverNoContextTakeover: false,
      serverMaxWindowBits: null,
    });
    assert.equal(
      agreementHeader(acceptOffer(offer!, true, 9)),
      "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
    );
  });

  it("checks a server's response against the offers", () => {
    const offers = [{ requestMaxWindowBits: 10 }];
    assert.equal(parseResponse(undefined, offers), null);
    assert.deepEqual(parseResponse("permessage-deflate; server_max_window_bits=9", offers), {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: null,
    });
    for (const bad of [
      "permessage-deflate; server_max_window_bits=12", // larger than requested
      "permessage-deflate; server_max_window_bits=08", // leading zero
      "permessage-deflate; server_max_window_bits", // no value
      "permessage-deflate; x=1", // unknown parameter
      "x-webkit-deflate-frame", // not offered
    ]) {
      assert.throws(() => parseResponse(bad, offers), NegotiationViolation, bad);
    }
    assert.throws(
      () => parseResponse("permessage-deflate", [{ requestNoContextTakeover: true }]),
      NegotiationViolation,
    );
  });
});

describe("MessageCodec", () => {
  const agreement = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 10,
    clientMaxWindowBits: null,
  };

  it("round-trips messages between the two roles, with and without context takeover", async () => {
    const client = new MessageCodec(settingsFor(agreement, "client"));
    const server = new MessageCodec(settingsFor(agreement, "server"));
    try {
      const message = Buffer.from("Hello, hello, hello, hello!".repeat(20));
      for (let i = 0; i < 3; i++) {
        const fromServer = await server.compress(message);
        assert.deepEqual(await client.decompress(fromServer), message);
        const fromClient = await client.compress(message);
        assert.deepEqual(await server.decompress(fromClient), message);
      }
      // The server keeps its context: a repeated message costs a few bytes.
      assert.ok((await server.compress(message)).length < 10);
      // The client resets its context after each message.
      assert.ok((await client.compress(message)).length > 10);
    } finally {
      client.close();
      server.close();
    }
  });

  it("removes the 00 00 ff ff tail that RFC 7692 §7.2.1 says to remove", async () => {
    const codec = new MessageCodec(settingsFor(agreement, "server"));
    try {
      const compressed = await codec.compress(Buffer.from("Hello"));
      assert.notDeepEqual(compressed.subarray(-4), Buffer.from([0, 0, 0xff, 0xff]));
    } finally {
      codec.close();
    }
  });

  it("fails on data that does not inflate", async () => {
    const codec = new MessageCodec(settingsFor(agreement, "client"));
    try {
      await assert.rejects(codec.decompress(Buffer.from([0xff, 0xff, 0xff])));
    } finally {
      codec.close();
    }
  });
});
