/**
 * The extension interfaces of RFC 6455 §9. The module declares types only:
 * these tests are checked by tsc (`npm run typecheck`), where a `true
 * satisfies SameType<…>` that doesn't hold and a `@ts-expect-error` without
 * its error both fail the build, and run the library's own extension and
 * factories through the interfaces.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type {
  ClientExtensionFactory,
  Extension,
  ExtensionHeader,
  ExtensionParameter,
  MessageOptions,
  ServerExtensionFactory,
} from "../../../src/core/extensions/base.js";
import * as baseModule from "../../../src/core/extensions/base.js";
import {
  ClientPerMessageDeflateFactory,
  ServerPerMessageDeflateFactory,
} from "../../../src/core/extensions/permessage-deflate-negotiation.js";
import { Frame } from "../../../src/core/frame.js";
import type * as headerValues from "../../../src/core/header-values.js";
import { Opcode } from "../../../src/core/opcodes.js";
import { utf8 } from "../../helpers/bytes.js";

/** An extension that changes nothing and uses no RSV bit. */
const identity: Extension = {
  name: "x-identity",
  decode: (frame) => frame,
  encode: (frame) => frame,
};

describe("extensions/base", () => {
  it("exports nothing at run time", () => {
    assert.deepEqual(Object.keys(baseModule), []);
  });

  it("re-exports ExtensionParameter and ExtensionHeader from header-values", () => {
    true satisfies SameType<ExtensionParameter, headerValues.ExtensionParameter>;
    true satisfies SameType<ExtensionHeader, headerValues.ExtensionHeader>;
    const parameter: ExtensionParameter = ["client_max_window_bits", null];
    const header: ExtensionHeader = ["permessage-deflate", [parameter]];
    assert.deepEqual(header[1], [["client_max_window_bits", null]]);
  });

  it("makes maxEncodedSize optional and name, decode and encode required", () => {
    const frame = new Frame(Opcode.TEXT, utf8("a"));
    assert.equal(identity.decode(frame, Number.POSITIVE_INFINITY), frame);
    assert.equal(identity.encode(frame), frame);
    assert.equal(identity.maxEncodedSize, undefined);
    // @ts-expect-error: an extension encodes.
    const noEncode: Extension = { name: "x", decode: (f: Frame) => f };
    // @ts-expect-error: an extension has a name.
    const noName: Extension = { decode: (f: Frame) => f, encode: (f: Frame) => f };
    assert.equal(noEncode.name, "x");
    assert.equal(noName.name, undefined);
  });

  it("types MessageOptions.compress as an optional boolean that may be given as undefined", () => {
    const options: MessageOptions[] = [
      {},
      { compress: true },
      { compress: false },
      { compress: undefined },
    ];
    // @ts-expect-error: compress is a boolean.
    const wrong: MessageOptions = { compress: "no" };
    assert.equal(options.length, 4);
    assert.equal(wrong.compress, "no");
  });

  it("is what the permessage-deflate extension and its factories implement", () => {
    const client: ClientExtensionFactory = new ClientPerMessageDeflateFactory();
    const server: ServerExtensionFactory = new ServerPerMessageDeflateFactory();
    assert.equal(client.name, "permessage-deflate");
    assert.equal(server.name, "permessage-deflate");
    const [response, serverSide] = server.processRequestParams(client.getRequestParams(), []);
    const clientSide: Extension = client.processResponseParams(response, []);
    assert.equal(clientSide.name, "permessage-deflate");
    assert.equal(serverSide.name, "permessage-deflate");
    // What one side encodes through the interface, the other decodes.
    const sent = clientSide.encode(new Frame(Opcode.TEXT, utf8("Hello")), { compress: true });
    assert.equal(sent.rsv1, true);
    const received = serverSide.decode(sent, Number.POSITIVE_INFINITY);
    assert.equal(new TextDecoder().decode(received.data), "Hello");
    assert.equal(received.rsv1, false);
    // Compression expands data: it says how large its frames may be.
    assert.equal(typeof serverSide.maxEncodedSize, "function");
  });

  it("passes the extensions accepted so far to the factories", () => {
    const client: ClientExtensionFactory = new ClientPerMessageDeflateFactory();
    const accepted: readonly Extension[] = [identity, client.processResponseParams([], [])];
    assert.throws(() => client.processResponseParams([], accepted), {
      name: "NegotiationError",
      message: "received duplicate permessage-deflate",
    });
    assert.equal(client.processResponseParams([], [identity]).name, "permessage-deflate");
  });
});

/** `true` when `A` and `B` are the same type, else `false`, which `true` doesn't satisfy. */
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
