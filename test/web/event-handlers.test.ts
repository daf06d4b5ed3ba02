/**
 * Event handler attributes (WHATWG HTML, "Event handlers") on a plain
 * EventTarget: where the handler runs among the listeners, what replacing
 * and removing it do, and which values count as no handler.
 * test/web/websocket.test.ts checks WebSocket's own `on…` attributes.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventHandlers } from "../../src/web/event-handlers.js";

/** A target with handler attributes, and a record of what ran. */
function setup() {
  const target = new EventTarget();
  const handlers = new EventHandlers(target);
  const calls: string[] = [];
  const listener = (name: string) => () => calls.push(name);
  const fire = (type = "message") => target.dispatchEvent(new Event(type));
  return { target, handlers, calls, listener, fire };
}

describe("EventHandlers", () => {
  it("has no handler until one is set, then calls it with the target as this and the event", () => {
    const { target, handlers, fire } = setup();
    assert.equal(handlers.get("message"), null);
    const seen: [unknown, string][] = [];
    const handler = function (this: unknown, event: Event) {
      seen.push([this, event.type]);
    };
    handlers.set("message", handler);
    assert.equal(handlers.get("message"), handler);
    fire();
    fire("other");
    assert.deepEqual(seen, [[target, "message"]]);
  });

  it("runs the handler where it was first set among the listeners, and keeps that place when replaced", () => {
    const { target, handlers, calls, listener, fire } = setup();
    target.addEventListener("message", listener("first"));
    handlers.set("message", listener("handler"));
    target.addEventListener("message", listener("last"));
    fire();
    handlers.set("message", listener("replaced"));
    fire();
    assert.deepEqual(calls, ["first", "handler", "last", "first", "replaced", "last"]);
  });

  it("removes the handler's listener on null, and adds it at the end when set again", () => {
    const { target, handlers, calls, listener, fire } = setup();
    handlers.set("message", listener("handler"));
    target.addEventListener("message", listener("listener"));
    handlers.set("message", null);
    assert.equal(handlers.get("message"), null);
    fire();
    handlers.set("message", listener("again"));
    fire();
    assert.deepEqual(calls, ["listener", "listener", "again"]);
  });

  it("treats values that are not functions as null", () => {
    const { handlers, calls, listener, fire } = setup();
    for (const value of ["calls.push('x')", 42, true, undefined, { handleEvent() {} }]) {
      handlers.set("message", listener("handler"));
      handlers.set("message", value);
      assert.equal(handlers.get("message"), null, String(value));
      fire();
    }
    // Nothing to remove: still nothing.
    handlers.set("message", "not a function");
    assert.equal(handlers.get("message"), null);
    fire();
    assert.deepEqual(calls, []);
  });

  it("keeps one handler per event type", () => {
    const { handlers, calls, listener, fire } = setup();
    const shared = listener("shared");
    handlers.set("open", shared);
    handlers.set("close", shared);
    handlers.set("message", listener("message"));
    handlers.set("close", null);
    fire("open");
    fire("close");
    fire("message");
    assert.equal(handlers.get("open"), shared);
    assert.equal(handlers.get("close"), null);
    assert.deepEqual(calls, ["shared", "message"]);
  });

  it("calls a function that is also a listener once as each", () => {
    const { target, handlers, calls, listener, fire } = setup();
    const both = listener("both");
    target.addEventListener("message", both);
    handlers.set("message", both);
    fire();
    assert.deepEqual(calls, ["both", "both"]);
  });

  it("calls the handler the attribute holds when its turn comes in a dispatch", () => {
    const { target, handlers, calls, listener, fire } = setup();
    target.addEventListener("message", () => handlers.set("message", listener("new")));
    handlers.set("message", listener("old"));
    fire();
    // A handler removed by an earlier listener of the same dispatch doesn't run.
    const other = setup();
    other.target.addEventListener("message", () => other.handlers.set("message", null));
    other.handlers.set("message", other.listener("removed"));
    other.fire();
    assert.deepEqual([calls, other.calls], [["new"], []]);
  });
});
