import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import { Frame } from "../../src/core/frame.js";
import { Headers } from "../../src/core/headers.js";
import { Opcode } from "../../src/core/opcodes.js";
import { describeFrame, describeHead } from "../../src/core/trace.js";
import { hex, utf8 } from "../helpers/bytes.js";

describe("describeFrame", () => {
  it("quotes text and escapes what a terminal would act on", () => {
    assert.equal(describeFrame(new Frame(Opcode.TEXT, utf8("café"))), 'TEXT "café" [5 bytes]');
    assert.equal(
      describeFrame(new Frame(Opcode.TEXT, utf8("\x1b[2J\n"))),
      'TEXT "\\u001b[2J\\n" [5 bytes]',
    );
    assert.equal(describeFrame(new Frame(Opcode.TEXT, utf8("a"))), 'TEXT "a" [1 byte]');
    // DEL and the C1 controls, which JSON leaves alone: U+009B is CSI on its own.
    assert.equal(
      describeFrame(new Frame(Opcode.TEXT, utf8("\x7f\u009b31m"))),
      'TEXT "\\x7f\\x9b31m" [6 bytes]',
    );
    // A leading U+FEFF is part of the text, not a byte order mark to drop.
    assert.equal(
      describeFrame(new Frame(Opcode.TEXT, utf8("\ufeffa"))),
      'TEXT "\ufeffa" [4 bytes]',
    );
    assert.equal(
      describeFrame(new Frame(Opcode.PING, utf8("\ufeffa"))),
      'PING "\ufeffa" [4 bytes]',
    );
  });

  it("shows bytes in hexadecimal, and an empty payload as such", () => {
    assert.equal(
      describeFrame(new Frame(Opcode.BINARY, hex("00 01 ff"))),
      "BINARY 00 01 ff [3 bytes]",
    );
    assert.equal(
      describeFrame(new Frame(Opcode.BINARY, new Uint8Array(0))),
      "BINARY (empty) [0 bytes]",
    );
  });

  it("previews long payloads and still gives their whole length", () => {
    const text = describeFrame(new Frame(Opcode.TEXT, utf8("x".repeat(100))));
    assert.equal(text, `TEXT "${"x".repeat(48)}"… [100 bytes]`);
    const bytes = describeFrame(new Frame(Opcode.BINARY, new Uint8Array(100).fill(0xab)));
    assert.equal(bytes, `BINARY ${Array(24).fill("ab").join(" ")} … [100 bytes]`);
  });

  it("marks fragments that more follow", () => {
    assert.equal(
      describeFrame(new Frame(Opcode.TEXT, utf8("frag"), false)),
      'TEXT "frag" [4 bytes, continued]',
    );
    assert.equal(describeFrame(new Frame(Opcode.CONT, utf8("ment"))), 'CONT "ment" [4 bytes]');
  });

  it("shows continuation and control payloads as text when they decode, else as bytes", () => {
    assert.equal(
      describeFrame(new Frame(Opcode.CONT, hex("ff fe"), false)),
      "CONT ff fe [2 bytes, continued]",
    );
    assert.equal(describeFrame(new Frame(Opcode.PING, utf8("probe"))), 'PING "probe" [5 bytes]');
    assert.equal(describeFrame(new Frame(Opcode.PONG, hex("c3"))), "PONG c3 [1 byte]");
    // A text fragment that ends inside a character still shows what decodes.
    assert.match(describeFrame(new Frame(Opcode.TEXT, hex("63 61 66 c3"), false)), /^TEXT "caf/);
  });

  it("reads close frames: code, explanation, reason", () => {
    const close = new Close(1001, "restarting").serialize();
    assert.equal(
      describeFrame(new Frame(Opcode.CLOSE, close)),
      "CLOSE 1001 (going away) restarting [12 bytes]",
    );
    assert.equal(
      describeFrame(new Frame(Opcode.CLOSE, new Uint8Array(0))),
      "CLOSE 1005 (no status received [internal]) [0 bytes]",
    );
    // The reason can't forge a line or drive a terminal.
    assert.equal(
      describeFrame(
        new Frame(Opcode.CLOSE, new Close(1000, "bye\nX 1: < FORGED\x1b[31m").serialize()),
      ),
      "CLOSE 1000 (OK) bye\\x0aX 1: < FORGED\\x1b[31m [24 bytes]",
    );
    // A malformed close payload (1 byte) is shown as bytes.
    assert.equal(describeFrame(new Frame(Opcode.CLOSE, hex("03"))), "CLOSE 03 [1 byte]");
  });

  it("names an opcode it doesn't know by its number", () => {
    assert.equal(describeFrame(new Frame(0x3 as Opcode, hex("ff"))), "OPCODE 3 ff [1 byte]");
  });
});

describe("describeHead", () => {
  it("escapes the C1 controls that obs-text lets a field value hold, and tabs", () => {
    const headers = new Headers([["X-Note", "a\u009b31m\tb"]]);
    assert.deepEqual(describeHead("HTTP/1.1 400 Bad\u009bRequest", headers), [
      "HTTP/1.1 400 Bad\\x9bRequest",
      "X-Note: a\\x9b31m\\x09b",
    ]);
  });

  it("gives the start line, then each field, credentials redacted", () => {
    const headers = new Headers([
      ["Host", "example.com"],
      ["Authorization", "Bearer secret"],
      ["cookie", "session=secret"],
      ["Proxy-Authorization", "Basic c2VjcmV0"],
      ["Set-Cookie", "a=secret"],
      ["X-Trace", "abc"],
    ]);
    assert.deepEqual(describeHead("GET /chat HTTP/1.1", headers), [
      "GET /chat HTTP/1.1",
      "Host: example.com",
      "Authorization: [redacted]",
      "cookie: [redacted]",
      "Proxy-Authorization: [redacted]",
      "Set-Cookie: [redacted]",
      "X-Trace: abc",
    ]);
  });

  it("redacts the fields applications keep their keys and tokens in, not the handshake's", () => {
    const names = ["X-Api-Key", "X-Auth-Token", "x-session-id", "X-Client-Secret", "X-Signature"];
    const shown = [
      "Sec-WebSocket-Key",
      "Sec-WebSocket-Accept",
      "WWW-Authenticate",
      "Proxy-Authenticate",
      "X-Keyboard",
    ];
    const headers = new Headers([...names, ...shown].map((name): [string, string] => [name, "v"]));
    assert.deepEqual(describeHead("HTTP/1.1 101 Switching Protocols", headers).slice(1), [
      ...names.map((name) => `${name}: [redacted]`),
      ...shown.map((name) => `${name}: v`),
    ]);
  });

  it("redacts the user info and query values of a request target, not its path", () => {
    const head = (line: string) => describeHead(line, new Headers())[0];
    assert.equal(
      head("GET ws://user:pass@h/chat?token=t0k&room=1&eyJhbGc HTTP/1.1"),
      "GET ws://[redacted]@h/chat?token=[redacted]&room=[redacted]&[redacted] HTTP/1.1",
    );
    assert.equal(
      head("GET /chat?a=1&&b=2 HTTP/1.1"),
      "GET /chat?a=[redacted]&&b=[redacted] HTTP/1.1",
    );
    assert.equal(head("GET /chat?key=a=b HTTP/1.1"), "GET /chat?key=[redacted] HTTP/1.1");
    assert.equal(head("GET /chat HTTP/1.1"), "GET /chat HTTP/1.1");
    assert.equal(head("GET http://h:1/a@b HTTP/1.1"), "GET http://h:1/a@b HTTP/1.1");
    // The user info ends at the last "@" before the path, as URL parsers read it.
    assert.equal(head("GET ws://u:p@ss@h/ HTTP/1.1"), "GET ws://[redacted]@h/ HTTP/1.1");
    assert.equal(head("GET ws://u:p@ss@h?q HTTP/1.1"), "GET ws://[redacted]@h?[redacted] HTTP/1.1");
    // A status line's reason is the server's to choose, and no target.
    assert.equal(head("HTTP/1.1 400 Bad token=x"), "HTTP/1.1 400 Bad token=x");
    // A redirect's Location is redacted as a target is.
    const location = new Headers([["Location", "wss://u:p@h/next?token=t0k"]]);
    assert.deepEqual(describeHead("HTTP/1.1 302 Found", location), [
      "HTTP/1.1 302 Found",
      "Location: wss://[redacted]@h/next?token=[redacted]",
    ]);
  });
});
