/**
 * Unknown option names: the check, its suggestions, and every entry point of
 * the Node API that takes an options object. No test opens a socket: each
 * check comes before any I/O.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { basicAuth } from "../../src/node/auth.js";
import { connect } from "../../src/node/client.js";
import {
  CONNECT_OPTIONS,
  checkOptionNames,
  closestName,
  editDistance,
  type ListsEveryKey,
  optionNames,
  SERVE_OPTION_NAMES,
  SERVE_OPTIONS,
} from "../../src/node/option-names.js";
import { backoffDelay, reconnect } from "../../src/node/reconnect.js";
import { type Handler, type ServeOptions, serve } from "../../src/node/server.js";
import { unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const handler: Handler = () => {};

/** A port nothing listens on: reaching it would fail with ECONNREFUSED, not the TypeError expected. */
const NOWHERE = "ws://127.0.0.1:9/";

/** `options` as plain JavaScript passes them: no type checks. */
function untyped<T>(options: Record<string, unknown>): T {
  return options as T;
}

describe("editDistance()", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps", () => {
    assert.equal(editDistance("ping", "ping"), 0);
    assert.equal(editDistance("", "tls"), 3);
    assert.equal(editDistance("tls", ""), 3);
    assert.equal(editDistance("maxMesageSize", "maxMessageSize"), 1);
    assert.equal(editDistance("pingIntervall", "pingInterval"), 1);
    assert.equal(editDistance("pnig", "ping"), 1);
    assert.equal(editDistance("tsl", "tls"), 1);
    assert.equal(editDistance("port", "host"), 2);
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("abc", "ca"), 3);
  });
});

describe("closestName()", () => {
  it("suggests the name at most 2 edits away, the first of the closest", () => {
    assert.equal(closestName("maxMesageSize", SERVE_OPTION_NAMES), "maxMessageSize");
    assert.equal(closestName("subprotocol", SERVE_OPTION_NAMES), "subprotocols");
    assert.equal(closestName("origin", SERVE_OPTION_NAMES), "origins");
    assert.equal(closestName("prot", SERVE_OPTION_NAMES), "port");
    assert.equal(closestName("pat", ["path", "port"]), "path");
    assert.equal(closestName("ab", ["xy", "ac", "ab"]), "ab");
    assert.equal(closestName("pingTimeuot", ["pingInterval", "pingTimeout"]), "pingTimeout");
    assert.equal(closestName("pingIntrvl", ["pingInterval", "pingTimeout"]), "pingInterval");
  });

  it("ignores case", () => {
    assert.equal(closestName("MaxMessageSize", SERVE_OPTION_NAMES), "maxMessageSize");
    assert.equal(closestName("maxmesagesize", SERVE_OPTION_NAMES), "maxMessageSize");
    assert.equal(closestName("TLS", ["tls"]), "tls");
    assert.equal(closestName("P", ["p", "q"]), "p");
  });

  it("suggests nothing further away, or as far as the name is long", () => {
    assert.equal(closestName("userAgent", SERVE_OPTION_NAMES), null);
    assert.equal(closestName("maxMsgSize", SERVE_OPTION_NAMES), null);
    // Two edits, but of a two-letter name: a guess, not a misspelling.
    assert.equal(closestName("to", ["tls"]), null);
    assert.equal(closestName("x", ["y"]), null);
    assert.equal(closestName("", ["a"]), null);
  });
});

describe("checkOptionNames()", () => {
  const allowed = optionNames(["pingInterval", "deflate"], {
    deflate: optionNames(["windowBits", "level"]),
  });

  it("accepts known names, undefined values included, and nested objects of known names", () => {
    checkOptionNames({}, allowed, "f()");
    checkOptionNames({ pingInterval: undefined, deflate: undefined }, allowed, "f()");
    checkOptionNames({ deflate: { windowBits: 9, level: undefined } }, allowed, "f()");
    // As `?? {}` always read them: the defaults.
    checkOptionNames({ deflate: null }, allowed, "f()");
  });

  it("refuses an unknown name, with a suggestion when one is close", () => {
    assert.throws(() => checkOptionNames({ pingIntervall: 5 }, allowed, "f()"), {
      name: "TypeError",
      message: 'unknown option "pingIntervall" for f(); did you mean "pingInterval"?',
    });
    assert.throws(() => checkOptionNames({ pingInterval: 5, colour: "red" }, allowed, "f()"), {
      name: "TypeError",
      message: 'unknown option "colour" for f()',
    });
  });

  it("refuses an unknown name whatever its value, undefined included", () => {
    assert.throws(() => checkOptionNames({ pingIntervall: undefined }, allowed, "f()"), {
      message: 'unknown option "pingIntervall" for f(); did you mean "pingInterval"?',
    });
  });

  it("names an unknown nested option by its path", () => {
    assert.throws(() => checkOptionNames({ deflate: { windwBits: 9 } }, allowed, "f()"), {
      name: "TypeError",
      message: 'unknown option "deflate.windwBits" for f(); did you mean "deflate.windowBits"?',
    });
  });

  it("quotes a name as JSON, control characters escaped", () => {
    assert.throws(() => checkOptionNames({ 'a"\n': 1 }, allowed, "f()"), {
      message: 'unknown option "a\\"\\n" for f()',
    });
  });

  it("refuses options, or nested options, that are not objects", () => {
    for (const [value, kind] of [
      [null, "null"],
      [5, "a number"],
      ["pingInterval", "a string"],
    ] as const) {
      assert.throws(() => checkOptionNames(value, allowed, "f()"), {
        name: "TypeError",
        message: `f() takes an options object; got ${kind}`,
      });
    }
    assert.throws(() => checkOptionNames({ deflate: true }, allowed, "f()"), {
      name: "TypeError",
      message: "f() takes an object for deflate; got a boolean",
    });
  });

  it("reads own string keys only: not inherited ones, nor symbols", () => {
    const options = Object.create({ inherited: 1 }) as Record<string | symbol, unknown>;
    options[Symbol("tag")] = 1;
    options.pingInterval = 5;
    checkOptionNames(options, allowed, "f()");
  });

  it("leaves options passed on to Node (tls, tcp) to Node", () => {
    checkOptionNames(
      { tls: { anyNodeOption: 1 }, tcp: { anotherOne: 2 }, proxyTls: { third: 3 } },
      CONNECT_OPTIONS,
      "connect()",
    );
    checkOptionNames({ tls: { anyNodeOption: 1 } }, SERVE_OPTIONS, "serve()");
  });

  it("takes a list only when it names every key of its interface", () => {
    // Checked by the compiler: the second line compiles only because its
    // error is expected, and an expected error that doesn't come fails too.
    true satisfies ListsEveryKey<{ a?: number; b?: string }, ["a", "b"]>;
    // @ts-expect-error: "b" is not listed.
    true satisfies ListsEveryKey<{ a?: number; b?: string }, ["a"]>;
  });
});

describe("entry points", () => {
  it("serve() rejects an unknown option before listening", async () => {
    await assert.rejects(
      // @ts-expect-error: TypeScript rejects it at compile time.
      serve(handler, { subprotocol: ["chat"], maxMesageSize: 10 }),
      {
        name: "TypeError",
        message: 'unknown option "subprotocol" for serve(); did you mean "subprotocols"?',
      },
    );
    await assert.rejects(serve(handler, untyped({ listen: false, maxMesageSize: 10 })), {
      name: "TypeError",
      message: 'unknown option "maxMesageSize" for serve(); did you mean "maxMessageSize"?',
    });
    await assert.rejects(serve(handler, untyped({ listen: false, deflate: { windwBits: 9 } })), {
      message: 'unknown option "deflate.windwBits" for serve(); did you mean "deflate.windowBits"?',
    });
    await assert.rejects(
      serve(handler, untyped({ listen: false, httpLimits: { maxHeader: 10 } })),
      {
        message:
          'unknown option "httpLimits.maxHeader" for serve(); did you mean "httpLimits.maxHeaders"?',
      },
    );
  });

  it("serve() takes its options, undefined ones included", async () => {
    const options: ServeOptions = Object.fromEntries(
      SERVE_OPTION_NAMES.map((name) => [name, undefined]),
    );
    await using server = await serve(handler, { ...options, listen: false });
    assert.equal(server.address(), null);
  });

  it("server.close() rejects an unknown option, and keeps serving", async () => {
    await using server = await serve(handler, { listen: false });
    // @ts-expect-error: TypeScript rejects it at compile time.
    await assert.rejects(server.close({ cod: 1001 }), {
      name: "TypeError",
      message: 'unknown option "cod" for server.close(); did you mean "code"?',
    });
    assert.equal(server.isClosing, false);
    await server.close({ code: 1001, reason: undefined });
  });

  it("connect() rejects an unknown option before any I/O", async () => {
    await assert.rejects(
      // @ts-expect-error: TypeScript rejects it at compile time.
      connect(NOWHERE, { subprotocol: ["chat"], pingIntervall: 5 }),
      {
        name: "TypeError",
        message: 'unknown option "subprotocol" for connect(); did you mean "subprotocols"?',
      },
    );
    await assert.rejects(connect(NOWHERE, untyped({ pingIntervall: 5 })), {
      message: 'unknown option "pingIntervall" for connect(); did you mean "pingInterval"?',
    });
    await assert.rejects(connect(NOWHERE, untyped({ deflate: { Level: 1 } })), {
      message: 'unknown option "deflate.Level" for connect(); did you mean "deflate.level"?',
    });
    await assert.rejects(connect(NOWHERE, untyped({ initialDelay: 5 })), {
      message: 'unknown option "initialDelay" for connect()',
    });
    await assert.rejects(connect(NOWHERE, null as never), {
      name: "TypeError",
      message: "connect() takes an options object; got null",
    });
  });

  it("reconnect() rejects an unknown option before its first attempt", async () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    await assert.rejects(reconnect(NOWHERE, { initalDelay: 5 }).next(), {
      name: "TypeError",
      message: 'unknown option "initalDelay" for reconnect(); did you mean "initialDelay"?',
    });
    await assert.rejects(reconnect(NOWHERE, untyped({ pingIntervall: 5 })).next(), {
      message: 'unknown option "pingIntervall" for reconnect(); did you mean "pingInterval"?',
    });
    await assert.rejects(reconnect(NOWHERE, untyped({ httpLimits: { maxBodSize: 1 } })).next(), {
      message:
        'unknown option "httpLimits.maxBodSize" for reconnect(); did you mean "httpLimits.maxBodySize"?',
    });
  });

  it("backoffDelay() rejects an unknown option", () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    assert.throws(() => backoffDelay(1, { backoffFactr: 3 }), {
      name: "TypeError",
      message: 'unknown option "backoffFactr" for backoffDelay(); did you mean "backoffFactor"?',
    });
    assert.equal(
      backoffDelay(1, { initialDelay: 10, maxDelay: undefined }, () => 1),
      10,
    );
  });

  it("basicAuth() rejects an unknown option", () => {
    // @ts-expect-error: TypeScript rejects it at compile time.
    assert.throws(() => basicAuth({ credentials: { alice: "secret" }, relm: "chat" }), {
      name: "TypeError",
      message: 'unknown option "relm" for basicAuth(); did you mean "realm"?',
    });
  });
});
