/**
 * Grades a case from what the fuzzer observed, the way the Autobahn
 * fuzzer does: a behavior (the events) and a close behavior (who closed,
 * how cleanly, with which code), then one verdict for the summary.
 *
 * Two rules are stricter than Autobahn's, and say so in their result text:
 * any protocol violation by the implementation fails the case, and so does
 * an implementation that had to fail the connection and never did (Autobahn
 * lets a client that hangs pass when the fuzzer is the server).
 *
 * @module
 */

import {
  Behavior,
  type CaseDefinition,
  type CaseVerdict,
  CloseBehavior,
  type Observation,
  sameObservations,
} from "./case.js";
import type { SessionResult } from "./session.js";

/** An observation as the report shows it: bytes as length and a hex preview. */
export type ObservationSummary =
  | { kind: "message"; binary: boolean; length: number; preview: string }
  | { kind: "ping" | "pong"; length: number; preview: string }
  | { kind: "timeout"; marker: string }
  | { kind: "violation"; detail: string };

/** One graded case, as the JSON report stores it. */
export interface CaseResult {
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  /** The summary's grade: the behavior, unless the close behavior failed. */
  readonly verdict: Behavior;
  readonly behavior: Behavior;
  readonly behaviorClose: CloseBehavior;
  readonly result: string;
  readonly resultClose: string;
  readonly durationMs: number;
  readonly reportTime: boolean;
  readonly observed: {
    readonly events: readonly ObservationSummary[];
    readonly closedByMe: boolean;
    readonly droppedByMe: boolean;
    readonly timedOut: boolean;
    readonly wasClean: boolean;
    readonly remoteCloseCode: number | null;
    readonly remoteCloseReason: string | null;
    readonly localCloseCode: number | null;
    readonly socketError: string | null;
  };
  readonly expected: Readonly<Record<string, readonly ObservationSummary[]>>;
  readonly expectedClose: CaseDefinition["close"];
}

const PREVIEW_BYTES = 16;

/** Summarizes an observation for the report. */
export function summarize(observation: Observation): ObservationSummary {
  switch (observation.kind) {
    case "message":
    case "ping":
    case "pong": {
      const { data } = observation;
      const preview =
        data.subarray(0, PREVIEW_BYTES).toString("hex") + (data.length > PREVIEW_BYTES ? "…" : "");
      return observation.kind === "message"
        ? { kind: "message", binary: observation.binary, length: data.length, preview }
        : { kind: observation.kind, length: data.length, preview };
    }
    default:
      return observation;
  }
}

/** A compact list of events: `[text 13 B, pong 12 B, timeout A]`. */
export function formatEvents(events: readonly ObservationSummary[]): string {
  const items = events.map((e) => {
    switch (e.kind) {
      case "message":
        return `${e.binary ? "binary" : "text"} ${e.length} B`;
      case "ping":
      case "pong":
        return `${e.kind} ${e.length} B`;
      case "timeout":
        return `timeout ${e.marker}`;
      default:
        return `violation: ${e.detail}`;
    }
  });
  return `[${items.join(", ")}]`;
}

/**
 * Grades one case. `fuzzerRole` is "client" when the implementation is a
 * server; `verdict` is what the case's own script decided, if anything.
 */
export function judge(
  definition: CaseDefinition,
  session: SessionResult,
  fuzzerRole: "client" | "server",
  verdict?: CaseVerdict,
): CaseResult {
  const observations = session.observations;
  let behavior: Behavior = Behavior.FAILED;
  let result = "The observed events differ from every expected outcome.";
  const observed = formatEvents(observations.map(summarize));
  const strict = definition.expected.OK;
  for (const [outcome, events] of Object.entries(definition.expected)) {
    if (events !== undefined && sameObservations(observations, events)) {
      behavior = outcome as Behavior;
      result =
        outcome === Behavior.OK || strict === undefined
          ? `Observed ${observed}, as expected.`
          : `Observed ${observed}; the strict outcome is ${formatEvents(strict.map(summarize))}.`;
      break;
    }
  }
  if (behavior === Behavior.FAILED && Object.keys(definition.expected).length > 0) {
    result = `Observed ${observed}, which no expected outcome matches.`;
  }
  if (verdict !== undefined) ({ behavior, result } = verdict);
  const violation = observations.find((o) => o.kind === "violation");
  if (violation !== undefined) {
    behavior = Behavior.FAILED;
    result = `The implementation broke the protocol: ${violation.detail}.`;
  }

  const expectedClose = definition.close;
  let behaviorClose: CloseBehavior = CloseBehavior.OK;
  let resultClose = "The connection was closed properly.";
  if (expectedClose.closedByMe !== session.closedByMe) {
    behaviorClose = CloseBehavior.FAILED;
    resultClose = "The closing handshake was started by the wrong endpoint.";
  } else if (!expectedClose.closedByMe && session.timedOut && session.remoteCloseCode === null) {
    // Stricter than Autobahn (see the module comment).
    behaviorClose = CloseBehavior.FAILED;
    resultClose = "The implementation never failed the connection; the fuzzer dropped it.";
  } else if (expectedClose.requireClean && !session.wasClean) {
    behaviorClose = CloseBehavior.UNCLEAN;
    resultClose = "The closing handshake should have completed before the TCP close.";
  } else if (
    session.remoteCloseCode !== null &&
    !expectedClose.codes.includes(session.remoteCloseCode)
  ) {
    behaviorClose = CloseBehavior.WRONG_CODE;
    resultClose = `The close code should have been ${expectedClose.codes.join(" or ")} or none.`;
  } else if (fuzzerRole === "client" && session.droppedByMe) {
    behaviorClose = CloseBehavior.FAILED_BY_CLIENT;
    resultClose = "The server should close the TCP connection (RFC 6455 §7.1.1).";
  }
  if (
    expectedClose.closedByWrongEndpointIsFatal &&
    expectedClose.closedByMe !== session.closedByMe
  ) {
    // The implementation did not see the invalid UTF-8 at all.
    behavior = Behavior.FAILED;
  }

  let overall: Behavior;
  if (definition.informational) {
    const answer =
      session.remoteCloseCode === null ? "no close code" : `close code ${session.remoteCloseCode}`;
    result = `Observed ${observed} and ${answer}.`;
    behavior = Behavior.INFORMATIONAL;
    behaviorClose = CloseBehavior.INFORMATIONAL;
    overall = Behavior.INFORMATIONAL;
  } else if (behavior === Behavior.FAILED || behaviorClose !== CloseBehavior.OK) {
    overall = Behavior.FAILED;
  } else {
    overall = behavior;
  }

  const expected: Record<string, ObservationSummary[]> = {};
  for (const [outcome, events] of Object.entries(definition.expected)) {
    if (events !== undefined) expected[outcome] = events.map(summarize);
  }
  return {
    id: definition.id,
    description: definition.description,
    expectation: definition.expectation,
    verdict: overall,
    behavior,
    behaviorClose,
    result,
    resultClose,
    durationMs: Math.round(session.durationMs),
    reportTime: definition.reportTime ?? false,
    observed: {
      events: observations.map(summarize),
      closedByMe: session.closedByMe,
      droppedByMe: session.droppedByMe,
      timedOut: session.timedOut,
      wasClean: session.wasClean,
      remoteCloseCode: session.remoteCloseCode,
      remoteCloseReason: session.remoteCloseReason,
      localCloseCode: session.localCloseCode,
      socketError: session.socketError,
    },
    expected,
    expectedClose,
  };
}
