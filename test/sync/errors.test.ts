/** Errors flattened on the worker thread and rebuilt on the caller's. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Close } from "../../src/core/close.js";
import {
  ConnectionClosedError,
  ConnectionClosedOK,
  InvalidHeader,
  InvalidStatus,
  InvalidUri,
  PayloadTooBig,
  TimeoutError,
} from "../../src/core/errors.js";
import { Headers } from "../../src/core/headers.js";
import { Request } from "../../src/core/request.js";
import { Response } from "../../src/core/response.js";
import { decodeValue, encodeValue, reviveError, serializeError } from "../../src/sync/errors.js";

/** What crossing threads does: flatten, structured-clone, rebuild. */
function roundTrip(error: unknown): Error {
  return reviveError(structuredClone(serializeError(error)));
}

describe("serializeError() and reviveError()", () => {
  it("rebuild library errors with their class, message, code and fields", () => {
    const response = new Response(
      403,
      "Forbidden",
      new Headers({ "X-Why": "no" }),
      Buffer.from("nope"),
    );
    const status = roundTrip(new InvalidStatus(response));
    assert.ok(status instanceof InvalidStatus);
    assert.equal(status.name, "InvalidStatus");
    assert.equal(status.code, "ERR_INVALID_STATUS");
    assert.equal(status.message, "server rejected WebSocket connection: HTTP 403");
    assert.ok(status.response instanceof Response);
    assert.equal(status.response.status, 403);
    assert.equal(status.response.headers.get("x-why"), "no");
    assert.equal(status.response.text, "nope");

    const header = roundTrip(new InvalidHeader("Upgrade", "h2c"));
    assert.ok(header instanceof InvalidHeader);
    assert.equal(header.header, "Upgrade");
    assert.equal(header.value, "h2c");

    const uri = roundTrip(new InvalidUri("http://x", "scheme isn't ws or wss"));
    assert.ok(uri instanceof InvalidUri);
    assert.equal(uri.why, "scheme isn't ws or wss");

    const tooBig = roundTrip(new PayloadTooBig("message over 1024 bytes"));
    assert.ok(tooBig instanceof PayloadTooBig);
    assert.equal(tooBig.closeCode, 1009);

    assert.ok(roundTrip(new TimeoutError("late")) instanceof TimeoutError);
  });

  it("rebuild closures with their close frames", () => {
    const error = roundTrip(
      new ConnectionClosedError(new Close(4001, "no"), new Close(4001, "no"), true),
    );
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.rcvd instanceof Close);
    assert.equal(error.closeCode, 4001);
    assert.equal(error.closeReason, "no");
    assert.equal(error.rcvdThenSent, true);
    assert.equal(error.message, "received 4001 (private use) no; then sent 4001 (private use) no");
    const ok = roundTrip(new ConnectionClosedOK(new Close(1000, ""), new Close(1000, ""), false));
    assert.ok(ok instanceof ConnectionClosedOK);
    assert.equal(ok.code, "ERR_CONNECTION_CLOSED_OK");
  });

  it("keep system errors' code, errno and syscall, and causes", () => {
    const system = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      errno: -111,
      code: "ECONNREFUSED",
      syscall: "connect",
      address: "127.0.0.1",
      port: 9,
    });
    const closed = new ConnectionClosedError(null, null, null, { cause: system });
    const error = roundTrip(closed) as ConnectionClosedError;
    const cause = error.cause as NodeJS.ErrnoException & { port: number };
    assert.ok(cause instanceof Error);
    assert.equal(cause.code, "ECONNREFUSED");
    assert.equal(cause.errno, -111);
    assert.equal(cause.syscall, "connect");
    assert.equal(cause.port, 9);
    assert.equal(Object.hasOwn(cause, "name"), false);
  });

  it("rebuild standard errors, aggregates and unknown classes", () => {
    const type = roundTrip(new TypeError("bad"));
    assert.ok(type instanceof TypeError);
    assert.equal(type.name, "TypeError");

    const aggregate = roundTrip(
      Object.assign(new AggregateError([new Error("v6"), new Error("v4")], "both failed"), {
        code: "ECONNREFUSED",
      }),
    ) as AggregateError & { code: string };
    assert.ok(aggregate instanceof AggregateError);
    assert.equal(aggregate.code, "ECONNREFUSED");
    assert.deepEqual(
      aggregate.errors.map((error: Error) => error.message),
      ["v6", "v4"],
    );

    class CustomError extends Error {
      override name = "CustomError";
    }
    const custom = roundTrip(new CustomError("mine"));
    assert.equal(custom.constructor, Error);
    assert.equal(custom.name, "CustomError");
    assert.equal(custom.message, "mine");
  });

  it("take thrown values that are not errors", () => {
    const error = roundTrip("a string");
    assert.ok(error instanceof Error);
    assert.equal(error.message, "a string");
  });

  it("start the stack at the given function", () => {
    function publicApi(): Error {
      return reviveError(serializeError(new TimeoutError("late")), publicApi);
    }
    const stack = String(publicApi().stack);
    assert.match(stack, /^TimeoutError: late\n/);
    assert.doesNotMatch(stack, /publicApi/);
    assert.match(stack, /errors\.test\.js/);
  });
});

describe("the stack of a cause", () => {
  it("is the one it had where it was thrown, not where it was rebuilt", () => {
    function failInWorker(): Error {
      return new TypeError("worker failure");
    }
    const cause = failInWorker();
    const wire = structuredClone(
      serializeError(new ConnectionClosedError(null, null, null, { cause })),
    );
    const error = reviveError(wire);
    const revived = error.cause as Error;
    assert.ok(revived instanceof TypeError);
    assert.equal(revived.stack, cause.stack);
    assert.match(String(revived.stack), /failInWorker/);
    assert.equal(Object.keys(revived).includes("stack"), false, "not enumerable, as usual");
    // The error itself starts where it was rebuilt.
    assert.doesNotMatch(String(error.stack), /failInWorker/);
  });
});

describe("encodeValue() and decodeValue()", () => {
  it("rebuild the library's objects and keep plain data", () => {
    const request = new Request("/chat", new Headers({ Host: "example.com" }));
    const decoded = decodeValue(structuredClone(encodeValue(request))) as Request;
    assert.ok(decoded instanceof Request);
    assert.equal(decoded.path, "/chat");
    assert.equal(decoded.headers.get("host"), "example.com");
    const headers = decodeValue(structuredClone(encodeValue(new Headers({ A: "1" }))));
    assert.ok(headers instanceof Headers);
    assert.deepEqual(decodeValue(structuredClone(encodeValue({ a: [1, "b"] }))), { a: [1, "b"] });
    assert.deepEqual(decodeValue(encodeValue([new Close(1000, ""), 2])), [new Close(1000, ""), 2]);
  });

  it("turns values that cannot be cloned into strings", () => {
    assert.equal(encodeValue(Symbol("s")), "Symbol(s)");
    assert.match(String(encodeValue(() => 1)), /=>/);
  });
});
