import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_HOST, DEFAULT_PORT, parseCommand, UsageError } from "../../src/cli/args.js";

describe("parseCommand", () => {
  it("parses a URI as the client command", () => {
    assert.deepEqual(parseCommand(["ws://127.0.0.1:8001/path"]), {
      kind: "client",
      uri: "ws://127.0.0.1:8001/path",
    });
  });

  it("parses serve with defaults and options", () => {
    assert.deepEqual(parseCommand(["serve"]), {
      kind: "serve",
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
    });
    assert.deepEqual(DEFAULT_HOST, "127.0.0.1");
    assert.deepEqual(DEFAULT_PORT, 8001);
    assert.deepEqual(parseCommand(["serve", "--host", "::1", "--port=0"]), {
      kind: "serve",
      host: "::1",
      port: 0,
    });
    assert.deepEqual(parseCommand(["--port", "65535", "serve"]), {
      kind: "serve",
      host: DEFAULT_HOST,
      port: 65535,
    });
  });

  it("parses --help, -h and --version, which win over the rest", () => {
    assert.deepEqual(parseCommand(["--help"]), { kind: "help" });
    assert.deepEqual(parseCommand(["-h"]), { kind: "help" });
    assert.deepEqual(parseCommand(["serve", "--help"]), { kind: "help" });
    assert.deepEqual(parseCommand(["--version"]), { kind: "version" });
  });

  it("rejects invalid command lines", () => {
    const cases: [string[], RegExp][] = [
      [[], /^missing a URI or a command$/],
      [["--bogus"], /^Unknown option '--bogus'$/],
      [["-x"], /^Unknown option '-x'$/],
      [["serve", "--port"], /argument missing/],
      [["serve", "--port", "65536"], /^invalid port: 65536$/],
      [["serve", "--port", "-1"], /^Option '--port' argument is ambiguous$/],
      [["serve", "--port=-1"], /^invalid port: -1$/],
      [["serve", "--port", "80a"], /^invalid port: 80a$/],
      [["serve", "--port", ""], /^invalid port: $/],
      [["serve", "extra"], /^unexpected argument: extra$/],
      [["ws://a", "ws://b"], /^unexpected argument: ws:\/\/b$/],
      [["ws://a", "--port", "1"], /^--port only applies to serve$/],
      [["ws://a", "--host", "h"], /^--host only applies to serve$/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(
        () => parseCommand(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        JSON.stringify(argv),
      );
    }
  });
});
