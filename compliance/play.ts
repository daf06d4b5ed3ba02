/**
 * Plays one case on an open connection and grades it: shared by the fuzzing
 * client and the fuzzing server.
 *
 * @module
 */

import { Behavior, type CaseDefinition, type CaseVerdict } from "./case.js";
import type { Agreement } from "./deflate.js";
import type { OpenedSocket } from "./handshake.js";
import { type CaseResult, judge } from "./judge.js";
import { Session, type SessionResult } from "./session.js";

/** Timing and limits of a run. */
export interface PlayOptions {
  /** Multiplies the cases' waits and timeouts; 1 plays them as Autobahn does. */
  readonly timeScale: number;
  /** Largest frame the fuzzer accepts from the implementation. */
  readonly maxPayload: number;
  /** Hard limit on one case, after which the connection is dropped. */
  readonly caseTimeoutMs: number;
}

/** Default {@link PlayOptions}. */
export const DEFAULT_PLAY_OPTIONS: PlayOptions = {
  timeScale: 1,
  maxPayload: 64 * 1024 * 1024,
  caseTimeoutMs: 150_000,
};

/**
 * Runs `definition` over `opened` with the fuzzer in `role`, and grades it.
 * `deflate` is the permessage-deflate agreement of the handshake, if any.
 */
export async function playCase(
  definition: CaseDefinition,
  opened: OpenedSocket,
  role: "client" | "server",
  options: PlayOptions,
  deflate: Agreement | null = null,
): Promise<CaseResult> {
  const session = new Session(opened, {
    role,
    timeScale: options.timeScale,
    maxPayload: options.maxPayload,
    expected: definition.expected,
    close: definition.close,
    suppressClose: definition.suppressClose ?? false,
    deflate,
  });
  const guard = setTimeout(() => session.abort(), options.caseTimeoutMs);
  let verdict: CaseVerdict | undefined;
  try {
    verdict = await definition.run(session);
  } catch (error) {
    verdict = { behavior: Behavior.FAILED, result: `The case script threw: ${String(error)}` };
    session.abort();
  }
  await session.finished;
  clearTimeout(guard);
  return judge(definition, session.result(), role, verdict);
}

/** The result of a case whose connection never opened. */
export function notOpened(
  definition: CaseDefinition,
  role: "client" | "server",
  reason: string,
): CaseResult {
  const session: SessionResult = {
    observations: [{ kind: "violation", detail: `no WebSocket connection: ${reason}` }],
    closedByMe: false,
    droppedByMe: false,
    timedOut: false,
    wasClean: false,
    remoteCloseCode: null,
    remoteCloseReason: null,
    localCloseCode: null,
    socketError: null,
    durationMs: 0,
  };
  const result = judge(definition, session, role);
  return { ...result, verdict: Behavior.FAILED, behavior: Behavior.FAILED };
}
