import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DuplicateParameter,
  InvalidParameterName,
  InvalidParameterValue,
  type NegotiationError,
} from "../../src/core/errors.js";
import type { ExtensionParameter } from "../../src/core/extensions/base.js";
import { PerMessageDeflate } from "../../src/core/extensions/permessage-deflate.js";
import { ClientPerMessageDeflateFactory } from "../../src/core/extensions/permessage-deflate-negotiation.js";
import type { PerMessageDeflateParameters } from "../../src/core/extensions/permessage-deflate-settings.js";
import { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import {
  FallbackDeflateFactory,
  type LocalDeflateLimits,
} from "../../src/node/deflate-fallback.js";
import { utf8 } from "../helpers/bytes.js";
import { DEFAULTS, text } from "../helpers/deflate.js";

const NO_LIMITS: LocalDeflateLimits = { windowBits: null, noContextTakeover: false };

/** The negotiated parameters of the extension that `limits` and the server's `response` give. */
function negotiate(
  limits: LocalDeflateLimits,
  response: readonly ExtensionParameter[],
): PerMessageDeflateParameters {
  const extension = new FallbackDeflateFactory(limits, {}).processResponseParams(response, []);
  assert.ok(extension instanceof PerMessageDeflate);
  return {
    localNoContextTakeover: extension.localNoContextTakeover,
    remoteNoContextTakeover: extension.remoteNoContextTakeover,
    localMaxWindowBits: extension.localMaxWindowBits,
    remoteMaxWindowBits: extension.remoteMaxWindowBits,
  };
}

describe("FallbackDeflateFactory", () => {
  it("offers a bare client_max_window_bits, whatever this side's limits", () => {
    for (const limits of [
      NO_LIMITS,
      { windowBits: 9, noContextTakeover: true },
      { windowBits: 15, noContextTakeover: false },
    ]) {
      const factory = new FallbackDeflateFactory(limits, { level: 1, threshold: 10 });
      assert.equal(factory.name, "permessage-deflate");
      assert.deepEqual(factory.getRequestParams(), [["client_max_window_bits", null]]);
    }
  });

  it("is a permessage-deflate client factory", () => {
    assert.ok(new FallbackDeflateFactory(NO_LIMITS, {}) instanceof ClientPerMessageDeflateFactory);
  });

  it("refuses invalid zlib settings when it is created", () => {
    assert.throws(() => new FallbackDeflateFactory(NO_LIMITS, { level: 10 }), {
      name: "RangeError",
      message: "level must be an integer from -1 to 9, got 10",
    });
    assert.throws(() => new FallbackDeflateFactory(NO_LIMITS, { memLevel: 0 }), {
      name: "RangeError",
      message: "memLevel must be an integer from 1 to 9, got 0",
    });
    assert.throws(() => new FallbackDeflateFactory(NO_LIMITS, { threshold: -1 }), {
      name: "RangeError",
      message: "threshold must be 0 or more, got -1",
    });
    assert.throws(
      () => new FallbackDeflateFactory(NO_LIMITS, { scheduleRelease: "soon" as never }),
      { name: "TypeError", message: "scheduleRelease must be a function" },
    );
  });

  it("checks this side's window bits when it builds the extension, not before", () => {
    const factory = new FallbackDeflateFactory({ windowBits: 7, noContextTakeover: false }, {});
    assert.deepEqual(factory.getRequestParams(), [["client_max_window_bits", null]]);
    assert.throws(() => factory.processResponseParams([], []), {
      name: "RangeError",
      message: "localMaxWindowBits must be an integer from 8 to 15, got 7",
    });
  });

  it("builds RFC 7692's defaults from an empty answer without limits of its own", () => {
    assert.deepEqual(negotiate(NO_LIMITS, []), DEFAULTS);
  });

  it("keeps this side's window and no context takeover though the server didn't ask for them", () => {
    assert.deepEqual(negotiate({ windowBits: 10, noContextTakeover: true }, []), {
      ...DEFAULTS,
      localNoContextTakeover: true,
      localMaxWindowBits: 10,
    });
  });

  it("takes the smaller of this side's window and the one the server sets", () => {
    const limited = { windowBits: 10, noContextTakeover: false };
    const answer = (bits: string): ExtensionParameter[] => [["client_max_window_bits", bits]];
    assert.equal(negotiate(limited, answer("12")).localMaxWindowBits, 10);
    assert.equal(negotiate(limited, answer("10")).localMaxWindowBits, 10);
    assert.equal(negotiate(limited, answer("9")).localMaxWindowBits, 9);
    assert.equal(negotiate(limited, answer("8")).localMaxWindowBits, 8);
    assert.equal(negotiate(NO_LIMITS, answer("12")).localMaxWindowBits, 12);
  });

  it("honours the server's no context takeover and window for either side", () => {
    assert.deepEqual(
      negotiate(NO_LIMITS, [
        ["server_no_context_takeover", null],
        ["client_no_context_takeover", null],
        ["server_max_window_bits", "9"],
      ]),
      {
        localNoContextTakeover: true,
        remoteNoContextTakeover: true,
        localMaxWindowBits: 15,
        remoteMaxWindowBits: 9,
      },
    );
  });

  it("refuses the answers the first offer's factory refuses", () => {
    const factory = new FallbackDeflateFactory({ windowBits: 9, noContextTakeover: true }, {});
    const cases: [ExtensionParameter[], new (...args: never[]) => NegotiationError, string][] = [
      [[["x_unknown", null]], InvalidParameterName, "invalid parameter name: x_unknown"],
      [
        [
          ["server_no_context_takeover", null],
          ["server_no_context_takeover", null],
        ],
        DuplicateParameter,
        "duplicate parameter: server_no_context_takeover",
      ],
      [
        [["client_max_window_bits", null]],
        InvalidParameterValue,
        "invalid value for parameter client_max_window_bits: null",
      ],
      [
        [["client_max_window_bits", "16"]],
        InvalidParameterValue,
        "invalid value for parameter client_max_window_bits: 16",
      ],
      [
        [["server_max_window_bits", "7"]],
        InvalidParameterValue,
        "invalid value for parameter server_max_window_bits: 7",
      ],
      [
        [["client_no_context_takeover", "1"]],
        InvalidParameterValue,
        "invalid value for parameter client_no_context_takeover: 1",
      ],
    ];
    for (const [response, errorClass, message] of cases) {
      assert.throws(
        () => factory.processResponseParams(response, []),
        (error) => {
          assert.ok(error instanceof errorClass, String(error));
          assert.equal(error.message, message);
          return true;
        },
      );
    }
  });

  it("refuses a second permessage-deflate", () => {
    const factory = new FallbackDeflateFactory(NO_LIMITS, {});
    const first = new ClientPerMessageDeflateFactory().processResponseParams([], []);
    assert.throws(() => factory.processResponseParams([], [first]), {
      name: "NegotiationError",
      message: "received duplicate permessage-deflate",
    });
  });

  it("builds an extension with the settings it was given: threshold and scheduleRelease", () => {
    const scheduled: PerMessageDeflate[] = [];
    const factory = new FallbackDeflateFactory(NO_LIMITS, {
      threshold: 10,
      scheduleRelease: (extension) => scheduled.push(extension),
    });
    const extension = factory.processResponseParams([], []);
    const short = new Frame(Opcode.TEXT, utf8("short"));
    assert.equal(extension.encode(short), short, "under the threshold: sent as it is");
    assert.deepEqual(scheduled, []);
    const long = extension.encode(new Frame(Opcode.TEXT, utf8("long enough to compress")));
    assert.equal(long.rsv1, true);
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0], extension);
    extension.releaseIdleState();
  });

  it("compresses within this side's window, for a peer that expects no more", () => {
    const factory = new FallbackDeflateFactory({ windowBits: 8, noContextTakeover: true }, {});
    const client = factory.processResponseParams([], []);
    // The server's view of the negotiation: the client said nothing of its
    // window or context, so it expects the defaults, which hold the client's.
    const server = new PerMessageDeflate(DEFAULTS);
    const message = "a fairly repetitive message, a fairly repetitive message".repeat(20);
    for (let i = 0; i < 3; i++) {
      const sent = client.encode(new Frame(Opcode.TEXT, utf8(message)));
      assert.equal(sent.rsv1, true);
      assert.ok(sent.data.length < message.length);
      assert.equal(text(server.decode(sent, Number.POSITIVE_INFINITY).data), message);
    }
  });
});
