/** CloseEvent and ErrorEvent; test/web/webidl.test.ts covers the conversions of their fields. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CloseEvent, ErrorEvent } from "../../src/web/events.js";

describe("CloseEvent", () => {
  it("is an Event with wasClean, code and reason", () => {
    const event = new CloseEvent("close", { wasClean: true, code: 4000, reason: "bye" });
    assert.ok(event instanceof Event);
    assert.equal(event.type, "close");
    assert.equal(event.wasClean, true);
    assert.equal(event.code, 4000);
    assert.equal(event.reason, "bye");
    assert.equal(Object.prototype.toString.call(event), "[object CloseEvent]");
    assert.equal(CloseEvent.name, "CloseEvent");
  });

  it("defaults to false, 0 and an empty reason", () => {
    const event = new CloseEvent("close");
    assert.deepEqual([event.wasClean, event.code, event.reason], [false, 0, ""]);
    assert.equal(event.bubbles, false);
    assert.equal(event.cancelable, false);
  });

  it("converts its fields as WebIDL does", () => {
    const event = new CloseEvent("x", { code: 65536 + 1001, reason: 5 as unknown as string });
    assert.equal(event.code, 1001);
    assert.equal(event.reason, "5");
    assert.equal(new CloseEvent("x", { wasClean: 1 as unknown as boolean }).wasClean, true);
  });

  it("converts null as WebIDL does, and needs a type", () => {
    assert.equal(new CloseEvent("x", { reason: null as unknown as string }).reason, "null");
    assert.throws(() => new (CloseEvent as unknown as new () => CloseEvent)(), TypeError);
  });

  it("has read-only fields", () => {
    const event = new CloseEvent("close", { code: 1000 });
    assert.throws(() => {
      (event as { code: number }).code = 3000;
    }, TypeError);
  });
});

describe("ErrorEvent", () => {
  it("is an Event with message and error", () => {
    const cause = new Error("boom");
    const event = new ErrorEvent("error", { message: "boom", error: cause });
    assert.ok(event instanceof Event);
    assert.equal(event.message, "boom");
    assert.equal(event.error, cause);
    assert.deepEqual([event.filename, event.lineno, event.colno], ["", 0, 0]);
    assert.equal(Object.prototype.toString.call(event), "[object ErrorEvent]");
  });

  it("converts null as WebIDL does, and needs a type", () => {
    const event = new ErrorEvent("x", {
      message: null as unknown as string,
      filename: null as unknown as string,
    });
    assert.deepEqual([event.message, event.filename], ["null", "null"]);
    assert.throws(() => new (ErrorEvent as unknown as new () => ErrorEvent)(), TypeError);
  });

  it("defaults to an empty message and an undefined error", () => {
    const event = new ErrorEvent("error");
    assert.equal(event.message, "");
    assert.equal(event.error, undefined);
  });
});

describe("CloseEvent and ErrorEvent: the interfaces", () => {
  it("have enumerable attributes, as WebIDL and browsers have them", () => {
    const close: string[] = [];
    for (const name in new CloseEvent("close", { code: 1000 })) close.push(name);
    for (const name of ["wasClean", "code", "reason", "type"])
      assert.ok(close.includes(name), name);
    const error: string[] = [];
    for (const name in new ErrorEvent("error")) error.push(name);
    for (const name of ["message", "filename", "lineno", "colno", "error", "type"]) {
      assert.ok(error.includes(name), name);
    }
    assert.equal(Object.prototype.toString.call(new CloseEvent("close")), "[object CloseEvent]");
    assert.equal(Object.prototype.toString.call(new ErrorEvent("error")), "[object ErrorEvent]");
  });
});
