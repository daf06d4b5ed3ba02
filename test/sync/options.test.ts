/** The blocking client's options as they are checked and sent to the worker thread. */

import assert from "node:assert/strict";
import * as net from "node:net";
import { describe, it } from "node:test";
import { Headers } from "../../src/core/headers.js";
import { DEFAULTS } from "../../src/node/connection.js";
import {
  type ConnectOptions,
  deliveryWindow,
  toWorkerOptions,
  writeHighWaterMark,
} from "../../src/sync/options.js";

describe("toWorkerOptions()", () => {
  it("sends headers as pairs, a proxy URL as its href, and whether to forward logs", () => {
    const headers = new Headers([["X-One", "1"]]);
    headers.append("X-One", "2");
    const options = toWorkerOptions({
      additionalHeaders: headers,
      proxy: new URL("http://proxy.test:3128"),
      openTimeout: 500,
      subprotocols: ["chat"],
      logger: console,
    });
    assert.deepEqual(options, {
      additionalHeaders: [
        ["X-One", "1"],
        ["X-One", "2"],
      ],
      proxy: "http://proxy.test:3128/",
      openTimeout: 500,
      subprotocols: ["chat"],
      forwardLogs: true,
    });
    assert.deepEqual(structuredClone(options), options);
  });

  it("refuses a duration or size out of range before a thread is started", () => {
    assert.throws(() => toWorkerOptions({ openTimeout: -1 }), {
      name: "RangeError",
      message: /^openTimeout must be/,
    });
    assert.throws(() => toWorkerOptions({ maxQueue: 0 }), {
      name: "RangeError",
      message: /^maxQueue must be/,
    });
    assert.throws(() => toWorkerOptions({ maxMessageSize: 0 }), {
      name: "RangeError",
      message: /^maxMessageSize must be/,
    });
  });

  it("takes headers as a record or pairs, keeps proxy strings and booleans, and forwards logs by default", () => {
    assert.deepEqual(toWorkerOptions({}), { additionalHeaders: [], forwardLogs: true });
    assert.deepEqual(toWorkerOptions({ additionalHeaders: { Origin: "https://a.test" } }), {
      additionalHeaders: [["Origin", "https://a.test"]],
      forwardLogs: true,
    });
    for (const proxy of ["socks5h://proxy.test", true, false, null] as const) {
      assert.equal(toWorkerOptions({ proxy }).proxy, proxy);
    }
    assert.equal("proxy" in toWorkerOptions({ proxy: undefined }), false);
    assert.equal(toWorkerOptions({ logger: null }).forwardLogs, false);
    assert.equal("logger" in toWorkerOptions({ logger: console }), false);
  });

  it("refuses the options that cannot leave the caller's thread, saying why", () => {
    const refused: [string, unknown, RegExp][] = [
      [
        "signal",
        AbortSignal.abort(),
        /^the blocking client does not take the signal option: .*openTimeout$/,
      ],
      ["extensions", [], /^the blocking client does not take the extensions option: /],
      ["socket", new net.Socket(), /^the blocking client does not take the socket option: /],
    ];
    for (const [name, value, message] of refused) {
      assert.throws(() => toWorkerOptions({ [name]: value } as ConnectOptions), {
        name: "TypeError",
        message,
      });
    }
    // Given as undefined, they are not given.
    assert.doesNotThrow(() => toWorkerOptions({ signal: undefined } as ConnectOptions));
  });

  it("refuses an unknown option, with the one meant when it is close", () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    assert.throws(() => toWorkerOptions({ subprotocol: ["chat"], pingIntervall: 5 }), {
      name: "TypeError",
      message: 'unknown option "subprotocol" for connect(); did you mean "subprotocols"?',
    });
    assert.throws(() => toWorkerOptions({ pingIntervall: 5 } as ConnectOptions), {
      name: "TypeError",
      message: 'unknown option "pingIntervall" for connect(); did you mean "pingInterval"?',
    });
    assert.throws(() => toWorkerOptions({ deflate: { windwBits: 9 } } as ConnectOptions), {
      name: "TypeError",
      message:
        'unknown option "deflate.windwBits" for connect(); did you mean "deflate.windowBits"?',
    });
    // A misspelled refused option is pointed to, and then refused for its own reason.
    assert.throws(() => toWorkerOptions({ signl: AbortSignal.abort() } as ConnectOptions), {
      message: 'unknown option "signl" for connect(); did you mean "signal"?',
    });
    assert.throws(() => toWorkerOptions(null as never), {
      name: "TypeError",
      message: "connect() takes an options object; got null",
    });
  });

  it("refuses values that cannot be cloned, with the cloning error as the cause", () => {
    const error = (() => {
      try {
        toWorkerOptions({ tcp: { lookup: () => {} } } as unknown as ConnectOptions);
      } catch (caught) {
        return caught;
      }
      assert.fail("expected a TypeError");
    })();
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /^an option cannot be sent to the worker thread: /);
    assert.equal((error.cause as Error).name, "DataCloneError");
  });
});

describe("deliveryWindow() and writeHighWaterMark()", () => {
  it("follow maxQueue and writeHighWaterMark, with the async client's defaults", () => {
    assert.equal(deliveryWindow({}), DEFAULTS.maxQueue);
    assert.equal(deliveryWindow({ maxQueue: 4 }), 4);
    // The worker must be able to deliver at least one message.
    assert.equal(deliveryWindow({ maxQueue: 0 }), 1);
    assert.equal(writeHighWaterMark({}), DEFAULTS.writeHighWaterMark);
    assert.equal(writeHighWaterMark({ writeHighWaterMark: 0 }), 0);
    assert.equal(writeHighWaterMark({ writeHighWaterMark: 1 << 20 }), 1 << 20);
  });
});
