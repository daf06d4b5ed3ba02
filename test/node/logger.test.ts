/** The default and silent loggers, and which one a `logger` option designates. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultLogger, type Logger, resolveLogger, silentLogger } from "../../src/node/logger.js";

const LEVELS = ["error", "warn", "info", "debug"] as const;
const CONSOLE_METHODS = ["error", "warn", "info", "debug", "log"] as const;

describe("defaultLogger", () => {
  it("passes errors and warnings to console.error and console.warn, with their details", (t) => {
    const calls: [string, unknown[]][] = [];
    for (const method of CONSOLE_METHODS) {
      t.mock.method(console, method, (...args: unknown[]) => calls.push([method, args]));
    }
    const cause = new Error("boom");
    defaultLogger.error("handler failed", cause, { id: 1 });
    defaultLogger.warn("ping timed out");
    assert.deepEqual(calls, [
      ["error", ["handler failed", cause, { id: 1 }]],
      ["warn", ["ping timed out"]],
    ]);
  });

  it("drops info and debug records", (t) => {
    const calls: string[] = [];
    for (const method of CONSOLE_METHODS) {
      t.mock.method(console, method, () => calls.push(method));
    }
    defaultLogger.info("handshake rejected", 403);
    defaultLogger.debug("redirected");
    assert.deepEqual(calls, []);
  });
});

describe("silentLogger", () => {
  it("drops records of every level", (t) => {
    const calls: string[] = [];
    for (const method of CONSOLE_METHODS) {
      t.mock.method(console, method, () => calls.push(method));
    }
    for (const level of LEVELS) silentLogger[level]("nothing", new Error("hidden"));
    assert.deepEqual(calls, []);
  });
});

describe("resolveLogger()", () => {
  it("gives the default for undefined, silence for null, and any other logger as it is", () => {
    assert.equal(resolveLogger(undefined), defaultLogger);
    assert.equal(resolveLogger(null), silentLogger);
    const custom: Logger = { error() {}, warn() {}, info() {}, debug() {} };
    assert.equal(resolveLogger(custom), custom);
    assert.equal(resolveLogger(console), console);
  });

  it("refuses what lacks any of the four methods, naming those missing", () => {
    const cases: [unknown, string][] = [
      [5, "logger must be an object with error, warn, info and debug methods, or null; got 5"],
      [
        "console",
        'logger must be an object with error, warn, info and debug methods, or null; got "console"',
      ],
      [
        {},
        "logger must have error, warn, info and debug methods; error, warn, info, debug are missing",
      ],
      [
        { error() {}, warn() {}, info() {} },
        "logger must have error, warn, info and debug methods; debug is missing",
      ],
      [
        { error() {}, warn: "no", info() {}, debug: 1 },
        "logger must have error, warn, info and debug methods; warn, debug are missing",
      ],
    ];
    for (const [logger, message] of cases) {
      assert.throws(() => resolveLogger(logger as never), { name: "TypeError", message });
    }
    // A function with the methods, as some logging libraries export, is one.
    const callable = Object.assign(() => {}, { error() {}, warn() {}, info() {}, debug() {} });
    assert.equal(resolveLogger(callable as never), callable);
  });
});
