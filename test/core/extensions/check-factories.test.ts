import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkClientFactories,
  checkServerFactories,
} from "../../../src/core/extensions/check-factories.js";
import {
  ClientPerMessageDeflateFactory,
  ServerPerMessageDeflateFactory,
} from "../../../src/core/extensions/permessage-deflate-negotiation.js";

const CLIENT =
  "extensions must be an array of client extension factories, with a name and getRequestParams() and processResponseParams()";
const SERVER =
  "extensions must be an array of server extension factories, with a name and processRequestParams()";

describe("checkClientFactories", () => {
  it("takes undefined, an empty array and factories", () => {
    checkClientFactories(undefined);
    checkClientFactories([]);
    checkClientFactories([
      new ClientPerMessageDeflateFactory(),
      { name: "x-own", getRequestParams: () => [], processResponseParams: () => ({}) },
    ]);
  });

  it("refuses anything else with a TypeError naming the item", () => {
    const cases: [unknown, string][] = [
      ["permessage-deflate", `${CLIENT}; got "permessage-deflate"`],
      [null, `${CLIENT}; got null`],
      [new ClientPerMessageDeflateFactory(), `${CLIENT}; got a ClientPerMessageDeflateFactory`],
      [[{}], `${CLIENT}; item 0 is an Object`],
      [[new ClientPerMessageDeflateFactory(), "x"], `${CLIENT}; item 1 is "x"`],
      // A server's factory on a client.
      [
        [new ServerPerMessageDeflateFactory()],
        `${CLIENT}; item 0 is a ServerPerMessageDeflateFactory`,
      ],
      [
        [{ name: 1, getRequestParams() {}, processResponseParams() {} }],
        `${CLIENT}; item 0 is an Object`,
      ],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => checkClientFactories(value), { name: "TypeError", message });
    }
  });
});

describe("checkServerFactories", () => {
  it("takes undefined, an empty array and factories", () => {
    checkServerFactories(undefined);
    checkServerFactories([]);
    checkServerFactories([
      new ServerPerMessageDeflateFactory(),
      { name: "x-own", processRequestParams: () => [[], {}] },
    ]);
  });

  it("refuses anything else with a TypeError naming the item", () => {
    const cases: [unknown, string][] = [
      [{ name: "x" }, `${SERVER}; got an Object`],
      [[{ name: "x" }], `${SERVER}; item 0 is an Object`],
      [
        [new ClientPerMessageDeflateFactory()],
        `${SERVER}; item 0 is a ClientPerMessageDeflateFactory`,
      ],
      [[null], `${SERVER}; item 0 is null`],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => checkServerFactories(value), { name: "TypeError", message });
    }
  });
});
