/** The default and silent loggers, and which one a `logger` option designates. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultLogger, type Logger, resolveLogger, silentLogger } from "../../src/node/logger.js";
import { warningsOf } from "../helpers/warnings.js";

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
  it("gives the default for undefined, silence for null, and passes records to any other", () => {
    assert.equal(resolveLogger(undefined), defaultLogger);
    assert.equal(resolveLogger(null), silentLogger);
    const calls: [string, unknown, string, unknown[]][] = [];
    const custom: Logger = {
      error(message, ...details) {
        calls.push(["error", this, message, details]);
      },
      warn(message, ...details) {
        calls.push(["warn", this, message, details]);
      },
      info(message, ...details) {
        calls.push(["info", this, message, details]);
      },
      debug(message, ...details) {
        calls.push(["debug", this, message, details]);
      },
    };
    const resolved = resolveLogger(custom);
    const cause = new Error("boom");
    for (const level of LEVELS) resolved[level](`a ${level} record`, cause, 7);
    // Called as methods of the application's logger: some loggers need `this`.
    assert.deepEqual(
      calls,
      LEVELS.map((level) => [level, custom, `a ${level} record`, [cause, 7]]),
    );
  });

  it("keeps a logger's exceptions from its callers, and reports the first as a warning", async () => {
    const records: string[] = [];
    let failing = true;
    const throwing: Logger = {
      error(message) {
        if (failing) throw new Error("destination closed");
        records.push(message);
      },
      warn() {
        throw "not an Error";
      },
      info() {
        throw new TypeError("bad format");
      },
      debug() {
        throw null;
      },
    };
    const warnings = await warningsOf(() => {
      const resolved = resolveLogger(throwing);
      for (const level of LEVELS) assert.doesNotThrow(() => resolved[level]("dropped"));
      failing = false;
      resolved.error("kept");
    });
    assert.deepEqual(records, ["kept"]);
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as NodeJS.ErrnoException).code, "WEBSOCKETS_TS_LOGGER_FAILED");
    assert.match(
      warnings[0]!.message,
      /the logger's error\(\) threw \(Error: destination closed\)/,
    );
  });

  it("reports a logger's failure once, however many times it is resolved", async () => {
    const throwing = () => {
      throw new Error("down");
    };
    const logger: Logger = { error: throwing, warn: throwing, info: throwing, debug: throwing };
    const warnings = await warningsOf(() => {
      // As each connect(), reconnection and server resolves its `logger` option.
      for (let i = 0; i < 3; i++) resolveLogger(logger).error("dropped");
    });
    assert.equal(resolveLogger(logger), resolveLogger(logger));
    assert.equal(warnings.length, 1);
  });

  it("reports an async logger method's rejection instead of leaving it unhandled", async () => {
    const rejecting = async () => {
      throw new Error("async destination closed");
    };
    const logger = { error: rejecting, warn: rejecting, info: rejecting, debug: rejecting };
    // The rejection settles in a microtask, before the warning's tick.
    const warnings = await warningsOf(() => resolveLogger(logger).warn("dropped"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /warn\(\) threw \(Error: async destination closed\)/);
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
    const records: string[] = [];
    const callable = Object.assign(() => {}, {
      error(message: string) {
        records.push(message);
      },
      warn() {},
      info() {},
      debug() {},
    });
    resolveLogger(callable as never).error("taken");
    assert.deepEqual(records, ["taken"]);
  });
});
