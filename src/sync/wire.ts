/**
 * What crosses between the caller's thread and the worker thread: commands
 * one way, reports the other, and how message payloads travel.
 *
 * Payloads are structured-cloned by `postMessage`: strings are copied once;
 * bytes travel as an `ArrayBuffer` in the transfer list, which moves the
 * memory instead of copying it. A buffer can only move whole, so bytes that
 * are a view on a larger buffer are first copied into one of their own.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import type { ReceivedBuffer } from "../node/messages.js";
import type { WireError, WireValue } from "./errors.js";

/** A message payload on the wire: text as a string, binary as its own `ArrayBuffer`. */
export type WireData = string | ArrayBuffer;

/** Caller → worker. */
export type Command =
  | {
      readonly type: "send";
      /** One message, or the fragments of one message. */
      readonly message: WireData | readonly WireData[];
      /** Bytes the worker acknowledges once the socket took them (for write backpressure). */
      readonly size: number;
      /**
       * `false` when the application sent the message with `{ compress: false }`:
       * the worker passes that on to the async client's `send()`.
       */
      readonly compress: boolean;
    }
  | { readonly type: "ping"; readonly id: number; readonly data: WireData | null }
  | { readonly type: "close"; readonly id: number; readonly code: number; readonly reason: string }
  /** The application took messages after the worker stalled: it may deliver more. */
  | { readonly type: "credit" };

/** An HTTP message of the opening handshake, as plain data. */
export interface WireHandshake {
  readonly request: {
    readonly path: string;
    readonly headers: readonly [string, string][];
    readonly method: string;
    readonly version: string;
  };
  readonly response: {
    readonly status: number;
    readonly reason: string;
    readonly headers: readonly [string, string][];
    readonly body: Uint8Array;
  };
}

/** Log levels of the `Logger` interface. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Worker → caller. */
export type Report =
  | ({
      readonly type: "open";
      readonly subprotocol: string | null;
      readonly localAddress: AddressInfo | null;
      readonly remoteAddress: AddressInfo | null;
    } & WireHandshake)
  | { readonly type: "failed"; readonly error: WireError }
  | { readonly type: "message"; readonly data: WireData }
  /**
   * The closing handshake started: a close frame was received or sent, or
   * the connection failed. Messages received before it may still follow.
   */
  | { readonly type: "closing" }
  /**
   * The TCP connection closed and every message received before was
   * reported; `error` is what `recv()` throws from now on.
   */
  | {
      readonly type: "closed";
      readonly code: number;
      readonly reason: string;
      readonly error: WireError;
    }
  | { readonly type: "reply"; readonly id: number; readonly value: number | null }
  | { readonly type: "replyError"; readonly id: number; readonly error: WireError }
  | {
      readonly type: "log";
      readonly level: LogLevel;
      readonly message: string;
      readonly details: readonly WireValue[];
    }
  /** The worker hit an unexpected error and is exiting. */
  | { readonly type: "crashed"; readonly error: WireError };

/**
 * An `ArrayBuffer` holding exactly `bytes`, which may be moved to another
 * thread: `bytes.buffer` itself when the view covers all of it and `owned`
 * says nobody else holds it, a copy otherwise.
 */
export function transferableBytes(bytes: Uint8Array, owned: boolean): ArrayBuffer {
  const buffer = bytes.buffer;
  if (
    owned &&
    // An empty view may share an empty buffer with others: moving it would detach theirs.
    bytes.byteLength > 0 &&
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  // The TypedArray constructor copies into a fresh ArrayBuffer; Buffer's own
  // slice() would not (it returns a view).
  return new Uint8Array(bytes).buffer;
}

/**
 * Turns a payload received from the other thread back into bytes or text:
 * the bytes are a view of the `ArrayBuffer` that was moved.
 */
export function unwireData(data: WireData): string | ReceivedBuffer {
  return typeof data === "string" ? data : Buffer.from(data);
}
