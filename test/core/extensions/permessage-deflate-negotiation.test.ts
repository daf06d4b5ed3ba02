import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClientProtocol } from "../../../src/core/client.js";
import {
  DuplicateParameter,
  InvalidParameterName,
  InvalidParameterValue,
  NegotiationError,
} from "../../../src/core/errors.js";
import type { ExtensionParameter } from "../../../src/core/extensions/base.js";
import type { PerMessageDeflate } from "../../../src/core/extensions/permessage-deflate.js";
import {
  ClientPerMessageDeflateFactory,
  type ClientPerMessageDeflateOptions,
  ServerPerMessageDeflateFactory,
  type ServerPerMessageDeflateOptions,
} from "../../../src/core/extensions/permessage-deflate-negotiation.js";
import type { PerMessageDeflateParameters } from "../../../src/core/extensions/permessage-deflate-settings.js";
import { acceptKey } from "../../../src/core/handshake.js";
import { Headers } from "../../../src/core/headers.js";
import type { Request } from "../../../src/core/request.js";
import { Response } from "../../../src/core/response.js";
import { ServerProtocol } from "../../../src/core/server.js";
import { State } from "../../../src/core/state.js";
import { DEFAULTS, frames, text } from "../../helpers/deflate.js";

/** A negotiation error's class, for assert.throws. */
type ErrorClass = new (...args: never[]) => NegotiationError;

describe("ClientPerMessageDeflateFactory", () => {
  it("offers client_max_window_bits without a value by default, like browsers", () => {
    assert.deepEqual(new ClientPerMessageDeflateFactory().getRequestParams(), [
      ["client_max_window_bits", null],
    ]);
  });

  it("offers every RFC 7692 §7.1 parameter it is given", () => {
    const factory = new ClientPerMessageDeflateFactory({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    });
    assert.deepEqual(factory.getRequestParams(), [
      ["server_no_context_takeover", null],
      ["client_no_context_takeover", null],
      ["server_max_window_bits", "10"],
      ["client_max_window_bits", "11"],
    ]);
    assert.deepEqual(
      new ClientPerMessageDeflateFactory({ clientMaxWindowBits: null }).getRequestParams(),
      [],
    );
  });

  it("refuses invalid settings when it is created", () => {
    const invalid: ClientPerMessageDeflateOptions[] = [
      { serverMaxWindowBits: 7 },
      { clientMaxWindowBits: 16 },
      { serverMaxWindowBits: 12.5 },
      { level: 10 },
      { level: -2 },
      { memLevel: 0 },
      { memLevel: 10 },
      { threshold: -1 },
      { threshold: Number.NaN },
    ];
    for (const options of invalid) {
      assert.throws(
        () => new ClientPerMessageDeflateFactory(options),
        RangeError,
        JSON.stringify(options),
      );
    }
  });

  const accepts: [
    ClientPerMessageDeflateOptions,
    ExtensionParameter[],
    Partial<PerMessageDeflateParameters>,
  ][] = [
    [{}, [], {}],
    [{}, [["server_no_context_takeover", null]], { remoteNoContextTakeover: true }],
    [{}, [["client_no_context_takeover", null]], { localNoContextTakeover: true }],
    [{ clientNoContextTakeover: true }, [], { localNoContextTakeover: true }],
    [{}, [["server_max_window_bits", "10"]], { remoteMaxWindowBits: 10 }],
    [{}, [["client_max_window_bits", "9"]], { localMaxWindowBits: 9 }],
    [{ clientMaxWindowBits: 11 }, [], { localMaxWindowBits: 11 }],
    [{ clientMaxWindowBits: 11 }, [["client_max_window_bits", "8"]], { localMaxWindowBits: 8 }],
    [{ serverMaxWindowBits: 12 }, [["server_max_window_bits", "12"]], { remoteMaxWindowBits: 12 }],
    [{ serverMaxWindowBits: 12 }, [["server_max_window_bits", "9"]], { remoteMaxWindowBits: 9 }],
    [
      { serverNoContextTakeover: true },
      [["server_no_context_takeover", null]],
      { remoteNoContextTakeover: true },
    ],
  ];
  for (const [options, response, expected] of accepts) {
    it(`accepts ${JSON.stringify(response)} to an offer of ${JSON.stringify(options)}`, () => {
      const extension = new ClientPerMessageDeflateFactory(options).processResponseParams(
        response,
        [],
      );
      assert.deepEqual(
        {
          localNoContextTakeover: extension.localNoContextTakeover,
          remoteNoContextTakeover: extension.remoteNoContextTakeover,
          localMaxWindowBits: extension.localMaxWindowBits,
          remoteMaxWindowBits: extension.remoteMaxWindowBits,
        },
        { ...DEFAULTS, ...expected },
      );
    });
  }

  const rejects: [ClientPerMessageDeflateOptions, ExtensionParameter[], ErrorClass][] = [
    [{}, [["x_unknown", null]], InvalidParameterName],
    [{}, [["server_no_context_takeover", "1"]], InvalidParameterValue],
    [{}, [["client_no_context_takeover", ""]], InvalidParameterValue],
    [
      {},
      [
        ["server_no_context_takeover", null],
        ["server_no_context_takeover", null],
      ],
      DuplicateParameter,
    ],
    [{}, [["server_max_window_bits", null]], InvalidParameterValue],
    [{}, [["server_max_window_bits", "7"]], InvalidParameterValue],
    [{}, [["server_max_window_bits", "16"]], InvalidParameterValue],
    [{}, [["server_max_window_bits", "09"]], InvalidParameterValue],
    [{}, [["server_max_window_bits", "1e1"]], InvalidParameterValue],
    // RFC 7692 §7.1.2.2: a response's client_max_window_bits has a value.
    [{}, [["client_max_window_bits", null]], InvalidParameterValue],
    // RFC 7692 §7.1.2.2: only if offered, and never above the offered value.
    [{ clientMaxWindowBits: null }, [["client_max_window_bits", "10"]], NegotiationError],
    [{ clientMaxWindowBits: 10 }, [["client_max_window_bits", "11"]], InvalidParameterValue],
    // RFC 7692 §7.1.2.1: a requested limit is answered with the same or a smaller one.
    [{ serverMaxWindowBits: 10 }, [], NegotiationError],
    [{ serverMaxWindowBits: 10 }, [["server_max_window_bits", "11"]], InvalidParameterValue],
    // RFC 7692 §7.1.1.1: a requested server_no_context_takeover is echoed.
    [{ serverNoContextTakeover: true }, [], NegotiationError],
  ];
  for (const [options, response, ErrorClass] of rejects) {
    it(`rejects ${JSON.stringify(response)} to an offer of ${JSON.stringify(options)}`, () => {
      const factory = new ClientPerMessageDeflateFactory(options);
      assert.throws(() => factory.processResponseParams(response, []), ErrorClass);
    });
  }

  it("rejects a second permessage-deflate in the response", () => {
    const factory = new ClientPerMessageDeflateFactory();
    const first = factory.processResponseParams([], []);
    assert.throws(() => factory.processResponseParams([], [first]), NegotiationError);
  });
});

describe("ServerPerMessageDeflateFactory", () => {
  const answers: [
    ServerPerMessageDeflateOptions,
    ExtensionParameter[],
    ExtensionParameter[],
    Partial<PerMessageDeflateParameters>,
  ][] = [
    [{}, [], [], {}],
    // What browsers offer.
    [{}, [["client_max_window_bits", null]], [], {}],
    [
      { serverMaxWindowBits: 12, clientMaxWindowBits: 12 },
      [["client_max_window_bits", null]],
      [
        ["server_max_window_bits", "12"],
        ["client_max_window_bits", "12"],
      ],
      { localMaxWindowBits: 12, remoteMaxWindowBits: 12 },
    ],
    // RFC 7692 §7.1.2.2: no client_max_window_bits in the answer unless offered.
    [{ clientMaxWindowBits: 12 }, [], [], { remoteMaxWindowBits: 15 }],
    [
      { clientMaxWindowBits: 12 },
      [["client_max_window_bits", "10"]],
      [["client_max_window_bits", "10"]],
      { remoteMaxWindowBits: 10 },
    ],
    [
      {},
      [["client_max_window_bits", "10"]],
      [["client_max_window_bits", "10"]],
      { remoteMaxWindowBits: 10 },
    ],
    [
      { serverMaxWindowBits: 12 },
      [["server_max_window_bits", "10"]],
      [["server_max_window_bits", "10"]],
      { localMaxWindowBits: 10 },
    ],
    [
      { serverMaxWindowBits: 9 },
      [["server_max_window_bits", "10"]],
      [["server_max_window_bits", "9"]],
      { localMaxWindowBits: 9 },
    ],
    [
      {},
      [["server_no_context_takeover", null]],
      [["server_no_context_takeover", null]],
      { localNoContextTakeover: true },
    ],
    [
      { serverNoContextTakeover: true },
      [],
      [["server_no_context_takeover", null]],
      { localNoContextTakeover: true },
    ],
    [
      {},
      [["client_no_context_takeover", null]],
      [["client_no_context_takeover", null]],
      { remoteNoContextTakeover: true },
    ],
    [
      { clientNoContextTakeover: true },
      [],
      [["client_no_context_takeover", null]],
      { remoteNoContextTakeover: true },
    ],
    [
      {},
      [
        ["client_max_window_bits", "8"],
        ["server_max_window_bits", "8"],
        ["client_no_context_takeover", null],
        ["server_no_context_takeover", null],
      ],
      [
        ["server_no_context_takeover", null],
        ["client_no_context_takeover", null],
        ["server_max_window_bits", "8"],
        ["client_max_window_bits", "8"],
      ],
      {
        localNoContextTakeover: true,
        remoteNoContextTakeover: true,
        localMaxWindowBits: 8,
        remoteMaxWindowBits: 8,
      },
    ],
  ];
  for (const [options, offer, response, expected] of answers) {
    it(`answers ${JSON.stringify(offer)} with ${JSON.stringify(response)} given ${JSON.stringify(options)}`, () => {
      const [params, extension] = new ServerPerMessageDeflateFactory(options).processRequestParams(
        offer,
        [],
      );
      assert.deepEqual(params, response);
      assert.deepEqual(
        {
          localNoContextTakeover: extension.localNoContextTakeover,
          remoteNoContextTakeover: extension.remoteNoContextTakeover,
          localMaxWindowBits: extension.localMaxWindowBits,
          remoteMaxWindowBits: extension.remoteMaxWindowBits,
        },
        { ...DEFAULTS, ...expected },
      );
    });
  }

  const declines: [ExtensionParameter[], ErrorClass][] = [
    [[["x_unknown", "1"]], InvalidParameterName],
    [[["client_no_context_takeover", "yes"]], InvalidParameterValue],
    [[["server_max_window_bits", null]], InvalidParameterValue],
    [[["server_max_window_bits", "0x0f"]], InvalidParameterValue],
    [[["client_max_window_bits", "7"]], InvalidParameterValue],
    [[["client_max_window_bits", ""]], InvalidParameterValue],
    [
      [
        ["client_max_window_bits", null],
        ["client_max_window_bits", "10"],
      ],
      DuplicateParameter,
    ],
  ];
  for (const [offer, ErrorClass] of declines) {
    it(`declines ${JSON.stringify(offer)}`, () => {
      const factory = new ServerPerMessageDeflateFactory();
      assert.throws(() => factory.processRequestParams(offer, []), ErrorClass);
    });
  }

  it("declines a second offer once one is accepted", () => {
    const factory = new ServerPerMessageDeflateFactory();
    const [, first] = factory.processRequestParams([], []);
    assert.throws(() => factory.processRequestParams([], [first]), NegotiationError);
  });

  it("refuses invalid settings when it is created", () => {
    assert.throws(
      () => new ServerPerMessageDeflateFactory({ serverMaxWindowBits: 16 }),
      RangeError,
    );
    assert.throws(() => new ServerPerMessageDeflateFactory({ clientMaxWindowBits: 7 }), RangeError);
    assert.throws(() => new ServerPerMessageDeflateFactory({ memLevel: 1.5 }), RangeError);
  });
});

describe("permessage-deflate in the opening handshake", () => {
  /** Runs a handshake between a client and a server protocol, in memory. */
  function handshake(
    client: ClientPerMessageDeflateOptions | null,
    server: ServerPerMessageDeflateOptions | null,
  ): [ClientProtocol, ServerProtocol] {
    const clientProtocol = new ClientProtocol("ws://example.com/", {
      extensions: client === null ? [] : [new ClientPerMessageDeflateFactory(client)],
      maxMessageSize: null,
    });
    const serverProtocol = new ServerProtocol({
      extensions: server === null ? [] : [new ServerPerMessageDeflateFactory(server)],
      maxMessageSize: null,
    });
    clientProtocol.sendRequest(clientProtocol.connect());
    for (const chunk of clientProtocol.dataToSend()) serverProtocol.receiveData(chunk);
    const [request] = serverProtocol.eventsReceived();
    serverProtocol.sendResponse(serverProtocol.accept(request as Request));
    for (const chunk of serverProtocol.dataToSend()) clientProtocol.receiveData(chunk);
    clientProtocol.eventsReceived();
    assert.equal(clientProtocol.state, State.OPEN);
    return [clientProtocol, serverProtocol];
  }

  it("negotiates the defaults and compresses both ways", () => {
    const [client, server] = handshake({}, { serverMaxWindowBits: 12, clientMaxWindowBits: 12 });
    const [clientExtension] = client.extensions as PerMessageDeflate[];
    const [serverExtension] = server.extensions as PerMessageDeflate[];
    assert.equal(clientExtension!.localMaxWindowBits, 12);
    assert.equal(clientExtension!.remoteMaxWindowBits, 12);
    assert.equal(serverExtension!.localMaxWindowBits, 12);
    assert.equal(serverExtension!.remoteMaxWindowBits, 12);
    client.sendText("Hello, server! ".repeat(10));
    for (const chunk of client.dataToSend()) server.receiveData(chunk);
    assert.equal(text(frames(server)[0]!.data), "Hello, server! ".repeat(10));
    server.sendText("Hello, client! ".repeat(10));
    for (const chunk of server.dataToSend()) client.receiveData(chunk);
    assert.equal(text(frames(client)[0]!.data), "Hello, client! ".repeat(10));
  });

  it("does without compression when either side doesn't support it", () => {
    assert.deepEqual(handshake({}, null)[0].extensions, []);
    assert.deepEqual(handshake(null, {})[1].extensions, []);
  });

  it("fails the client's handshake on a response it can't honour", () => {
    const client = new ClientProtocol("ws://example.com/", {
      extensions: [new ClientPerMessageDeflateFactory({ serverNoContextTakeover: true })],
    });
    const request = client.connect();
    client.sendRequest(request);
    const response = new Response(
      101,
      "Switching Protocols",
      new Headers([
        ["Upgrade", "websocket"],
        ["Connection", "Upgrade"],
        ["Sec-WebSocket-Accept", acceptKey(request.headers.get("Sec-WebSocket-Key")!)],
        ["Sec-WebSocket-Extensions", "permessage-deflate"],
      ]),
    );
    client.receiveData(response.serialize());
    assert.ok(client.handshakeExc instanceof NegotiationError);
  });

  it("accepts the first of several offers that it can honour", () => {
    const server = new ServerProtocol({ extensions: [new ServerPerMessageDeflateFactory()] });
    const client = new ClientProtocol("ws://example.com/");
    const request = client.connect();
    request.headers.set(
      "Sec-WebSocket-Extensions",
      "permessage-deflate; server_max_window_bits=20, permessage-deflate; server_max_window_bits=10, permessage-deflate",
    );
    const response = server.accept(request);
    assert.equal(response.status, 101);
    assert.deepEqual(response.headers.getAll("Sec-WebSocket-Extensions"), [
      "permessage-deflate; server_max_window_bits=10",
    ]);
    assert.equal(server.extensions.length, 1);
  });
});
