/**
 * What a conformance case is: what the fuzzer sends, what it expects back,
 * and how the connection should close. The vocabulary (expected outcomes per
 * behavior, `closedByMe`, `requireClean`, …) follows the Autobahn|Testsuite's
 * published case descriptions, so results read the same way.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { Agreement, DeflateOffer, ReceivedOffer } from "./deflate.js";
import type { FrameSpec } from "./wire.js";

/** How a case went, as Autobahn grades it. */
export const Behavior = {
  OK: "OK",
  NON_STRICT: "NON-STRICT",
  INFORMATIONAL: "INFORMATIONAL",
  UNIMPLEMENTED: "UNIMPLEMENTED",
  FAILED: "FAILED",
} as const;
/** One of {@link Behavior}'s values. */
export type Behavior = (typeof Behavior)[keyof typeof Behavior];

/** How the connection closed, as Autobahn grades it. */
export const CloseBehavior = {
  OK: "OK",
  INFORMATIONAL: "INFORMATIONAL",
  /** The wrong endpoint started the closing handshake (or nobody did). */
  FAILED: "FAILED",
  /** A clean closing handshake was required and did not happen. */
  UNCLEAN: "UNCLEAN",
  /** The implementation sent a close code outside the expected ones. */
  WRONG_CODE: "WRONG CODE",
  /** A server left it to the client to close the TCP connection. */
  FAILED_BY_CLIENT: "FAILED BY CLIENT",
} as const;
/** One of {@link CloseBehavior}'s values. */
export type CloseBehavior = (typeof CloseBehavior)[keyof typeof CloseBehavior];

/** Something the fuzzer observed, in order: what cases compare against. */
export type Observation =
  | { readonly kind: "message"; readonly binary: boolean; readonly data: Buffer }
  | { readonly kind: "ping"; readonly data: Buffer }
  | { readonly kind: "pong"; readonly data: Buffer }
  /** A wait elapsed with the connection still open (Autobahn's `("timeout", marker)`). */
  | { readonly kind: "timeout"; readonly marker: string }
  /** The implementation broke the protocol; any such event fails the case. */
  | { readonly kind: "violation"; readonly detail: string };

/** The outcomes a case accepts, each with the exact observations that earn it. */
export type Expected = Partial<Record<"OK" | "NON-STRICT", readonly Observation[]>>;

/** How the connection must close. */
export interface CloseExpectation {
  /** Whether the fuzzer, not the implementation, starts the closing handshake. */
  readonly closedByMe: boolean;
  /** Close codes the implementation may send (an empty close frame is always accepted). */
  readonly codes: readonly number[];
  /** Whether the closing handshake must complete before the TCP connection closes. */
  readonly requireClean: boolean;
  /**
   * Whether closing from the wrong endpoint fails the behavior too: for
   * invalid UTF-8, the implementation closing nothing means it did not see
   * the error at all.
   */
  readonly closedByWrongEndpointIsFatal?: boolean;
}

/** How the fuzzer writes bytes: Autobahn's `chopsize` and `sync`. */
export interface SendOptions {
  /** Writes the bytes in pieces of this size, yielding to the event loop between them. */
  readonly chopSize?: number;
  /** Writes the bytes on their own and yields to the event loop before the next write. */
  readonly sync?: boolean;
}

/** A received message handed to a case that reads messages itself (section 9). */
export interface ReceivedMessage {
  readonly binary: boolean;
  readonly data: Buffer;
}

/** A case's own judgement, for cases whose outcome is not a list of events. */
export interface CaseVerdict {
  readonly behavior: Behavior;
  readonly result: string;
}

/** The fuzzer's end of the connection, as case scripts see it. */
export interface Peer {
  /** The fuzzer's role: "client" when testing a server, "server" when testing a client. */
  readonly role: "client" | "server";
  /** Whether no close frame was sent or received yet and the TCP connection is up. */
  readonly isOpen: boolean;
  /** The permessage-deflate agreement, as the response header states it, or `null`. */
  readonly compression: string | null;
  /** Serializes a frame as this peer would (masked when it is a client). */
  encode(frame: FrameSpec): Buffer;
  /** Sends one frame. Without options, frames sent in the same tick leave in one write. */
  send(frame: FrameSpec, options?: SendOptions): Promise<void>;
  /** Sends raw bytes, e.g. a frame cut into parts. */
  sendRaw(bytes: Uint8Array, options?: SendOptions): Promise<void>;
  /** Sends a message, in frames of `fragmentSize` bytes when given. */
  sendMessage(
    payload: Uint8Array | string,
    options?: { binary?: boolean; fragmentSize?: number; compress?: boolean } & SendOptions,
  ): Promise<void>;
  /**
   * Starts the closing handshake with any code (even an invalid one) and any
   * reason bytes; without a code, the close frame is empty.
   */
  close(code?: number, reason?: Uint8Array | string): Promise<void>;
  /** Starts the closing handshake with a close frame carrying exactly `payload`. */
  closeWithPayload(payload: Uint8Array): Promise<void>;
  /**
   * Waits `ms` (times the run's time scale) or until the connection stops
   * being open. Returns whether it is still open; when it is and `marker` is
   * given, records `("timeout", marker)`.
   */
  wait(ms: number, marker?: string): Promise<boolean>;
  /**
   * Drops the TCP connection after `ms` if it is still up. Scaled like
   * {@link wait}, but never below 1 s (or `ms` if shorter): giving up on a
   * slow peer too early would fail it wrongly.
   */
  killAfter(ms: number): void;
  /** Starts the closing handshake (1000) after `ms`, if still open; scaled like {@link killAfter}. */
  closeAfter(ms: number): void;
  /** The next message received, or `null` once the connection closed. */
  nextMessage(): Promise<ReceivedMessage | null>;
}

/** How a case negotiates permessage-deflate, in Autobahn's terms. */
export interface DeflateNegotiation {
  /** What the fuzzing client offers. */
  readonly offers: readonly DeflateOffer[];
  /** How the fuzzing server answers a client's offers; `null` declines. */
  accept(offers: readonly ReceivedOffer[]): Agreement | null;
}

/** One conformance case. */
export interface CaseDefinition {
  /** Autobahn's case number, e.g. "6.4.1". */
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  /** Accepted outcomes; the first that matches the observations wins. */
  readonly expected: Expected;
  readonly close: CloseExpectation;
  /** Outcomes the specification leaves open: reported, never graded. */
  readonly informational?: boolean;
  /** Whether the duration is part of the result (section 9). */
  readonly reportTime?: boolean;
  /** Whether matching the expected outcome must not start the closing handshake. */
  readonly suppressClose?: boolean;
  /** permessage-deflate negotiation (sections 12 and 13); none when absent. */
  readonly deflate?: DeflateNegotiation;
  /** Plays the case; may return its own verdict. */
  run(peer: Peer): Promise<CaseVerdict | undefined>;
}

/** Observation builders, to write expectations compactly. */
export const observe = {
  text(data: Uint8Array | string): Observation {
    return { kind: "message", binary: false, data: toBuffer(data) };
  },
  binary(data: Uint8Array | string): Observation {
    return { kind: "message", binary: true, data: toBuffer(data) };
  },
  pong(data: Uint8Array | string = ""): Observation {
    return { kind: "pong", data: toBuffer(data) };
  },
  timeout(marker: string): Observation {
    return { kind: "timeout", marker };
  },
};

function toBuffer(data: Uint8Array | string): Buffer {
  return typeof data === "string"
    ? globalThis.Buffer.from(data, "utf8")
    : globalThis.Buffer.from(data);
}

/** RFC 6455 §7.4.1 codes the cases refer to. */
export const Code = {
  NORMAL: 1000,
  PROTOCOL_ERROR: 1002,
  INVALID_PAYLOAD: 1007,
} as const;

/** The fuzzer starts the closing handshake with 1000 and it must complete cleanly. */
export const CLEAN_CLOSE: CloseExpectation = {
  closedByMe: true,
  codes: [Code.NORMAL],
  requireClean: true,
};

/** The implementation must fail the connection with 1002, or drop it. */
export const FAIL_PROTOCOL: CloseExpectation = {
  closedByMe: false,
  codes: [Code.PROTOCOL_ERROR],
  requireClean: false,
};

/** The implementation must fail the connection with 1007 (invalid UTF-8), or drop it. */
export const FAIL_UTF8: CloseExpectation = {
  closedByMe: false,
  codes: [Code.INVALID_PAYLOAD],
  requireClean: false,
  closedByWrongEndpointIsFatal: true,
};

/** Whether two lists of observations are the same events with the same bytes, in order. */
export function sameObservations(
  actual: readonly Observation[],
  expected: readonly Observation[],
): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every((a, i) => sameObservation(a, expected[i]!));
}

function sameObservation(a: Observation, b: Observation): boolean {
  switch (a.kind) {
    case "message":
      return b.kind === "message" && a.binary === b.binary && a.data.equals(b.data);
    case "ping":
    case "pong":
      return b.kind === a.kind && a.data.equals(b.data);
    case "timeout":
      return b.kind === "timeout" && a.marker === b.marker;
    case "violation":
      return false;
  }
}
