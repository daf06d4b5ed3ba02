/**
 * Errors across threads. An error raised in the worker (an `InvalidStatus`,
 * an `ECONNREFUSED`, a `ConnectionClosedError`, …) is flattened to plain data
 * there and rebuilt on the caller's thread as an instance of the same class,
 * with the same message, `code` and fields, so `instanceof` and `error.code`
 * work exactly as with the async client. The stack is the caller's: that is
 * where the application needs to look. Its causes, and errors in forwarded
 * log records, keep the stack they had in the worker, which is where the
 * failure happened.
 *
 * Structured cloning alone would not do: it keeps only the standard error
 * classes and drops own properties such as `code`, `response` or `rcvd`.
 *
 * @module
 */

import { Close } from "../core/close.js";
import * as coreErrors from "../core/errors.js";
import { Headers } from "../core/headers.js";
import { Request } from "../core/request.js";
import { Response } from "../core/response.js";

/** An error as plain, cloneable data. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  /** Own enumerable properties: `code`, `errno`, `rcvd`, `response`, … */
  readonly fields: Readonly<Record<string, WireValue>>;
  readonly cause?: WireValue;
  /** The stack in the worker thread, when the error had one. */
  readonly stack?: string;
}

/**
 * A value as plain, cloneable data. Library objects travel as a {@link Tagged}
 * record, to be rebuilt; other values as they are, or as their string when
 * they cannot be cloned (functions, sockets, …).
 */
export type WireValue = unknown;

type HeaderList = readonly [string, string][];

/** A library object as plain data. */
type Tagged =
  | { readonly $wire: "error"; readonly error: WireError }
  | { readonly $wire: "close"; readonly code: number; readonly reason: string }
  | { readonly $wire: "headers"; readonly fields: HeaderList }
  | {
      readonly $wire: "request";
      readonly path: string;
      readonly headers: HeaderList;
      readonly method: string;
      readonly version: string;
    }
  | {
      readonly $wire: "response";
      readonly status: number;
      readonly reason: string;
      readonly headers: HeaderList;
      readonly body: Uint8Array;
    };

type ErrorClass = new (...args: never[]) => Error;

/** The classes an error may be rebuilt as, by name: the library's and the standard ones. */
const ERROR_CLASSES = new Map<string, ErrorClass>();
for (const value of Object.values(coreErrors)) {
  if (typeof value === "function" && value.prototype instanceof Error) {
    ERROR_CLASSES.set(value.name, value as unknown as ErrorClass);
  }
}
for (const standard of [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
]) {
  ERROR_CLASSES.set(standard.name, standard);
}

const OMITTED_FIELDS = new Set(["name", "message", "stack", "cause"]);

function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Encodes a value for `postMessage`, tagging the library objects it can rebuild. */
export function encodeValue(value: unknown): WireValue {
  let tagged: Tagged;
  if (value instanceof Error) tagged = { $wire: "error", error: serializeError(value) };
  else if (value instanceof Close)
    tagged = { $wire: "close", code: value.code, reason: value.reason };
  else if (value instanceof Headers) tagged = { $wire: "headers", fields: [...value] };
  else if (value instanceof Request) {
    const { path, method, version } = value;
    tagged = { $wire: "request", path, headers: [...value.headers], method, version };
  } else if (value instanceof Response) {
    const { status, reason, body } = value;
    tagged = { $wire: "response", status, reason, headers: [...value.headers], body };
  } else if (Array.isArray(value)) {
    return value.map(encodeValue);
  } else {
    return isCloneable(value) ? value : String(value);
  }
  return tagged;
}

function isTagged(value: unknown): value is Tagged {
  return typeof value === "object" && value !== null && "$wire" in value;
}

/** Rebuilds a value encoded by {@link encodeValue}. */
export function decodeValue(value: WireValue): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (!isTagged(value)) return value;
  switch (value.$wire) {
    case "error":
      return reviveNestedError(value.error);
    case "close":
      return new Close(value.code, value.reason);
    case "headers":
      return new Headers(value.fields);
    case "request":
      return new Request(value.path, new Headers(value.headers), value.method, value.version);
    case "response":
      return new Response(value.status, value.reason, new Headers(value.headers), value.body);
  }
}

/** Flattens an error (or any thrown value) to plain data. */
export function serializeError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, WireValue> = {};
  // Own names, not keys: some fields are not enumerable (AggregateError's `errors`).
  for (const key of Object.getOwnPropertyNames(error)) {
    if (!OMITTED_FIELDS.has(key))
      fields[key] = encodeValue((error as unknown as Record<string, unknown>)[key]);
  }
  const stack = typeof error.stack === "string" ? { stack: error.stack } : {};
  const wire: WireError = { name: error.name, message: error.message, fields, ...stack };
  return "cause" in error ? { ...wire, cause: encodeValue(error.cause) } : wire;
}

/**
 * Rebuilds an error flattened by {@link serializeError} as an instance of
 * its class (plain `Error` when the class is unknown here), with a stack
 * trace that starts at `stackStart`'s caller.
 */
export function reviveError(
  wire: WireError,
  // biome-ignore lint/complexity/noBannedTypes: captureStackTrace takes any function.
  stackStart: Function = reviveError,
): Error {
  const Class = ERROR_CLASSES.get(wire.name) ?? Error;
  const args: [string, ErrorOptions?] =
    wire.cause === undefined ? [wire.message] : [wire.message, { cause: decodeValue(wire.cause) }];
  // Constructing through Error rather than the class itself: each class's
  // constructor takes different arguments and composes its own message,
  // while the message and fields to restore are already known.
  const error = Reflect.construct(Error, args, Class) as Error;
  if (error.name !== wire.name) define(error, "name", wire.name);
  for (const [key, value] of Object.entries(wire.fields)) define(error, key, decodeValue(value));
  Error.captureStackTrace(error, stackStart);
  return error;
}

/**
 * Rebuilds an error found inside another value (a cause, a log record's
 * detail) with the stack it had in the worker: the caller's would only show
 * where the error was rebuilt.
 */
function reviveNestedError(wire: WireError): Error {
  const error = reviveError(wire);
  if (wire.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: wire.stack,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  return error;
}

/** Defines an own property the way a constructor's assignment would. */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}
